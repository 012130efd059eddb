// Host launchers of the fused edge geometry (edge_geometry_params.h). Pointers, sizes and a stream in; nothing
// Torch. Each checks its arguments (std::invalid_argument), enqueues one kernel on `stream` without synchronising,
// and checks cudaGetLastError (std::runtime_error with the kernel label and sizes). Instantiated for float and double.
#ifndef UMA_KERNELS_EDGE_GEOMETRY_LAUNCH_H
#define UMA_KERNELS_EDGE_GEOMETRY_LAUNCH_H

#include <cuda_runtime_api.h>

#include "edge_geometry_params.h"

namespace uma {
namespace kernels {

template <typename T>
void edge_geometry_fwd(const EdgeGeometryFwdParams<T>& p, cudaStream_t stream);

template <typename T>
void edge_geometry_bwd(const EdgeGeometryBwdParams<T>& p, cudaStream_t stream);

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_EDGE_GEOMETRY_LAUNCH_H
