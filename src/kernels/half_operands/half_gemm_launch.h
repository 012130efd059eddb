// Host launcher of the Hopper (sm_90a) GEMM on TF32 values held in fp16 (half_gemm_params.h; the kernel:
// half_gemm_kernel.cuh, CUTLASS's TMA warp-specialized pipeline with f16 x f16 -> f32 wgmma). No synchronisation, no
// allocation, no workspace: CUDA-graph capturable. Deterministic (a fixed K order per output tile, no split-K).
#ifndef UMA_KERNELS_HALF_OPERANDS_HALF_GEMM_LAUNCH_H
#define UMA_KERNELS_HALF_OPERANDS_HALF_GEMM_LAUNCH_H

#include <cuda_runtime_api.h>

#include "half_gemm_params.h"

namespace uma {
namespace kernels {

// Whether the kernel takes these operands: the alignment rules of half_gemm_params.h, sizes below 2^31, alpha finite,
// and a compute-capability 9.0 device (the kernel exists only as sm_90a code).
bool half_gemm_supported(const HalfGemmParams& p);

// Enqueues the GEMM on `stream`. Throws std::invalid_argument for operands half_gemm_supported refuses (naming the
// rule), std::runtime_error when the launch fails. m == 0 enqueues nothing.
void half_gemm(const HalfGemmParams& p, cudaStream_t stream);

// The two instantiations (half_gemm_bias.cu, half_gemm_plain.cu: one translation unit each, compiled side by side
// with sm_90a flags in gemm/hopper/'s object library), called by half_gemm after its checks.
void half_gemm_bias(const HalfGemmParams& p, int sm_count, cudaStream_t stream);
void half_gemm_plain(const HalfGemmParams& p, int sm_count, cudaStream_t stream);

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_HALF_OPERANDS_HALF_GEMM_LAUNCH_H
