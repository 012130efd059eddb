// Host launchers of the fused equivariant RMS norm (rms_norm_sh_params.h). Pointers, sizes and a stream in; nothing
// Torch. Each checks its arguments (std::invalid_argument), enqueues one kernel on `stream` without synchronising or
// allocating (CUDA-graph capturable), and checks cudaGetLastError (std::runtime_error with the kernel label and
// sizes). Any channel count C > 0 is taken (C up to the register tiles' width on the fast path, rms_norm_sh.cu).
// Instantiated for float and double.
#ifndef UMA_KERNELS_RMS_NORM_SH_LAUNCH_H
#define UMA_KERNELS_RMS_NORM_SH_LAUNCH_H

#include <cuda_runtime_api.h>

#include "rms_norm_sh_params.h"

namespace uma {
namespace kernels {

template <typename T>
void rms_norm_sh_fwd(const RmsNormShFwdParams<T>& p, cudaStream_t stream);

template <typename T>
void rms_norm_sh_bwd(const RmsNormShBwdParams<T>& p, cudaStream_t stream);

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_RMS_NORM_SH_LAUNCH_H
