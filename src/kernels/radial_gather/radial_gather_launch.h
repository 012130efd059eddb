// Host launcher of radial_gather (radial_gather_params.h): the radial MLP's last Linear and conv 1's gather + rotate
// in one kernel, fp32 with TF32 tensor-core products. Pointers, sizes and a stream in; nothing Torch.
// Enqueues on `stream` (no synchronisation); throws std::invalid_argument for what it does not take (C != 128, a
// hidden width not a multiple of 8 or above 128, a radial pointer, missing pointers, overlapping m-groups, a weight
// not 16-byte aligned, hidden, x, bias or the m-groups not 8-byte aligned) and
// std::runtime_error for a failed launch. Needs a compute-capability >= 8.0 GPU (mma.sync TF32).
#ifndef UMA_KERNELS_RADIAL_GATHER_LAUNCH_H
#define UMA_KERNELS_RADIAL_GATHER_LAUNCH_H

#include <cuda_runtime_api.h>

#include "radial_gather_params.h"

namespace uma {
namespace kernels {

void radial_gather(const RadialGatherParams& p, cudaStream_t stream);

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_RADIAL_GATHER_LAUNCH_H
