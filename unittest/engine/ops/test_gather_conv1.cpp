// The fused gather + conv-1's CPU reference (src/kernels/edge_block/: the truth the K1 kernel will be tested
// against) against the engine's unfused Torch form of the same work, which the fairchem parity tests prove:
// gather_rotate_m on P D, the conv-1 radial scale and so2_conv with fc_m0 (bias, gate logits) and the m = 1, 2
// weights [W1; W2] in their two-GEMM form, while the reference takes the one-GEMM block weights
// [[W1, -W2], [W2, W1]] built here: so the test also checks that layout. Then the TF32-operand form against the
// exact one, within the bound TF32 rounding allows.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "edge_block_test_support.h"
#include "engine/nn/layers.h"
#include "engine/so3/edge_rotation_ops.h"
#include "kernels/edge_block/gather_conv1_reference.h"

namespace {

namespace k = uma::kernels;
using edge_block_test::block_weight;
using edge_block_test::rel_diff;
constexpr int64_t kAtoms = 7, kEdges = 23, kC = 4, kH = 3;  // conv 1: input 2C per row, output H per row

struct Problem {
  torch::Tensor x, src, dst, wigner, radial;  // wigner [E,9,9] L-ordered (block-diagonal), radial [E,6,2C]
  torch::Tensor w0, b0, w1, w2;              // fc_m0 [5H, 3*2C] + bias; fc_m1 [W1; W2] [2*2H, 2*2C]; fc_m2 [2H, 2C]
};

Problem make_problem(torch::Dtype dtype) {
  torch::manual_seed(5);
  auto o = torch::TensorOptions().dtype(torch::kFloat64);
  Problem p;
  p.x = torch::randn({kAtoms, 9, kC}, o);
  p.src = torch::randint(0, kAtoms, {kEdges}, torch::kInt64);
  p.dst = torch::randint(0, kAtoms, {kEdges}, torch::kInt64);
  // Any block-diagonal matrices (the gather only multiplies by them): blocks 1, 3, 5 of random entries.
  p.wigner = torch::zeros({kEdges, 9, 9}, o);
  p.wigner.narrow(1, 0, 1).narrow(2, 0, 1).copy_(torch::randn({kEdges, 1, 1}, o));
  p.wigner.narrow(1, 1, 3).narrow(2, 1, 3).copy_(torch::randn({kEdges, 3, 3}, o));
  p.wigner.narrow(1, 4, 5).narrow(2, 4, 5).copy_(torch::randn({kEdges, 5, 5}, o));
  p.radial = torch::randn({kEdges, 6, 2 * kC}, o);
  p.w0 = torch::randn({5 * kH, 3 * 2 * kC}, o) * 0.3;
  p.b0 = torch::randn({5 * kH}, o);
  p.w1 = torch::randn({2 * 2 * kH, 2 * 2 * kC}, o) * 0.3;
  p.w2 = torch::randn({2 * kH, 2 * kC}, o) * 0.3;
  for (auto* t : {&p.x, &p.wigner, &p.radial, &p.w0, &p.b0, &p.w1, &p.w2}) *t = t->to(dtype);
  return p;
}

// The engine's Torch form: y0 (with the gate logits), y1, y2 flattened to [E, n_g].
std::vector<torch::Tensor> torch_form(const Problem& p) {
  auto msg = uma::split_m(uma::gather_rotate_m(p.x, p.src, p.dst, p.wigner.index_select(1, uma::l_index_of_m(torch::kCPU))));
  uma::MixedSO2Conv w;
  w.fc_m0.weight = p.w0;
  w.fc_m0.bias = p.b0;
  w.fc_m1.weight = p.w1;
  w.fc_m2.weight = p.w2;
  torch::Tensor gate, m0_with_gate;
  auto y = uma::so2_conv(msg, p.radial.reshape({kEdges, 6 * 2 * kC}), w, kH, 2 * kH, &gate, &m0_with_gate);
  return {m0_with_gate.contiguous(), y.m1.reshape({kEdges, -1}).contiguous(), y.m2.reshape({kEdges, -1}).contiguous()};
}

template <typename T>
std::vector<torch::Tensor> reference(const Problem& p, bool tf32_operands) {
  auto dtype = std::is_same<T, double>::value ? torch::kFloat64 : torch::kFloat32;
  auto x = p.x.contiguous(), wigner = p.wigner.contiguous(), radial = p.radial.contiguous();
  const torch::Tensor w[3] = {p.w0.contiguous(), block_weight(p.w1), block_weight(p.w2)};
  std::vector<torch::Tensor> y;
  k::GatherConv1Params<T> q;
  q.gather.x = x.data_ptr<T>();
  q.gather.src = p.src.data_ptr<int64_t>();
  q.gather.dst = p.dst.data_ptr<int64_t>();
  q.gather.wigner = wigner.data_ptr<T>();
  q.gather.radial = radial.data_ptr<T>();
  q.gather.n_atoms = kAtoms;
  q.gather.n_edges = kEdges;
  q.gather.channels = kC;
  for (int g = 0; g < 3; ++g) {
    EXPECT_EQ(w[g].size(1), k::gather_conv1_k(g, kC));
    y.push_back(torch::full({kEdges, w[g].size(0)}, -1.0, torch::TensorOptions().dtype(dtype)));
    q.weight[g] = w[g].data_ptr<T>();
    q.n[g] = w[g].size(0);
    q.y[g] = y.back().data_ptr<T>();
  }
  auto b0 = p.b0.contiguous();
  q.bias0 = b0.data_ptr<T>();
  q.tf32_operands = tf32_operands;
  k::gather_conv1_reference(q);
  return y;
}

}  // namespace

