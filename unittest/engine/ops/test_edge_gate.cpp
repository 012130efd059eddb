// The fused edge gate (src/kernels/edge_gate/: the CPU reference, and on a GPU the CUDA kernels through
// uma::fused::edge_gate) against the Torch form of layers.h edge_gate, which the fairchem parity tests prove:
// forward outputs and the gradients of all inputs (autograd of the Torch form vs the hand-written adjoint).
// The GPU case skips without a CUDA device (as on CI).
#include <gtest/gtest.h>

#include <vector>

#include "engine/nn/layers.h"
#include "kernels/edge_gate/edge_gate_reference.h"
#ifdef UMA_HAVE_CUDA_KERNELS
#include <torch/cuda.h>

#include "engine/fused/edge/fused_edge_gate.h"
#endif

namespace {

constexpr int64_t kEdges = 37, kH = 6, kPad = 3;  // m0_with_gate rows padded: ld = 5H + 3 exercises the stride

struct Inputs {
  torch::Tensor m0g_storage, m0g, m1, m2;  // m0g: [E, 5H] view with row stride 5H + pad
  torch::Tensor g0, g1, g2;                // cotangents of the three outputs
};

Inputs make_inputs(torch::Dtype dtype, torch::Device device) {
  torch::manual_seed(11);
  auto o = torch::TensorOptions().dtype(torch::kFloat64);
  Inputs in;
  in.m0g_storage = (2.5 * torch::randn({kEdges, 5 * kH + kPad}, o)).to(device, dtype);
  in.m0g = in.m0g_storage.narrow(1, 0, 5 * kH);
  in.m1 = torch::randn({kEdges, 4, kH}, o).to(device, dtype);
  in.m2 = torch::randn({kEdges, 2, kH}, o).to(device, dtype);
  in.g0 = torch::randn({kEdges, 3, kH}, o).to(device, dtype);
  in.g1 = torch::randn({kEdges, 4, kH}, o).to(device, dtype);
  in.g2 = torch::randn({kEdges, 2, kH}, o).to(device, dtype);
  return in;
}

// The Torch form: outputs and the gradients of (m0_with_gate, m1, m2) for the cotangents.
std::vector<torch::Tensor> torch_form(const Inputs& in) {
  auto m0g = in.m0g.detach().clone().requires_grad_(true);
  auto m1 = in.m1.detach().clone().requires_grad_(true);
  auto m2 = in.m2.detach().clone().requires_grad_(true);
  uma::MGroups x{m0g.narrow(1, 2 * kH, 3 * kH).view({kEdges, 3, kH}), m1, m2};
  auto out = uma::edge_gate(x, m0g.narrow(1, 0, 2 * kH));
  auto loss = (out.m0 * in.g0).sum() + (out.m1 * in.g1).sum() + (out.m2 * in.g2).sum();
  auto grads = torch::autograd::grad({loss}, {m0g, m1, m2});
  return {out.m0.detach(), out.m1.detach(), out.m2.detach(), grads[0], grads[1], grads[2]};
}

double rel_diff(const torch::Tensor& got, const torch::Tensor& want) {
  return ((got.to(torch::kCPU, torch::kFloat64) - want.to(torch::kCPU, torch::kFloat64)).abs().max() /
          want.abs().max().to(torch::kCPU, torch::kFloat64))
      .item<double>();
}

const char* kNames[6] = {"out m0", "out m1", "out m2", "grad m0_with_gate", "grad m1", "grad m2"};

}  // namespace

