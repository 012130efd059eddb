// The fused edge geometry (src/kernels/edge_geometry/: the per-edge maths with its forward-mode adjoint, the CPU
// reference, and on a GPU the CUDA kernels through uma::fused::edge_geometry) against the Torch form of
// engine/so3/wigner.h edge_geometry, which the fairchem parity tests prove: the Wigner-D matrices, D^T · envelope and
// the Gaussian basis, and the gradient of the edge vectors (autograd of the Torch form vs the dual-number Jacobian);
// plus central finite differences of the reference itself. The GPU case skips without a CUDA device (as on CI).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/so3/wigner.h"
#include "kernels/edge_geometry/edge_geometry_reference.h"
#ifdef UMA_HAVE_CUDA_KERNELS
#include <torch/cuda.h>

#include "engine/fused/edge/fused_edge_geometry.h"
#endif

namespace {

namespace k = uma::kernels;
constexpr double kCutoff = 6.0;
constexpr int64_t kGaussians = 32;

struct Inputs {
  torch::Tensor vec, offsets;  // [E,3], [G]
  double coeff = 0;
  torch::Tensor gw, gwi, gg;   // cotangents of wigner, wigner_inv_env, gauss
};

// Directions all over the sphere, both charts (u_y < 0 and >= 0), close to the poles +-y, along the axes; lengths
// from 0.4 Å to past the cutoff (envelope 0 there). E = 37 + 64 + 5 is not a multiple of the kernel's edge blocks.
Inputs make_inputs(int64_t E, torch::Dtype dtype, torch::Device device) {
  torch::manual_seed(7);
  auto o = torch::TensorOptions().dtype(torch::kFloat64);
  auto dir = torch::randn({E, 3}, o);
  const double special[6][3] = {{1e-3, 1, 2e-3}, {-2e-3, -1, 1e-3}, {1, 0, 0}, {0, 0, -1}, {0.3, -0.2, 0.9}, {0, 1, 0}};
  for (int i = 0; i < 6 && i < E; ++i)
    for (int c = 0; c < 3; ++c) dir[i][c] = special[i][c];
  dir = dir / dir.norm(2, 1, true);
  auto len = 0.4 + 6.4 * torch::rand({E, 1}, o);  // some beyond 6 Å
  Inputs in;
  in.vec = (dir * len).to(device, dtype);
  in.offsets = torch::linspace(0.0, kCutoff, kGaussians, o).to(device, dtype);
  const double spacing = kCutoff / (kGaussians - 1);
  in.coeff = -0.5 / std::pow(2.0 * spacing, 2);
  in.gw = torch::randn({E, 9, 9}, o).to(device, dtype);
  in.gwi = torch::randn({E, 9, 9}, o).to(device, dtype);
  in.gg = torch::randn({E, kGaussians}, o).to(device, dtype);
  return in;
}

// The Torch form: outputs and the gradient of vec for the cotangents.
std::vector<torch::Tensor> torch_form(const Inputs& in) {
  auto vec = in.vec.detach().clone().requires_grad_(true);
  auto g = uma::edge_geometry(vec, in.offsets, kCutoff, in.coeff);
  auto loss = (g.wigner * in.gw).sum() + (g.wigner_inv_env * in.gwi).sum() + (g.gauss * in.gg).sum();
  auto grad = torch::autograd::grad({loss}, {vec})[0];
  return {g.wigner.detach(), g.wigner_inv_env.detach(), g.gauss.detach(), grad};
}

template <typename T>
k::EdgeGeometryConstants<T> constants(const Inputs& in) {
  k::EdgeGeometryConstants<T> c;
  c.cutoff = T(kCutoff);
  c.gauss_coeff = T(in.coeff);
  c.offsets = in.offsets.data_ptr<T>();
  c.num_gaussians = kGaussians;
  return c;
}

// The CPU reference: outputs, and the gradient of vec with each cotangent present or absent (nullptr).
template <typename T>
std::vector<torch::Tensor> reference(const Inputs& in, bool with_gw = true, bool with_gwi = true, bool with_gg = true) {
  const int64_t E = in.vec.size(0);
  auto opt = in.vec.options();
  auto w = torch::full({E, 9, 9}, NAN, opt), wi = torch::full({E, 9, 9}, NAN, opt),
       gauss = torch::full({E, kGaussians}, NAN, opt), grad = torch::full({E, 3}, NAN, opt);
  k::EdgeGeometryFwdParams<T> f;
  f.vec = in.vec.data_ptr<T>();
  f.wigner = w.data_ptr<T>(); f.wigner_inv_env = wi.data_ptr<T>(); f.gauss = gauss.data_ptr<T>();
  f.n_edges = E;
  f.c = constants<T>(in);
  k::edge_geometry_fwd_reference(f);
  k::EdgeGeometryBwdParams<T> b;
  b.vec = f.vec;
  b.grad_wigner = with_gw ? in.gw.data_ptr<T>() : nullptr;
  b.grad_wigner_inv_env = with_gwi ? in.gwi.data_ptr<T>() : nullptr;
  b.grad_gauss = with_gg ? in.gg.data_ptr<T>() : nullptr;
  b.grad_vec = grad.data_ptr<T>();
  b.n_edges = E;
  b.c = f.c;
  k::edge_geometry_bwd_reference(b);
  return {w, wi, gauss, grad};
}

// Largest difference relative to the largest entry of `want`, or absolute where that is below 1: a single edge
// past the cutoff has D^T env = 0 exactly (found on the H100: 0/0 without the floor).
double rel_diff(const torch::Tensor& got, const torch::Tensor& want) {
  const double diff = (got.to(torch::kCPU, torch::kFloat64) - want.to(torch::kCPU, torch::kFloat64)).abs().max().item<double>();
  return diff / std::max(1.0, want.abs().max().item<double>());
}

const char* kNames[4] = {"wigner", "wigner_inv_env", "gauss", "grad vec"};

}  // namespace