// fp64: the same sums in another order (the Torch form's GEMMs, the reference's serial loops), so 1e-12 of the
// largest output is generous; a wrong row, half, group or block sign is O(1). fp32: both round the message in fp32,
// then the reference sums in double: 1e-5 bounds fp32 rounding over sums of 24-48 terms.
TEST(GatherConv1, ReferenceMatchesTheEngineTorchForm) {
  for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
    const Problem p = make_problem(dtype);
    const auto want = torch_form(p);
    const auto got = dtype == torch::kFloat64 ? reference<double>(p, false) : reference<float>(p, false);
    const double tol = dtype == torch::kFloat64 ? 1e-12 : 1e-5;
    for (int g = 0; g < 3; ++g) {
      ASSERT_EQ(got[g].sizes(), want[g].sizes()) << "m = " << g;
      const double d = rel_diff(got[g], want[g]);
      std::printf("[gather conv1] %s m = %d: reference vs Torch form %.2e\n", dtype == torch::kFloat64 ? "fp64" : "fp32",
                  g, d);
      EXPECT_LE(d, tol) << "m = " << g;
    }
  }
}

// TF32 operands: each of A and W rounded to 10 mantissa bits (2^-11 relative each), so each product errs by at most
// (1 + 2^-11)^2 - 1 ~ 2^-10 of |a w|, and the output by that of sum |a||w| plus its own fp32 rounding (2^-24): 1.01 *
// 2^-10 holds both. The test checks that bound
// (computed from the exact operands) and that rounding did change the result (it is not the exact form again).
TEST(GatherConv1, Tf32OperandsStayWithinTheirBound) {
  const Problem p = make_problem(torch::kFloat32);
  const auto exact = reference<float>(p, false), tf32 = reference<float>(p, true);
  // sum |a||w| per output: the message's magnitudes through the exact fp64 path.
  Problem a = p;
  for (auto* t : {&a.x, &a.wigner, &a.radial, &a.w0, &a.b0, &a.w1, &a.w2}) *t = t->to(torch::kFloat64);
  auto msg = uma::join_m(uma::split_m(uma::gather_rotate_m(a.x, a.src, a.dst,
                                                            a.wigner.index_select(1, uma::l_index_of_m(torch::kCPU)))));
  msg = msg * a.radial.index_select(1, torch::tensor({0, 1, 2, 3, 4, 3, 4, 5, 5}, torch::kInt64));
  const torch::Tensor w[3] = {a.w0, block_weight(a.w1), block_weight(a.w2)};
  const int first[3] = {0, 3, 7}, rows[3] = {3, 4, 2};
  bool changed = false;
  for (int g = 0; g < 3; ++g) {
    auto A = msg.narrow(1, first[g], rows[g]).reshape({kEdges, -1}).abs();
    auto scale = torch::matmul(A, w[g].abs().t());
    if (g == 0) scale = scale + a.b0.abs();
    const auto err = (tf32[g].to(torch::kFloat64) - exact[g].to(torch::kFloat64)).abs();
    const double worst = (err / scale).max().item<double>();
    const double bound = 1.01 * std::ldexp(1.0, -10);
    std::printf("[gather conv1] tf32 operands m = %d: worst error / sum|a||w| = %.2e (bound %.2e)\n", g, worst, bound);
    EXPECT_LE(worst, bound) << "m = " << g;
    changed = changed || err.max().item<double>() > 0;
  }
  EXPECT_TRUE(changed) << "TF32 rounding changed nothing: the operands were not rounded";
}

TEST(GatherConv1, ReferenceRejectsMissingPieces) {
  const Problem p = make_problem(torch::kFloat64);
  k::GatherConv1Params<double> q;
  q.gather.n_atoms = kAtoms;
  q.gather.n_edges = 0;
  q.gather.channels = kC;
  EXPECT_THROW(k::gather_conv1_reference(q), std::invalid_argument);  // no weights
}
