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

// Which kernel runs. kAuto is the mma.sync kernel (split_tf32_gemm_kernel.cuh) on every GPU: the Hopper wgmma
// kernel (hopper/, sm_90a) is as accurate but, as it stands, slower on the engine's shapes (H100: one layer's 18
// GEMMs 10.1 ms against 7.3 ms; benchmarks/results/2026-12-06-h100-wgmma-split.md), so it is only run when asked
// for (tests, benchmarks); asking for it on a GPU other than compute capability 9.0 throws std::invalid_argument.
// Each kernel is deterministic; the two agree to fp32 rounding.
enum class SplitTf32Kernel { kAuto, kMmaSync, kWgmma };

// Whether the current device can run the wgmma kernel (compute capability 9.0: H100, H200).
bool split_tf32_wgmma_available();

void split_tf32_gemm(const SplitTf32GemmParams& p, cudaStream_t stream,
                     SplitTf32Kernel kernel = SplitTf32Kernel::kAuto);

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_GEMM_SPLIT_TF32_GEMM_LAUNCH_H
