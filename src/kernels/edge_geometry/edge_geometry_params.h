// Parameter blocks of the fused edge geometry (fairchem escn_md.py: the per-edge Wigner-D matrices of the rotation
// that takes the edge direction onto +y, the polynomial envelope and the Gaussian distance basis), lmax = 2:
//   input   vec [E,3]: the edge vectors (target - source images, Å)
//   output  wigner         [E,9,9]  D = blockdiag(1, R, D2) in e3nn's L-major order (engine/so3/wigner.h)
//           wigner_inv_env [E,9,9]  D^T · env(|vec|)
//           gauss          [E,G]    exp(coeff · (|vec| - offset_g)^2)
// and the adjoint: the gradient of vec from those of the three outputs (any of them may be absent: zero).
// The per-edge maths is edge_geometry_math.h, shared by the CUDA kernels and the CPU reference.
// Plain structs: pointers and sizes; every tensor dense and row-major.
#ifndef UMA_KERNELS_EDGE_GEOMETRY_PARAMS_H
#define UMA_KERNELS_EDGE_GEOMETRY_PARAMS_H

#include <cstdint>

namespace uma {
namespace kernels {

constexpr int kGeometryCoefficients = 9;  // (lmax + 1)^2, lmax = 2

template <typename T>
struct EdgeGeometryConstants {
  T cutoff = 0;                 // envelope: r = |vec| / cutoff, env = 0 for r >= 1
  T gauss_coeff = 0;            // -1 / (2 width^2), < 0
  const T* offsets = nullptr;   // [G] Gaussian centres (on the device for the kernels)
  int64_t num_gaussians = 0;    // G, >= 1
};

template <typename T>
struct EdgeGeometryFwdParams {
  const T* vec = nullptr;       // [n_edges, 3]
  T* wigner = nullptr;          // [n_edges, 9, 9], written in full (zeros off the blocks)
  T* wigner_inv_env = nullptr;  // [n_edges, 9, 9], written in full
  T* gauss = nullptr;           // [n_edges, G]
  int64_t n_edges = 0;
  EdgeGeometryConstants<T> c;
};

template <typename T>
struct EdgeGeometryBwdParams {
  const T* vec = nullptr;                 // [n_edges, 3], the forward input
  const T* grad_wigner = nullptr;         // [n_edges, 9, 9] or nullptr (no gradient: zero)
  const T* grad_wigner_inv_env = nullptr; // [n_edges, 9, 9] or nullptr
  const T* grad_gauss = nullptr;          // [n_edges, G] or nullptr
  T* grad_vec = nullptr;                  // [n_edges, 3], written in full
  int64_t n_edges = 0;
  EdgeGeometryConstants<T> c;
};

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_EDGE_GEOMETRY_PARAMS_H
