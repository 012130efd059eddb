// Host launchers of the fused edge gate (edge_gate_params.h). Pointers, sizes and a stream in; nothing Torch.
// Each checks its arguments (std::invalid_argument), enqueues one kernel on `stream` without synchronising, and
// checks cudaGetLastError (std::runtime_error with the kernel label and sizes). Instantiated for float and double.
#ifndef UMA_KERNELS_EDGE_GATE_LAUNCH_H
#define UMA_KERNELS_EDGE_GATE_LAUNCH_H

#include <cuda_runtime_api.h>

#include "edge_gate_params.h"

namespace uma {
namespace kernels {

template <typename T>
void edge_gate_fwd(const EdgeGateFwdParams<T>& p, cudaStream_t stream);

template <typename T>
void edge_gate_bwd(const EdgeGateBwdParams<T>& p, cudaStream_t stream);

template <typename T>
void edge_gate_factors(const EdgeGateFactorsParams<T>& p, cudaStream_t stream);

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_EDGE_GATE_LAUNCH_H
