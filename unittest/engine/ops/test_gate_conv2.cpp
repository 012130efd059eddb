// The fused gate + conv-2's CPU reference (src/kernels/edge_block/gate_conv2_reference.h: the truth the K2 kernel
// is tested against on a GPU) against the engine's unfused Torch form of the same work, which the fairchem parity
// tests prove: layers.h edge_gate on conv 1's output, then so2_conv with fc_m0 (bias) and the m = 1, 2 weights
// [W1; W2] in their two-GEMM form, while the reference takes the one-GEMM block weights [[W1, -W2], [W2, W1]] built
// here (so the layout is checked too). The reference reads the m = 0 rows and the gate logits from one padded
// [E, ld] block as conv 1's GEMM leaves them.
#include <gtest/gtest.h>

#include <vector>

#include "edge_block_test_support.h"
#include "engine/nn/layers.h"
#include "kernels/edge_block/gate_conv2_reference.h"

namespace {

namespace k = uma::kernels;
using edge_block_test::block_weight;
using edge_block_test::rel_diff;
constexpr int64_t kEdges = 19, kH = 4, kC = 3, kLd = 5 * kH + 2;  // conv 2: input H per row, output C per row

struct Problem {
  torch::Tensor m0g, m1, m2;  // m0g [E, kLd]: logits (2H), the m = 0 rows (3H), padding
  torch::Tensor w0, b0, w1, w2;  // fc_m0 [3C, 3H] + bias; fc_m1 [W1; W2] [2*2C, 2*2H]... see make_problem
};

Problem make_problem(torch::Dtype dtype) {
  torch::manual_seed(9);
  auto o = torch::TensorOptions().dtype(torch::kFloat64);
  Problem p;
  p.m0g = torch::randn({kEdges, kLd}, o) * 1.5;
  p.m1 = torch::randn({kEdges, 4, kH}, o);
  p.m2 = torch::randn({kEdges, 2, kH}, o);
  p.w0 = torch::randn({3 * kC, 3 * kH}, o) * 0.3;
  p.b0 = torch::randn({3 * kC}, o);
  p.w1 = torch::randn({2 * 2 * kC, 2 * kH}, o) * 0.3;  // [W1; W2], each [2C, 2H] on the (l1, l2) rows of one sign
  p.w2 = torch::randn({2 * kC, kH}, o) * 0.3;
  for (auto* t : {&p.m0g, &p.m1, &p.m2, &p.w0, &p.b0, &p.w1, &p.w2}) *t = t->to(dtype);
  return p;
}

// The engine's Torch form: y0, y1, y2 flattened to [E, n_g].
std::vector<torch::Tensor> torch_form(const Problem& p) {
  auto logits = p.m0g.narrow(1, 0, 2 * kH);
  uma::MGroups x{p.m0g.narrow(1, 2 * kH, 3 * kH).reshape({kEdges, 3, kH}), p.m1, p.m2};
  auto gated = uma::edge_gate(x, logits);
  uma::MixedSO2Conv w;
  w.fc_m0.weight = p.w0;
  w.fc_m0.bias = p.b0;
  w.fc_m1.weight = p.w1;
  w.fc_m2.weight = p.w2;
  auto y = uma::so2_conv(gated, torch::Tensor(), w, kC, 0, nullptr);
  return {y.m0.reshape({kEdges, -1}).contiguous(), y.m1.reshape({kEdges, -1}).contiguous(),
          y.m2.reshape({kEdges, -1}).contiguous()};
}

template <typename T>
std::vector<torch::Tensor> reference(const Problem& p, bool tf32_operands) {
  auto dtype = std::is_same<T, double>::value ? torch::kFloat64 : torch::kFloat32;
  auto m0g = p.m0g.contiguous(), m1 = p.m1.contiguous(), m2 = p.m2.contiguous(), b0 = p.b0.contiguous();
  const torch::Tensor w[3] = {p.w0.contiguous(), block_weight(p.w1), block_weight(p.w2)};
  std::vector<torch::Tensor> y;
  k::GateConv2Params<T> q;
  q.m0g = m0g.data_ptr<T>();
  q.ld = kLd;
  q.m1 = m1.data_ptr<T>();
  q.m2 = m2.data_ptr<T>();
  q.n_edges = kEdges;
  q.channels = kH;
  for (int g = 0; g < 3; ++g) {
    EXPECT_EQ(w[g].size(1), k::gate_conv2_k(g, kH));
    y.push_back(torch::full({kEdges, w[g].size(0)}, -1.0, torch::TensorOptions().dtype(dtype)));
    q.weight[g] = w[g].data_ptr<T>();
    q.n[g] = w[g].size(0);
    q.y[g] = y.back().data_ptr<T>();
  }
  q.bias0 = b0.data_ptr<T>();
  q.tf32_operands = tf32_operands;
  k::gate_conv2_reference(q);
  return y;
}

}  // namespace

// fp64: the same sums in another order, so 1e-12 of the largest output is generous; a wrong row, degree, logit
// column, group or block sign is O(1). fp32: both gate in fp32 (expf may differ by an ulp), then sum 12-16 terms;
// 1e-5 bounds that.
TEST(GateConv2, ReferenceMatchesTheEngineTorchForm) {
  for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
    const Problem p = make_problem(dtype);
    const auto want = torch_form(p);
    const auto got = dtype == torch::kFloat64 ? reference<double>(p, false) : reference<float>(p, false);
    const double tol = dtype == torch::kFloat64 ? 1e-12 : 1e-5;
    for (int g = 0; g < 3; ++g) {
      ASSERT_EQ(got[g].sizes(), want[g].sizes()) << "m = " << g;
      const double d = rel_diff(got[g], want[g]);
      std::printf("[gate conv2] %s m = %d: reference vs Torch form %.2e\n", dtype == torch::kFloat64 ? "fp64" : "fp32",
                  g, d);
      EXPECT_LE(d, tol) << "m = " << g;
    }
  }
}

// TF32 operands change the result (they are rounded) but by no more than ~2^-10 of the largest output's scale.
TEST(GateConv2, Tf32OperandsAreRoundedAndClose) {
  const Problem p = make_problem(torch::kFloat32);
  const auto exact = reference<float>(p, false), tf32 = reference<float>(p, true);
  bool changed = false;
  for (int g = 0; g < 3; ++g) {
    const double d = rel_diff(tf32[g], exact[g]);
    EXPECT_LE(d, 1e-2) << "m = " << g;  // ~2^-10 per product, 12-16 products per output: far inside 1e-2
    changed = changed || d > 0;
  }
  EXPECT_TRUE(changed) << "TF32 rounding changed nothing: the operands were not rounded";
}

TEST(GateConv2, ReferenceRejectsMissingPieces) {
  k::GateConv2Params<double> q;
  q.n_edges = 0;
  q.channels = kH;
  EXPECT_THROW(k::gate_conv2_reference(q), std::invalid_argument);  // no weights
}
