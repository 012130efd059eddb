// Host launcher of the Hopper (sm_90a) TF32 GEMM with operands rounded in registers (tf32_rs_wgmma_kernel.cuh):
// D = A op(B) + bias, B as weight rows (forward) or row-major (input gradient). Same parameter block as the
// split-TF32 GEMM. No synchronisation, no allocation, no workspace: CUDA-graph capturable. Deterministic (a fixed K
// order per output tile, no split-K, no atomics).
#ifndef UMA_KERNELS_GEMM_HOPPER_TF32_RS_WGMMA_LAUNCH_H
#define UMA_KERNELS_GEMM_HOPPER_TF32_RS_WGMMA_LAUNCH_H

#include <cuda_runtime_api.h>

#include "kernels/gemm/split_tf32_gemm_params.h"

namespace uma {
namespace kernels {
namespace hopper {

// Whether the kernel takes these operands: the alignment and size rules of split_tf32_gemm_supported (16-byte
// pointers, n, k and leading dimensions multiples of 4, below 2^31) and a compute-capability 9.0 device (the kernel
// exists only as sm_90a code).
bool tf32_gemm_rs_supported(const SplitTf32GemmParams& p);

// Enqueues the GEMM on `stream`. Throws std::invalid_argument for operands tf32_gemm_rs_supported refuses,
// std::runtime_error when the launch fails. m == 0 enqueues nothing.
void tf32_gemm_rs(const SplitTf32GemmParams& p, cudaStream_t stream);

}  // namespace hopper
}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_GEMM_HOPPER_TF32_RS_WGMMA_LAUNCH_H
