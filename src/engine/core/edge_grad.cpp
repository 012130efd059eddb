// Forces and the virial from the energy's gradient with respect to the edge vectors (engine.h): the engine
// differentiates with respect to the edge vectors only, and these sums turn that into per-atom forces and the
// system's virial, in fp64.
#include "engine/core/engine.h"

namespace uma {

torch::Tensor forces_from_edge_grad(const torch::Tensor& g, const torch::Tensor& src, const torch::Tensor& dst,
                                    int64_t n_atoms) {
  auto f = torch::zeros({n_atoms, 3}, g.options().dtype(torch::kFloat64));
  f.index_add_(0, dst, g);
  f.index_add_(0, src, -g);
  return f;
}

torch::Tensor virial_from_edge_grad(const torch::Tensor& vec, const torch::Tensor& g) {
  return -torch::einsum("ea,eb->ab", {vec.to(torch::kFloat64), g.to(torch::kFloat64)});
}

}  // namespace uma