// fp64: the same formulas with the sums in another order: a few ulps of the largest entry. 1e-13 relative
// (the gradient sums ~1000 terms per edge: still far inside).
TEST(EdgeGeometry, ReferenceMatchesTorchForm) {
  const auto in = make_inputs(106, torch::kFloat64, torch::kCPU);
  const auto want = torch_form(in);
  const auto got = reference<double>(in);
  for (int i = 0; i < 4; ++i) EXPECT_LE(rel_diff(got[i], want[i]), 1e-13) << kNames[i];
  // Edges past the cutoff: envelope 0, so D^T env is all zero while D is not.
  const auto beyond = in.vec.norm(2, 1) >= kCutoff;
  ASSERT_GT(beyond.sum().item<int64_t>(), 0);
  EXPECT_EQ(got[1].index({beyond}).abs().max().item<double>(), 0.0);
}

// fp32 reference against the fp64 Torch form: unit round-off 6e-8 through ~30 dependent operations (R, the
// quadratic forms, exp) and the gradient's sums: 2e-6 relative to the largest entry.
TEST(EdgeGeometry, ReferenceFp32) {
  const auto in64 = make_inputs(106, torch::kFloat64, torch::kCPU);
  const auto in32 = make_inputs(106, torch::kFloat32, torch::kCPU);
  const auto want = torch_form(in64);
  const auto got = reference<float>(in32);
  for (int i = 0; i < 4; ++i) EXPECT_LE(rel_diff(got[i], want[i]), 2e-6) << kNames[i];
}

// An absent cotangent adds nothing: the same as a zero one.
TEST(EdgeGeometry, AbsentGradientsAreZero) {
  auto in = make_inputs(40, torch::kFloat64, torch::kCPU);
  const auto only_gauss = reference<double>(in, false, false, true);
  Inputs zeroed = in;
  zeroed.gw = torch::zeros_like(in.gw);
  zeroed.gwi = torch::zeros_like(in.gwi);
  EXPECT_LE(rel_diff(only_gauss[3], torch_form(zeroed)[3]), 1e-13);
  const auto none = reference<double>(in, false, false, false);
  EXPECT_EQ(none[3].abs().max().item<double>(), 0.0);
}

