// Host launchers of the fused LayerNorm + SiLU (layer_norm_silu_params.h). Pointers, sizes and a stream in; nothing
// Torch. Each checks its arguments (std::invalid_argument), enqueues one kernel on `stream` without synchronising or
// allocating (CUDA-graph capturable), and checks cudaGetLastError (std::runtime_error with the kernel label and
// sizes). Instantiated for float and double.
#ifndef UMA_KERNELS_LAYER_NORM_SILU_LAUNCH_H
#define UMA_KERNELS_LAYER_NORM_SILU_LAUNCH_H

#include <cuda_runtime_api.h>

#include "layer_norm_silu_params.h"

namespace uma {
namespace kernels {

template <typename T>
void layer_norm_silu_fwd(const LayerNormSiluFwdParams<T>& p, cudaStream_t stream);

template <typename T>
void layer_norm_silu_bwd(const LayerNormSiluBwdParams<T>& p, cudaStream_t stream);

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_LAYER_NORM_SILU_LAUNCH_H
