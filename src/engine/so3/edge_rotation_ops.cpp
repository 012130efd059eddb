#include "engine/so3/edge_rotation_ops.h"

#include "engine/so3/wigner.h"

namespace uma {

torch::Tensor l_index_of_m(torch::Device device) {
  return torch::tensor(std::vector<int64_t>(kLIndexOfM, kLIndexOfM + kNumCoefficients),
                       torch::TensorOptions().dtype(torch::kInt64)).to(device);
}

torch::Tensor gather_rotate_m(const torch::Tensor& x, const torch::Tensor& src, const torch::Tensor& dst,
                              const torch::Tensor& wigner_m) {
  auto pair = torch::cat({x.index_select(0, src), x.index_select(0, dst)}, 2);
  return torch::bmm(wigner_m, pair);
}

torch::Tensor rotate_back_scatter_m(const torch::Tensor& msg, const torch::Tensor& wigner_inv_m,
                                    const torch::Tensor& dst, int64_t n_atoms) {
  auto rotated = torch::bmm(wigner_inv_m, msg);
  auto out = torch::zeros({n_atoms, rotated.size(1), rotated.size(2)}, rotated.options());
  return out.index_add(0, dst, rotated);
}

torch::Tensor gather_rotate(const torch::Tensor& x, const torch::Tensor& src, const torch::Tensor& dst,
                            const torch::Tensor& wigner) {
  return gather_rotate_m(x, src, dst, wigner.index_select(1, l_index_of_m(wigner.device())));
}

torch::Tensor rotate_back_scatter(const torch::Tensor& msg, const torch::Tensor& wigner_inv,
                                  const torch::Tensor& dst, int64_t n_atoms) {
  return rotate_back_scatter_m(msg, wigner_inv.index_select(2, l_index_of_m(wigner_inv.device())), dst, n_atoms);
}

}  // namespace uma