// The dual-number Jacobian against central differences of the reference's own forward (independent of Torch).
// Step 1e-5 Å: truncation ~h^2 |f'''| ~ 1e-10 and round-off ~1e-16/h ~ 1e-11 of O(1) outputs; 1e-7 relative.
// Edges with |u_y| < 0.05 are left out: the chart changes at u_y = 0 (a roll the network ignores, which D does not).
TEST(EdgeGeometry, JacobianMatchesFiniteDifferences) {
  auto in = make_inputs(64, torch::kFloat64, torch::kCPU);
  auto keep = (in.vec.select(1, 1) / in.vec.norm(2, 1)).abs() > 0.05;
  in.vec = in.vec.index({keep}).contiguous();
  in.gw = in.gw.index({keep}).contiguous();
  in.gwi = in.gwi.index({keep}).contiguous();
  in.gg = in.gg.index({keep}).contiguous();
  const auto analytic = reference<double>(in)[3];
  auto loss = [&](const torch::Tensor& vec) {
    Inputs s = in;
    s.vec = vec.contiguous();
    const auto out = reference<double>(s, false, false, false);
    return (out[0] * in.gw).sum(1).sum(1) + (out[1] * in.gwi).sum(1).sum(1) + (out[2] * in.gg).sum(1);  // per edge
  };
  const double h = 1e-5;
  auto fd = torch::zeros_like(in.vec);
  for (int c = 0; c < 3; ++c) {
    auto step = torch::zeros_like(in.vec);
    step.select(1, c).fill_(h);
    fd.select(1, c).copy_((loss(in.vec + step) - loss(in.vec - step)) / (2 * h));
  }
  EXPECT_LE(rel_diff(analytic, fd), 1e-7);
}

TEST(EdgeGeometry, ReferenceRefusesBadSizes) {
  auto in = make_inputs(4, torch::kFloat64, torch::kCPU);
  auto w = torch::empty({4, 9, 9}, torch::kFloat64), wi = torch::empty_like(w), g = torch::empty({4, kGaussians}, torch::kFloat64);
  k::EdgeGeometryFwdParams<double> f;
  f.vec = in.vec.data_ptr<double>();
  f.wigner = w.data_ptr<double>(); f.wigner_inv_env = wi.data_ptr<double>(); f.gauss = g.data_ptr<double>();
  f.n_edges = 4;
  f.c = constants<double>(in);
  f.c.num_gaussians = 0;
  EXPECT_THROW(k::edge_geometry_fwd_reference(f), std::invalid_argument);
  f.c = constants<double>(in);
  f.gauss = nullptr;
  EXPECT_THROW(k::edge_geometry_fwd_reference(f), std::invalid_argument);
}

#ifdef UMA_HAVE_CUDA_KERNELS
// The CUDA kernels through the autograd wrapper against the fp64 Torch form: fp64 1e-13 as above, fp32 2e-6 as
// the fp32 reference; several block counts (1, 3, 1569 edges: partial blocks of 64 and of 32) and no edges.
TEST(EdgeGeometry, FusedCudaMatchesTorchForm) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device present";
  for (int64_t E : {int64_t(1), int64_t(3), int64_t(1569)}) {
    const auto want = torch_form(make_inputs(E, torch::kFloat64, torch::kCPU));
    for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
      const auto in = make_inputs(E, dtype, torch::Device(torch::kCUDA, 0));
      auto vec = in.vec.detach().clone().requires_grad_(true);
      auto g = uma::fused::edge_geometry(vec, in.offsets, kCutoff, in.coeff);
      auto loss = (g.wigner * in.gw).sum() + (g.wigner_inv_env * in.gwi).sum() + (g.gauss * in.gg).sum();
      auto grad = torch::autograd::grad({loss}, {vec})[0];
      const torch::Tensor got[4] = {g.wigner, g.wigner_inv_env, g.gauss, grad};
      const double tol = dtype == torch::kFloat64 ? 1e-13 : 2e-6;
      for (int i = 0; i < 4; ++i)
        EXPECT_LE(rel_diff(got[i], want[i]), tol) << kNames[i] << " E " << E << (dtype == torch::kFloat64 ? " fp64" : " fp32");
      // Only the Gaussians used: the other two outputs have no gradient (nullptr in the kernel).
      auto vec2 = in.vec.detach().clone().requires_grad_(true);
      auto g2 = uma::fused::edge_geometry(vec2, in.offsets, kCutoff, in.coeff);
      auto grad2 = torch::autograd::grad({(g2.gauss * in.gg).sum()}, {vec2})[0];
      Inputs z = make_inputs(E, torch::kFloat64, torch::kCPU);
      z.gw.zero_();
      z.gwi.zero_();
      EXPECT_LE(rel_diff(grad2, torch_form(z)[3]), tol) << "gauss only, E " << E;
    }
  }
  auto none = torch::zeros({0, 3}, torch::TensorOptions().dtype(torch::kFloat32).device(torch::kCUDA));
  auto g = uma::fused::edge_geometry(none, torch::linspace(0.0, kCutoff, kGaussians, none.options()), kCutoff, -1.0);
  EXPECT_EQ(g.wigner.size(0), 0);
  EXPECT_EQ(g.gauss.size(1), kGaussians);
}
#endif
