// CPU reference of the fused edge geometry; see edge_geometry_reference.h.
#include "edge_geometry_reference.h"

#include <stdexcept>
#include <string>

#include "edge_geometry_math.h"

namespace uma {
namespace kernels {
namespace {

template <typename T>
void check_constants(const EdgeGeometryConstants<T>& c, int64_t n_edges, const char* label) {
  if (n_edges < 0 || c.num_gaussians < 1 || !c.offsets || !(c.cutoff > T(0)))
    throw std::invalid_argument(std::string(label) + ": need n_edges >= 0, num_gaussians >= 1, offsets and cutoff > 0");
}

}  // namespace

template <typename T>
void edge_geometry_fwd_reference(const EdgeGeometryFwdParams<T>& p) {
  check_constants(p.c, p.n_edges, "edge_geometry_fwd_reference");
  if (p.n_edges > 0 && (!p.vec || !p.wigner || !p.wigner_inv_env || !p.gauss))
    throw std::invalid_argument("edge_geometry_fwd_reference: vec and all three outputs are required");
  constexpr int kD = kGeometryCoefficients * kGeometryCoefficients;
  const int64_t G = p.c.num_gaussians;
  for (int64_t e = 0; e < p.n_edges; ++e) {
    const T dist = geometry::edge_forward(p.vec + 3 * e, p.c.cutoff, p.wigner + kD * e, p.wigner_inv_env + kD * e);
    for (int64_t q = 0; q < G; ++q) p.gauss[G * e + q] = geometry::gaussian(dist, p.c.gauss_coeff, p.c.offsets[q]);
  }
}

template <typename T>
void edge_geometry_bwd_reference(const EdgeGeometryBwdParams<T>& p) {
  check_constants(p.c, p.n_edges, "edge_geometry_bwd_reference");
  if (p.n_edges > 0 && (!p.vec || !p.grad_vec))
    throw std::invalid_argument("edge_geometry_bwd_reference: vec and grad_vec are required");
  constexpr int kD = kGeometryCoefficients * kGeometryCoefficients;
  const int64_t G = p.c.num_gaussians;
  for (int64_t e = 0; e < p.n_edges; ++e)
    geometry::edge_backward(p.vec + 3 * e, p.grad_wigner ? p.grad_wigner + kD * e : nullptr,
                            p.grad_wigner_inv_env ? p.grad_wigner_inv_env + kD * e : nullptr,
                            p.grad_gauss ? p.grad_gauss + G * e : nullptr, p.c, p.grad_vec + 3 * e);
}

template void edge_geometry_fwd_reference<float>(const EdgeGeometryFwdParams<float>&);
template void edge_geometry_fwd_reference<double>(const EdgeGeometryFwdParams<double>&);
template void edge_geometry_bwd_reference<float>(const EdgeGeometryBwdParams<float>&);
template void edge_geometry_bwd_reference<double>(const EdgeGeometryBwdParams<double>&);

}  // namespace kernels
}  // namespace uma
