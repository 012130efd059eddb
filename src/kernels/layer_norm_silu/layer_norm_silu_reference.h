// Plain C++ CPU reference of the fused LayerNorm + SiLU (layer_norm_silu_params.h; every pointer host memory),
// written from the formulas there with every sum and product in double (two passes for the statistics) and the
// results rounded to T once: the truth the GPU test compares against. Throws std::invalid_argument for bad sizes.
#ifndef UMA_KERNELS_LAYER_NORM_SILU_REFERENCE_H
#define UMA_KERNELS_LAYER_NORM_SILU_REFERENCE_H

#include "layer_norm_silu_params.h"

namespace uma {
namespace kernels {

template <typename T>
void layer_norm_silu_fwd_reference(const LayerNormSiluFwdParams<T>& p);

template <typename T>
void layer_norm_silu_bwd_reference(const LayerNormSiluBwdParams<T>& p);

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_LAYER_NORM_SILU_REFERENCE_H
