// The radial MLPs' first Linear split by its input (weights.h RadialMLPW::lin0_pair): radial_mlp on the Gaussian
// basis and the element pair of each edge equals radial_mlp on x_edge = [gauss | source_embedding[Z_src] |
// target_embedding[Z_dst]], the form fairchem runs, in value and in the gradient with respect to the Gaussians (the
// only x_edge part that depends on positions). The engine-level proof is test_fairchem_parity; this one isolates the
// identity with random weights and element pairs, also ones the bundled models never see.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "engine/nn/layers.h"
#include "engine/params/weights.h"

namespace {

struct Case {
  uma::RadialMLPW w;
  torch::Tensor source_embedding, target_embedding, gauss, z_src, z_dst, dy;
};

Case make_case(torch::Dtype dtype, int64_t E) {
  torch::manual_seed(11);
  const int64_t Z = 100, EC = 128, G = 32, hidden = 128, out = 6 * 128;
  auto o = torch::TensorOptions().dtype(dtype);
  Case c;
  c.w.lin0 = {torch::randn({hidden, G + 2 * EC}, o) / 17.0, 0.1 * torch::randn({hidden}, o)};
  c.w.lin3 = {torch::randn({hidden, hidden}, o) / 11.0, 0.1 * torch::randn({hidden}, o)};
  c.w.lin6 = {torch::randn({out, hidden}, o) / 11.0, 0.1 * torch::randn({out}, o)};
  c.w.norm1 = {1.0 + 0.2 * torch::randn({hidden}, o), 0.2 * torch::randn({hidden}, o)};
  c.w.norm4 = {1.0 + 0.2 * torch::randn({hidden}, o), 0.2 * torch::randn({hidden}, o)};
  c.source_embedding = torch::randn({Z, EC}, o);
  c.target_embedding = torch::randn({Z, EC}, o);
  uma::factor_radial_inputs(c.w, c.source_embedding, c.target_embedding);
  c.gauss = torch::rand({E, G}, o);
  c.z_src = torch::randint(0, Z, {E}, torch::kLong);
  c.z_dst = torch::randint(0, Z, {E}, torch::kLong);
  c.dy = torch::randn({E, out}, o);
  return c;
}

// Relative max-norm difference of the output and of the Gaussians' gradient, pair form vs x_edge form.
std::pair<double, double> pair_vs_x_edge(const Case& c, torch::Dtype dtype) {
  const uma::LayerTables t(dtype, torch::kCPU, uma::Fp32Gemm::strict);
  std::vector<torch::Tensor> res[2];
  for (int form = 0; form < 2; ++form) {
    auto g = c.gauss.clone().requires_grad_(true);
    torch::Tensor y;
    if (form == 0) {
      auto x_edge = torch::cat({g, c.source_embedding.index_select(0, c.z_src), c.target_embedding.index_select(0, c.z_dst)}, 1);
      y = uma::radial_mlp(x_edge, c.w, t);
    } else {
      y = uma::radial_mlp(g, c.z_src * c.source_embedding.size(0) + c.z_dst, c.w, t);
    }
    res[form] = {y.detach(), torch::autograd::grad({(y * c.dy).sum()}, {g})[0]};
  }
  auto rel = [](const torch::Tensor& a, const torch::Tensor& b) {
    return (a - b).abs().max().item<double>() / b.abs().max().item<double>();
  };
  return {rel(res[1][0], res[0][0]), rel(res[1][1], res[0][1])};
}

}  // namespace

// fp64: the same sums in another order (lin0's 288-term dot product becomes a 32-term one plus two 128-term ones made
// once per element); through two LayerNorms the difference stays a few ulps of the output scale, far below 1e-12.
TEST(RadialInputs, ElementPairTableEqualsXEdgeFp64) {
  const Case c = make_case(torch::kFloat64, 2003);
  const auto [value, grad] = pair_vs_x_edge(c, torch::kFloat64);
  EXPECT_LE(value, 1e-12);
  EXPECT_LE(grad, 1e-12);
}

// fp32: the pair table is computed in float64 and rounded once, the x_edge form rounds every partial sum in fp32, so
// they differ by fp32 rounding amplified by the LayerNorms (observed ~1e-6 relative); 2e-5 is 10x that and still far
// below any physical effect (the engine's fp32 parity bounds are 1e-5 eV/atom and 1e-4 eV/Å).
TEST(RadialInputs, ElementPairTableEqualsXEdgeFp32) {
  const Case c = make_case(torch::kFloat32, 2003);
  const auto [value, grad] = pair_vs_x_edge(c, torch::kFloat32);
  EXPECT_LE(value, 2e-5);
  EXPECT_LE(grad, 2e-5);
}

// A wrong pair index (source and target swapped) must be seen: the two embeddings differ, so does the output.
TEST(RadialInputs, SwappedElementPairIsDetected) {
  Case c = make_case(torch::kFloat64, 257);
  c.z_dst = (c.z_src + 1) % 100;  // src and dst always different elements
  const uma::LayerTables t(torch::kFloat64, torch::kCPU, uma::Fp32Gemm::strict);
  auto x_edge = torch::cat({c.gauss, c.source_embedding.index_select(0, c.z_src), c.target_embedding.index_select(0, c.z_dst)}, 1);
  auto right = uma::radial_mlp(x_edge, c.w, t);
  auto swapped = uma::radial_mlp(c.gauss, c.z_dst * 100 + c.z_src, c.w, t);
  EXPECT_GT((right - swapped).abs().max().item<double>(), 1e-3 * right.abs().max().item<double>());
}
