// Per-edge Wigner-D matrices for lmax = 2 (fairchem escn_md.py::_get_rotmat_and_wigner).
//
// For each edge direction u the rotation R maps u onto +y (e3nn convention: y is the polar axis).
// D = blockdiag(1, D1, D2) acts on real spherical-harmonic coefficients in e3nn's L-major order
// (l0; l1: x, y, z; l2: xz, xy, y^2-(x^2+z^2)/2, yz, (z^2-x^2)/2, up to e3nn's normalisation), with
// Y(R v) = D(R) Y(v). The roll about the edge axis is free: the network is exactly invariant to it
// (uma-model.md §3.4), so we fix one smooth choice per chart instead of fairchem's random roll.
#ifndef UMA_ENGINE_WIGNER_H
#define UMA_ENGINE_WIGNER_H

#include <torch/torch.h>

namespace uma {

constexpr int kNumCoefficients = 9;  // (lmax + 1)^2 for lmax = 2

// L-major index of the k-th M-major coefficient (fairchem CoefficientMapping for lmax = mmax = 2):
// (l0m0, l1m0, l2m0 | l1m+1, l2m+1 | l1m-1, l2m-1 | l2m+2 | l2m-2).
constexpr int kLIndexOfM[kNumCoefficients] = {0, 2, 6, 3, 7, 1, 5, 8, 4};

// Rotation matrices [E,3,3] with R u = +y for unit vectors u [E,3]; differentiable.
torch::Tensor edge_rotation_to_y(const torch::Tensor& unit);

// The five l = 2 real spherical harmonics as quadratic forms [5,3,3] (see wigner.cpp), made on the host:
// callers that evaluate repeatedly keep one copy on their device.
torch::Tensor l2_quadratic_forms(torch::TensorOptions options);

// Block-diagonal Wigner-D [E,9,9] (L-ordered rows and columns) of rotations R [E,3,3]. l2_forms:
// l2_quadratic_forms() in R's dtype and device; without it they are made (and copied) per call.
torch::Tensor wigner_from_rotation(const torch::Tensor& rotation, const torch::Tensor& l2_forms = torch::Tensor());

// Everything the network takes from the edge vectors (escn_md.py: Wigner-D, envelope, distance expansion).
struct EdgeGeometry {
  torch::Tensor wigner;          // [E,9,9] D(R(vec / |vec|))
  torch::Tensor wigner_inv_env;  // [E,9,9] D^T · PolynomialEnvelope(5)(|vec| / cutoff)
  torch::Tensor gauss;           // [E,G]   exp(gauss_coeff (|vec| - offsets_g)^2)
};

// The Torch form of EdgeGeometry for vec [E,3] (differentiable) and offsets [G]; fused_edge_geometry.h is the same
// as one CUDA kernel per direction.
EdgeGeometry edge_geometry(const torch::Tensor& vec, const torch::Tensor& offsets, double cutoff, double gauss_coeff,
                           const torch::Tensor& l2_forms = torch::Tensor());

}  // namespace uma

#endif
