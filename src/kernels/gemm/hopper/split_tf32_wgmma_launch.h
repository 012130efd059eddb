// Host launcher of the Hopper (sm_90a) split-TF32 GEMM kernel (split_tf32_wgmma_kernel.cuh). Called by
// ../split_tf32_gemm.cu when SplitTf32Kernel::kWgmma is asked for (not yet the default: see that launcher's header);
// same parameters, checks and guarantees as that launcher
// (../split_tf32_gemm_launch.h): no synchronisation, no allocation, CUDA-graph capturable, deterministic.
#ifndef UMA_KERNELS_GEMM_HOPPER_SPLIT_TF32_WGMMA_LAUNCH_H
#define UMA_KERNELS_GEMM_HOPPER_SPLIT_TF32_WGMMA_LAUNCH_H

#include <cuda_runtime_api.h>

#include "kernels/gemm/split_tf32_gemm_params.h"

namespace uma {
namespace kernels {
namespace hopper {

// p must satisfy split_tf32_gemm_supported; m > 0; the current device must have compute capability 9.0 (the
// kernel exists only as sm_90a code). Throws std::runtime_error when the launch fails.
void split_tf32_gemm_wgmma(const SplitTf32GemmParams& p, cudaStream_t stream);

}  // namespace hopper
}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_GEMM_HOPPER_SPLIT_TF32_WGMMA_LAUNCH_H
