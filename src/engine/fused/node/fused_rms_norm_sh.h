// The equivariant RMS norm of the node features (fairchem nn/layer_norm.py
// EquivariantRMSNormArraySphericalHarmonicsV2, lmax = 2; layers.h rms_norm_sh) as one fused CUDA kernel per direction
// (src/kernels/rms_norm_sh/rms_norm_sh_launch.h), wrapped as an autograd function on the current CUDA stream. Same
// maths as layers.h rms_norm_sh's Torch form; the backward recomputes the node statistics from the saved input and
// gives the input gradient only. Only built with UMA_ENABLE_CUDA; double backward is not supported (as the other
// fused ops).
#ifndef UMA_ENGINE_FUSED_RMS_NORM_SH_H
#define UMA_ENGINE_FUSED_RMS_NORM_SH_H

#include <torch/torch.h>

namespace uma {
namespace fused {

// x [N, 9, C] float32/float64 CUDA (any strides; nodes whose 9·C values are dense are read in place), weight [3, C],
// bias [C] and extra_bias [C] (a second row-0 bias added after `bias`) or undefined, all of x's dtype and device and
// none requiring grad (the kernels form no weight gradients; callers that train take the Torch form) → [N, 9, C],
// contiguous.
torch::Tensor rms_norm_sh(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                          const torch::Tensor& extra_bias, double eps);

}  // namespace fused
}  // namespace uma

#endif  // UMA_ENGINE_FUSED_RMS_NORM_SH_H
