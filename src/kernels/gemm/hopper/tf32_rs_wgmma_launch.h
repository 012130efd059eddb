// Host launcher of the Hopper (sm_90a) TF32 GEMM with operands rounded in registers (tf32_rs_wgmma_kernel.cuh):
// D = A op(B) + bias, B as weight rows (forward) or row-major (input gradient). Same parameter block as the
// split-TF32 GEMM. No synchronisation, no allocation, no workspace: CUDA-graph capturable. Deterministic (a fixed K
// order per output tile, no split-K, no atomics).
#ifndef UMA_KERNELS_GEMM_HOPPER_TF32_RS_WGMMA_LAUNCH_H
#define UMA_KERNELS_GEMM_HOPPER_TF32_RS_WGMMA_LAUNCH_H

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/gemm/split_tf32_gemm_params.h"

namespace uma {
namespace kernels {
namespace hopper {

// The gate of K2's prologue: A's rows are the m-group `group` of conv 1's output (H = channels per row), and the
// gate logits of degree l >= 1 are columns [(l - 1) H, l H) of `logits` (conv 1's m = 0 output, row stride ld).
struct GateOperand {
  const float* logits = nullptr;
  int64_t ld = 0;
  int channels = 0;  // H, a multiple of the K step (32)
  int group = 0;     // 0, 1, 2
};

// Whether the kernel takes these operands: the alignment and size rules of split_tf32_gemm_supported (16-byte
// pointers, n, k and leading dimensions multiples of 4, below 2^31) and a compute-capability 9.0 device (the kernel
// exists only as sm_90a code).
bool tf32_gemm_rs_supported(const SplitTf32GemmParams& p);

// Enqueues the GEMM on `stream`. Throws std::invalid_argument for operands tf32_gemm_rs_supported refuses,
// std::runtime_error when the launch fails. m == 0 enqueues nothing.
void tf32_gemm_rs(const SplitTf32GemmParams& p, cudaStream_t stream);

// The same GEMM with A made by the edge gate from conv 1's output (K2's prologue; tf32_rs_wgmma_kernel.cuh):
// p.a the m-group's rows of conv 1's output ([m][k], k = rows * channels, row stride p.lda), B as weight rows.
// Throws std::invalid_argument for operands it cannot take (tf32_gemm_rs's rules, channels % 32, 16-byte aligned
// logits with ld % 4 == 0).
void tf32_gemm_rs_gated(const SplitTf32GemmParams& p, const GateOperand& gate, cudaStream_t stream);

}  // namespace hopper
}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_GEMM_HOPPER_TF32_RS_WGMMA_LAUNCH_H
