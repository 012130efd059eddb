// The per-edge geometry of atom_energies (engine/so3/wigner.h Wigner-D of the rotation onto +y, the polynomial envelope,
// the Gaussian distance basis: uma::EdgeGeometry) as one fused CUDA kernel per direction (src/kernels/edge_geometry/), wrapped as an
// autograd function on the current CUDA stream. Same maths as the Torch form in engine.cpp; only built with
// UMA_ENABLE_CUDA; double backward is not supported.
#ifndef UMA_ENGINE_FUSED_EDGE_GEOMETRY_H
#define UMA_ENGINE_FUSED_EDGE_GEOMETRY_H

#include <torch/torch.h>

#include "engine/so3/wigner.h"

namespace uma {
namespace fused {

// vec [E,3] float32/float64 on a CUDA device (differentiable); offsets [G] in its dtype and device.
EdgeGeometry edge_geometry(const torch::Tensor& vec, const torch::Tensor& offsets, double cutoff, double gauss_coeff);

}  // namespace fused
}  // namespace uma

#endif  // UMA_ENGINE_FUSED_EDGE_GEOMETRY_H
