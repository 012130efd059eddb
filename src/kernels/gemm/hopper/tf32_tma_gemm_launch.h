// Host launchers of the Hopper (sm_90a) TF32 GEMM D = A B^T (+ bias) (tf32_tma_gemm_kernel.cuh) in its two forms:
// tf32_gemm_tma_rna, A rounded into registers (the engine's tf32 mode on H100/H200 by default), and tf32_gemm_tma, A
// read truncated (UMA_TF32_GEMM=hopper, for A/B timings; engine/nn/fp32_gemm.cpp says why).
// Same parameter block as the split-TF32 GEMM, B as weight rows only. No synchronisation, no allocation, no
// workspace: CUDA-graph capturable. Deterministic (a fixed K order per output tile, no split-K, no atomics).
#ifndef UMA_KERNELS_GEMM_HOPPER_TF32_TMA_GEMM_LAUNCH_H
#define UMA_KERNELS_GEMM_HOPPER_TF32_TMA_GEMM_LAUNCH_H

#include <cuda_runtime_api.h>

#include "kernels/gemm/split_tf32_gemm_params.h"

namespace uma {
namespace kernels {
namespace hopper {

// Whether the kernel takes these operands: B as weight rows ([n][k], GemmBLayout::kWeightRows), the alignment and
// size rules of split_tf32_gemm_supported (16-byte pointers, n, k and leading dimensions multiples of 4, below 2^31),
// and a compute-capability 9.0 device (the kernel exists only as sm_90a code).
bool tf32_gemm_tma_supported(const SplitTf32GemmParams& p);

// Enqueues the GEMM on `stream`. Throws std::invalid_argument for operands tf32_gemm_tma_supported refuses,
// std::runtime_error when the launch fails. m == 0 enqueues nothing.
void tf32_gemm_tma(const SplitTf32GemmParams& p, cudaStream_t stream);

// The same GEMM with A rounded to TF32 (cvt.rna) on its way from shared memory into registers, the mainloop's A
// operand taken from registers (tf32_tma_gemm_kernel.cuh RoundingRsMainloop). B is read as stored: the caller passes
// B already rounded to TF32 (the engine rounds its GEMM weights once; engine/nn/tf32_weights.h), and then the
// products are exactly those of the rounded operands, as cuBLAS's TF32 kernels form them. Same rules and errors as
// tf32_gemm_tma (tf32_gemm_tma_supported says which operands it takes).
void tf32_gemm_tma_rna(const SplitTf32GemmParams& p, cudaStream_t stream);

// The current device's multiprocessor count, which sizes the persistent grid (one CTA per SM). Asked at every launch:
// one cudaDeviceGetAttribute, beside the TMA descriptors the launch encodes on the host anyway. Throws
// std::runtime_error naming `who` when it cannot be read.
int current_device_sms(const char* who);

// The product's four instantiations (tf32_tma_gemm_bias.cu, tf32_tma_gemm_plain.cu, tf32_tma_rna_gemm_bias.cu,
// tf32_tma_rna_gemm_plain.cu: one translation unit each, so that a parallel build compiles them side by side).
// Called by tf32_gemm_tma / tf32_gemm_tma_rna after their checks.
void tf32_gemm_tma_bias(const SplitTf32GemmParams& p, int sm_count, cudaStream_t stream);
void tf32_gemm_tma_plain(const SplitTf32GemmParams& p, int sm_count, cudaStream_t stream);
void tf32_gemm_tma_rna_bias(const SplitTf32GemmParams& p, int sm_count, cudaStream_t stream);
void tf32_gemm_tma_rna_plain(const SplitTf32GemmParams& p, int sm_count, cudaStream_t stream);
// tf32_gemm_tma on 64-row tiles (tf32_tma_narrow_gemm_bias.cu, tf32_tma_narrow_gemm_plain.cu), for problems with
// fewer 128 x 128 tiles than twice the SMs, where UMA_TF32_NARROW_TILES=1.
void tf32_gemm_tma_narrow_bias(const SplitTf32GemmParams& p, int sm_count, cudaStream_t stream);
void tf32_gemm_tma_narrow_plain(const SplitTf32GemmParams& p, int sm_count, cudaStream_t stream);

}  // namespace hopper
}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_GEMM_HOPPER_TF32_TMA_GEMM_LAUNCH_H
