// The Wigner-D construction against its definition: R u = +y, D orthogonal, and Y(R v) = D Y(v) with
// e3nn's real spherical harmonics (the basis fairchem's D acts on), including directions near +-y.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/so3/edge_rotation_ops.h"
#include "engine/so3/wigner.h"

namespace {

// e3nn's real spherical harmonics up to l = 2 (unnormalised per degree; the relative scale inside a
// degree is what a rotation must preserve), in its L-major order.
torch::Tensor sh(const torch::Tensor& v) {
  auto x = v.select(1, 0), y = v.select(1, 1), z = v.select(1, 2);
  const double s3 = std::sqrt(3.0);
  return torch::stack({torch::ones_like(x), x, y, z, s3 * x * z, s3 * x * y, y * y - 0.5 * (x * x + z * z), s3 * y * z,
                       s3 / 2 * (z * z - x * x)}, 1);
}

torch::Tensor directions() {
  torch::manual_seed(7);
  auto u = torch::randn({200, 3}, torch::kFloat64);
  // Near and at the poles, where a careless construction is singular.
  auto poles = torch::tensor({{0.0, 1.0, 0.0}, {0.0, -1.0, 0.0}, {1e-9, 1.0, 0.0}, {1e-9, -1.0, 1e-9},
                              {1e-4, -1.0, 2e-4}, {0.01, 0.9999, 0.0}, {1.0, 0.0, 0.0}, {0.0, 1e-12, 1.0}},
                             torch::kFloat64);
  u = torch::cat({u, poles});
  return u / u.norm(2, 1, true);
}

}  // namespace

TEST(Wigner, RotationMapsEdgeOntoPlusY) {
  auto u = directions();
  auto R = uma::edge_rotation_to_y(u);
  auto y = torch::bmm(R, u.unsqueeze(2)).squeeze(2);
  auto target = torch::tensor({0.0, 1.0, 0.0}, torch::kFloat64).expand_as(y);
  // fp64 round-off of a 3x3 product of O(1) numbers.
  EXPECT_LT((y - target).abs().max().item<double>(), 1e-12);
  auto det = torch::linalg_det(R);
  EXPECT_LT((det - 1.0).abs().max().item<double>(), 1e-12);
}

TEST(Wigner, BlocksAreOrthogonal) {
  auto D = uma::wigner_from_rotation(uma::edge_rotation_to_y(directions()));
  auto I = torch::eye(9, torch::kFloat64).expand({D.size(0), 9, 9});
  EXPECT_LT((torch::bmm(D, D.transpose(1, 2)) - I).abs().max().item<double>(), 1e-12);
}

TEST(Wigner, RotatesSphericalHarmonicsOfAnyVector) {
  // Y(R v) = D(R) Y(v) for random v: D is the representation of R in e3nn's basis.
  auto R = uma::edge_rotation_to_y(directions());
  auto D = uma::wigner_from_rotation(R);
  torch::manual_seed(3);
  auto v = torch::randn({R.size(0), 3}, torch::kFloat64);
  auto lhs = sh(torch::bmm(R, v.unsqueeze(2)).squeeze(2));
  auto rhs = torch::bmm(D, sh(v).unsqueeze(2)).squeeze(2);
  EXPECT_LT((lhs - rhs).abs().max().item<double>(), 1e-10);
}

TEST(Wigner, EdgeDirectionHasOnlyMZeroComponents) {
  // D Y(u) = Y(+y): only the m = 0 coefficients (L-indices 0, 2, 6) survive.
  auto u = directions();
  auto D = uma::wigner_from_rotation(uma::edge_rotation_to_y(u));
  auto rotated = torch::bmm(D, sh(u).unsqueeze(2)).squeeze(2);
  auto expect = sh(torch::tensor({{0.0, 1.0, 0.0}}, torch::kFloat64)).expand_as(rotated);
  EXPECT_LT((rotated - expect).abs().max().item<double>(), 1e-10);
}

TEST(Wigner, GatherRotateMatchesDenseFormula) {
  // out[e,k] = (D_e x[src])[L(k)] and (D_e x[dst])[L(k)] in the second channel half.
  torch::manual_seed(11);
  const int64_t N = 5, C = 4;
  auto x = torch::randn({N, 9, C}, torch::kFloat64);
  auto src = torch::tensor({0, 3, 4}, torch::kInt64), dst = torch::tensor({1, 1, 2}, torch::kInt64);
  auto D = uma::wigner_from_rotation(uma::edge_rotation_to_y(directions().narrow(0, 0, 3)));
  auto out = uma::gather_rotate(x, src, dst, D);
  for (int64_t e = 0; e < 3; ++e)
    for (int k = 0; k < 9; ++k) {
      auto a = torch::matmul(D[e], x[src[e].item<int64_t>()])[uma::kLIndexOfM[k]];
      auto b = torch::matmul(D[e], x[dst[e].item<int64_t>()])[uma::kLIndexOfM[k]];
      EXPECT_LT((out[e][k].narrow(0, 0, C) - a).abs().max().item<double>(), 1e-14);
      EXPECT_LT((out[e][k].narrow(0, C, C) - b).abs().max().item<double>(), 1e-14);
    }
}

TEST(Wigner, RotateBackScatterInvertsGatherForUnitEnvelope) {
  // With Winv = D^T, rotating an edge message back undoes gather_rotate's rotation (P then P^T).
  torch::manual_seed(5);
  const int64_t N = 3, C = 2;
  auto x = torch::randn({N, 9, C}, torch::kFloat64);
  auto src = torch::tensor({0, 1, 2}, torch::kInt64), dst = torch::tensor({0, 1, 2}, torch::kInt64);
  auto D = uma::wigner_from_rotation(uma::edge_rotation_to_y(directions().narrow(0, 10, 3)));
  auto m = uma::gather_rotate(x, src, dst, D).narrow(2, 0, C);
  auto back = uma::rotate_back_scatter(m, D.transpose(1, 2), dst, N);
  EXPECT_LT((back - x).abs().max().item<double>(), 1e-13);
}