// fp64: the same products in a different order (and exp of the same arguments): a few ulps, 1e-13 relative.
TEST(EdgeGate, ReferenceMatchesTorchForm) {
  const auto in = make_inputs(torch::kFloat64, torch::kCPU);
  const auto want = torch_form(in);
  auto m1 = in.m1.contiguous(), m2 = in.m2.contiguous(), g0 = in.g0.contiguous(), g1 = in.g1.contiguous(),
       g2 = in.g2.contiguous();
  auto o0 = torch::empty({kEdges, 3, kH}, torch::kFloat64), o1 = torch::empty_like(m1), o2 = torch::empty_like(m2);
  auto d0 = torch::full({kEdges, 5 * kH}, NAN, torch::kFloat64), d1 = torch::full_like(m1, NAN),
       d2 = torch::full_like(m2, NAN);
  uma::kernels::EdgeGateFwdParams<double> f;
  f.m0g = in.m0g.data_ptr<double>(); f.ld = in.m0g.stride(0); f.m1 = m1.data_ptr<double>(); f.m2 = m2.data_ptr<double>();
  f.out0 = o0.data_ptr<double>(); f.out1 = o1.data_ptr<double>(); f.out2 = o2.data_ptr<double>();
  f.n_edges = kEdges; f.channels = kH;
  uma::kernels::edge_gate_fwd_reference(f);
  uma::kernels::EdgeGateBwdParams<double> b;
  b.grad_out0 = g0.data_ptr<double>(); b.grad_out1 = g1.data_ptr<double>(); b.grad_out2 = g2.data_ptr<double>();
  b.m0g = f.m0g; b.ld = f.ld; b.m1 = f.m1; b.m2 = f.m2;
  b.grad_m0g = d0.data_ptr<double>(); b.grad_m1 = d1.data_ptr<double>(); b.grad_m2 = d2.data_ptr<double>();
  b.n_edges = kEdges; b.channels = kH;
  uma::kernels::edge_gate_bwd_reference(b);
  const torch::Tensor got[6] = {o0, o1, o2, d0, d1, d2};
  for (int i = 0; i < 6; ++i) EXPECT_LE(rel_diff(got[i], want[i]), 1e-13) << kNames[i];
  f.ld = 5 * kH - 1;  // a row stride shorter than the rows
  EXPECT_THROW(uma::kernels::edge_gate_fwd_reference(f), std::invalid_argument);
}

// The gate factors of K2 on the TMA host (EdgeGateFactorsParams): every gated output is its input times the factor of
// its degree, so input x factor must give the Torch form's outputs (fp64: one product and one exp, 1e-13 as above).
// A factor of the wrong degree or logit column is O(1) off.
TEST(EdgeGate, FactorsReproduceTheTorchFormOutputs) {
  const auto in = make_inputs(torch::kFloat64, torch::kCPU);
  const auto want = torch_form(in);
  auto f = torch::full({kEdges, 3, kH}, NAN, torch::kFloat64);
  uma::kernels::EdgeGateFactorsParams<double> p;
  p.m0g = in.m0g.data_ptr<double>(); p.ld = in.m0g.stride(0); p.factors = f.data_ptr<double>();
  p.n_edges = kEdges; p.channels = kH;
  uma::kernels::edge_gate_factors_reference(p);
  using torch::indexing::Slice;
  const auto m0 = in.m0g.narrow(1, 2 * kH, 3 * kH).reshape({kEdges, 3, kH});
  const auto deg1 = f.index({Slice(), torch::tensor({1, 2, 1, 2})});  // kGateDegreeOfM1Row
  const auto deg2 = f.index({Slice(), torch::tensor({2, 2})});
  EXPECT_LE(rel_diff(m0 * f, want[0]), 1e-13) << kNames[0];
  EXPECT_LE(rel_diff(in.m1 * deg1, want[1]), 1e-13) << kNames[1];
  EXPECT_LE(rel_diff(in.m2 * deg2, want[2]), 1e-13) << kNames[2];
  p.ld = 5 * kH - 1;
  EXPECT_THROW(uma::kernels::edge_gate_factors_reference(p), std::invalid_argument);
}

#ifdef UMA_HAVE_CUDA_KERNELS
// The CUDA kernels through the autograd wrapper, fp64 (1e-13 as above) and fp32 (unit round-off 6e-8 times a
// handful of operations per output, and exp: 1e-6 relative to the largest entry).
TEST(EdgeGate, FusedCudaMatchesTorchForm) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device present";
  for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
    const auto in = make_inputs(dtype, torch::Device(torch::kCUDA, 0));
    const auto want = torch_form(make_inputs(torch::kFloat64, torch::kCPU));
    auto m0g = in.m0g.detach().clone().requires_grad_(true);  // clone: dense, so also test the strided view below
    auto m1 = in.m1.detach().clone().requires_grad_(true), m2 = in.m2.detach().clone().requires_grad_(true);
    for (const auto& x : {m0g, in.m0g.detach().requires_grad_(true)}) {
      auto out = uma::fused::edge_gate(x, m1, m2);
      auto loss = (out[0] * in.g0).sum() + (out[1] * in.g1).sum() + (out[2] * in.g2).sum();
      auto grads = torch::autograd::grad({loss}, {x, m1, m2});
      const torch::Tensor got[6] = {out[0], out[1], out[2], grads[0], grads[1], grads[2]};
      const double tol = dtype == torch::kFloat64 ? 1e-13 : 1e-6;
      for (int i = 0; i < 6; ++i)
        EXPECT_LE(rel_diff(got[i], want[i]), tol) << kNames[i] << (dtype == torch::kFloat64 ? " fp64" : " fp32");
    }
  }
}
#endif
