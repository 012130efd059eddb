// Plain C++ CPU reference of the fused equivariant RMS norm (rms_norm_sh_params.h; every pointer host memory),
// written from the formulas there with every sum and product in double (the l = 0 mean first, then the centred
// squares) and the results rounded to T once: the truth the GPU test compares against. Throws std::invalid_argument
// for bad sizes.
#ifndef UMA_KERNELS_RMS_NORM_SH_REFERENCE_H
#define UMA_KERNELS_RMS_NORM_SH_REFERENCE_H

#include "rms_norm_sh_params.h"

namespace uma {
namespace kernels {

template <typename T>
void rms_norm_sh_fwd_reference(const RmsNormShFwdParams<T>& p);

template <typename T>
void rms_norm_sh_bwd_reference(const RmsNormShBwdParams<T>& p);

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_RMS_NORM_SH_REFERENCE_H
