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

// Which kernel runs: kAuto takes the Hopper wgmma kernel (hopper/) on a compute-capability 9.0 device and the
// mma.sync kernel (split_tf32_gemm_kernel.cuh, any sm_80+ GPU) elsewhere; the others force one (tests and
// benchmarks compare them; forcing kWgmma on another GPU throws std::invalid_argument). Same results to fp32
// rounding, each deterministic on its own.
enum class SplitTf32Kernel { kAuto, kMmaSync, kWgmma };

// The kernel kAuto picks on the current device.
SplitTf32Kernel split_tf32_gemm_kernel_for_device();

void split_tf32_gemm(const SplitTf32GemmParams& p, cudaStream_t stream,
                     SplitTf32Kernel kernel = SplitTf32Kernel::kAuto);

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_GEMM_SPLIT_TF32_GEMM_LAUNCH_H
