// Host launcher of the split-precision fp32 GEMM (split_tf32_gemm_params.h). Pointers, sizes and a stream in;
// nothing Torch. Enqueues one kernel on `stream` without synchronising (CUDA-graph capturable: no workspace, no
// allocation) and checks the launch (std::runtime_error naming the sizes). Deterministic: no split-K, no atomics.
#ifndef UMA_KERNELS_GEMM_SPLIT_TF32_GEMM_LAUNCH_H
#define UMA_KERNELS_GEMM_SPLIT_TF32_GEMM_LAUNCH_H

#include <cuda_runtime_api.h>

#include "split_tf32_gemm_params.h"

namespace uma {
namespace kernels {

// Whether the kernel takes these operands (alignment, sizes below 2^31); if not, split_tf32_gemm throws
// std::invalid_argument and the caller should use another GEMM.
bool split_tf32_gemm_supported(const SplitTf32GemmParams& p);

void split_tf32_gemm(const SplitTf32GemmParams& p, cudaStream_t stream);

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_GEMM_SPLIT_TF32_GEMM_LAUNCH_H
