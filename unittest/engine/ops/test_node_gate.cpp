// The fused node gate of SpectralAtomwise (src/kernels/node_gate/: the CPU reference, and on a GPU the CUDA kernels
// through uma::fused::node_gate and layers.h node_gate) against the Torch form that layers.h node_gate uses on the CPU
// and the fairchem parity tests prove: the output and the gradients of both inputs (h and the pre-SiLU gate logits
// z), autograd of the Torch form vs the hand-written adjoint. 0, 1 and 1001 nodes; 1, 7 and 128 channels; h dense or
// laid out [9, N, H] (so3_linear's GEMM output), z with a padded row stride. The GPU cases skip without a CUDA device
// (as on CI).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "engine/nn/layers.h"
#include "kernels/node_gate/node_gate_reference.h"
#ifdef UMA_HAVE_CUDA_KERNELS
#include <torch/cuda.h>

#include "engine/fused/node/fused_node_gate.h"
#endif

namespace {

const std::vector<int64_t> kNodes = {0, 1, 1001};
const std::vector<int64_t> kChannels = {1, 7, 128};

struct Inputs {
  torch::Tensor h;  // [N, 9, H]: dense, or a view of a [9, N, H] tensor
  torch::Tensor z;  // [N, 2H] view of [N, 2H + 3] (padded rows)
  torch::Tensor G;  // [N, 9, H] cotangent of the output
};

// Values of the size the layers see (|h|, |z| up to a few), z off-centre so that both gates vary.
Inputs make_inputs(int64_t N, int64_t H, bool rows_outer, torch::Dtype dtype, torch::Device device) {
  torch::manual_seed(31 + N + H);
  auto o = torch::TensorOptions().dtype(torch::kFloat64);
  Inputs in;
  in.h = rows_outer ? (0.3 + 1.5 * torch::randn({9, N, H}, o)).to(device, dtype).transpose(0, 1)
                    : (0.3 + 1.5 * torch::randn({N, 9, H}, o)).to(device, dtype);
  in.z = (-0.2 + 1.5 * torch::randn({N, 2 * H + 3}, o)).to(device, dtype).narrow(1, 0, 2 * H);
  in.G = torch::randn({N, 9, H}, o).to(device, dtype);
  return in;
}

// The Torch form (layers.h node_gate without the fused kernels): output and the gradients of h and z.
std::vector<torch::Tensor> torch_form(const Inputs& in) {
  auto h = in.h.detach().clone().requires_grad_(true), z = in.z.detach().clone().requires_grad_(true);
  auto y = uma::node_gate(h, z, false);
  auto g = torch::autograd::grad({(y * in.G).sum()}, {h, z}, {}, false, false, true);
  const auto none = [](const torch::Tensor& t, const torch::Tensor& like) {
    return t.defined() ? t : torch::zeros_like(like);
  };
  return {y.detach(), none(g[0], h), none(g[1], z)};
}

template <typename T>
uma::kernels::NodeRows<T> rows_of(const torch::Tensor& t) {
  uma::kernels::NodeRows<T> r;
  r.p = t.data_ptr<std::remove_const_t<T>>();
  r.row_stride = t.stride(1);
  r.node_stride = t.size(0) > 1 ? t.stride(0) : 9 * t.stride(1);
  return r;
}

// The CPU reference on CPU copies of the inputs in their layouts (h [9, N, H] stays so; z keeps its row stride).
template <typename T>
std::vector<torch::Tensor> reference(const Inputs& in_any) {
  const bool rows_outer = in_any.h.size(0) > 1 && in_any.h.stride(1) > in_any.h.stride(0);
  const auto h = rows_outer ? in_any.h.transpose(0, 1).cpu().contiguous().transpose(0, 1) : in_any.h.cpu().contiguous();
  const int64_t N = h.size(0), H = h.size(2);
  const auto z_storage = in_any.z.cpu().contiguous();  // dense here; the padded stride is tested below
  const auto z = torch::cat({z_storage, torch::zeros({N, 3}, z_storage.options())}, 1).narrow(1, 0, 2 * H);
  const auto G = in_any.G.cpu().contiguous();
  auto y = torch::full({N, 9, H}, NAN, G.options()), dh = torch::full({N, 9, H}, NAN, G.options());
  auto dz = torch::full({N, 2 * H}, NAN, G.options());
  uma::kernels::NodeGateFwdParams<T> f;
  f.h = rows_of<const T>(h);
  f.z = z.data_ptr<T>(); f.ld_z = 2 * H + 3;
  f.out = rows_of<T>(y);
  f.n_nodes = N; f.channels = H;
  uma::kernels::node_gate_fwd_reference(f);
  uma::kernels::NodeGateBwdParams<T> b;
  b.grad_out = rows_of<const T>(G); b.h = f.h; b.z = f.z; b.ld_z = f.ld_z;
  b.grad_h = rows_of<T>(dh); b.grad_z = dz.data_ptr<T>();
  b.n_nodes = N; b.channels = H;
  uma::kernels::node_gate_bwd_reference(b);
  return {y, dh, dz};
}

// max |got - want| / max |want| (NaN: an output left unwritten).
double rel_diff(const torch::Tensor& got, const torch::Tensor& want) {
  const auto g = got.to(torch::kCPU, torch::kFloat64).reshape({-1});
  const auto w = want.to(torch::kCPU, torch::kFloat64).reshape({-1});
  if (w.numel() == 0) return 0;
  if (g.isnan().any().item<bool>()) return INFINITY;
  return (g - w).abs().max().item<double>() / std::max(w.abs().max().item<double>(), 1e-300);
}

void expect_close(const std::vector<torch::Tensor>& got, const std::vector<torch::Tensor>& want, double tol,
                  const std::string& what) {
  const char* names[3] = {"output", "grad h", "grad z"};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(got[i].sizes(), want[i].sizes()) << what << " " << names[i];
    EXPECT_LE(rel_diff(got[i], want[i]), tol) << what << " " << names[i];
  }
}

std::string label(const char* what, int64_t N, int64_t H, bool rows_outer) {
  return std::string(what) + " N=" + std::to_string(N) + " H=" + std::to_string(H) +
         (rows_outer ? " [9,N,H] layout" : " dense");
}

}  // namespace

// fp64: the reference and the Torch form do the same operations (silu, sigmoid, products; the gate gradient a sum of
// 3 or 5 products) in double, the reference without rounding in between and the Torch form rounding after each op
// and summing in its own order: a few ulps (2.2e-16 each) of the largest entry apart (measured with the same
// formulas in PyTorch, 1001 x 128: <= 7.1e-16). 1e-14 = ~50 ulps.
TEST(NodeGate, ReferenceMatchesTorchFormFp64) {
  for (int64_t N : kNodes)
    for (int64_t H : kChannels)
      for (bool rows_outer : {false, true}) {
        const auto in = make_inputs(N, H, rows_outer, torch::kFloat64, torch::kCPU);
        expect_close(reference<double>(in), torch_form(in), 1e-14, label("reference vs torch", N, H, rows_outer));
      }
}

// fp32: the reference computes in double and rounds once; Torch's fp32 form rounds after each of its ~6 chained ops
// (unit round-off 6e-8 each, the gate gradient through silu', σ' and a 5-term sum): within 1e-6 of the largest entry
// (measured as above: <= 2.6e-7).
// The reference itself is within one rounding to float (6e-8) of the fp64 Torch form on the same fp32 values: 1e-7.
TEST(NodeGate, ReferenceMatchesTorchFormFp32) {
  for (int64_t N : kNodes)
    for (int64_t H : kChannels) {
      const auto in = make_inputs(N, H, false, torch::kFloat32, torch::kCPU);
      const auto got = reference<float>(in);
      expect_close(got, torch_form(in), 1e-6, label("reference vs torch fp32", N, H, false));
      const Inputs in64{in.h.to(torch::kFloat64), in.z.to(torch::kFloat64), in.G.to(torch::kFloat64)};
      expect_close(got, torch_form(in64), 1e-7, label("reference fp32 vs torch fp64", N, H, false));
    }
}

// The gate matters: with other logits the output differs by far more than the tolerances.
TEST(NodeGate, ReferenceDependsOnTheLogits) {
  auto in = make_inputs(17, 8, false, torch::kFloat64, torch::kCPU);
  const auto a = reference<double>(in);
  in.z = in.z + 1.0;
  EXPECT_GT(rel_diff(reference<double>(in)[0], a[0]), 1e-3);
}

TEST(NodeGate, ReferenceRejectsBadSizes) {
  const auto in = make_inputs(2, 8, false, torch::kFloat64, torch::kCPU);
  auto h = in.h.contiguous(), z = in.z.contiguous();
  auto y = torch::empty({2, 9, 8}, torch::kFloat64);
  uma::kernels::NodeGateFwdParams<double> f;
  f.h = rows_of<const double>(h); f.z = z.data_ptr<double>(); f.ld_z = 16;
  f.out = rows_of<double>(y); f.n_nodes = 2; f.channels = 8;
  EXPECT_NO_THROW(uma::kernels::node_gate_fwd_reference(f));
  f.ld_z = 15;  // logits rows shorter than 2H
  EXPECT_THROW(uma::kernels::node_gate_fwd_reference(f), std::invalid_argument);
  f.ld_z = 16; f.channels = 0;
  EXPECT_THROW(uma::kernels::node_gate_fwd_reference(f), std::invalid_argument);
  f.channels = 8; f.out.row_stride = 7;  // output rows that overlap
  EXPECT_THROW(uma::kernels::node_gate_fwd_reference(f), std::invalid_argument);
  f.out = rows_of<double>(y); f.n_nodes = -1;
  EXPECT_THROW(uma::kernels::node_gate_fwd_reference(f), std::invalid_argument);
  uma::kernels::NodeGateBwdParams<double> b;
  b.grad_out = f.h; b.h = f.h; b.z = f.z; b.ld_z = 16; b.grad_h = rows_of<double>(y);
  b.grad_z = z.data_ptr<double>(); b.n_nodes = 2; b.channels = 8;
  b.grad_h.node_stride = 8;  // nodes inside rows would need a row stride >= 2 · 8
  EXPECT_THROW(uma::kernels::node_gate_bwd_reference(b), std::invalid_argument);
}

#ifdef UMA_HAVE_CUDA_KERNELS
// The CUDA kernels through the autograd wrapper and through layers.h node_gate (fused = true), against the reference
// on the same values and the Torch form on the GPU. fp64: 1e-14 as above. fp32: the kernels compute in float as
// torch's CUDA kernels do (expf-based σ, the 5-term sum in a different order), so each is within 1e-6 of the
// double-accumulated reference and 2e-6 of the other.
TEST(NodeGate, FusedCudaMatchesReferenceAndTorchForm) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device present";
  const torch::Device cuda(torch::kCUDA, 0);
  for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
    const bool f64 = dtype == torch::kFloat64;
    for (int64_t N : kNodes)
      for (int64_t H : kChannels)
        for (bool rows_outer : {false, true}) {
          const auto in = make_inputs(N, H, rows_outer, dtype, cuda);
          auto h = in.h.detach().requires_grad_(true), z = in.z.detach().requires_grad_(true);
          auto y = uma::fused::node_gate(h, z);
          ASSERT_TRUE(y.grad_fn() != nullptr);
          EXPECT_NE(y.grad_fn()->name().find("NodeGate"), std::string::npos) << y.grad_fn()->name();
          auto g = torch::autograd::grad({(y * in.G).sum()}, {h, z}, {}, false, false, true);
          const std::vector<torch::Tensor> got = {y, g[0].defined() ? g[0] : torch::zeros_like(h),
                                                  g[1].defined() ? g[1] : torch::zeros_like(z)};
          const auto what = label(f64 ? "cuda fp64" : "cuda fp32", N, H, rows_outer);
          expect_close(got, f64 ? reference<double>(in) : reference<float>(in), f64 ? 1e-14 : 1e-6,
                       what + " vs reference");
          expect_close(got, torch_form(in), f64 ? 1e-14 : 2e-6, what + " vs torch");
        }
  }
}

// layers.h node_gate takes the fused op for CUDA tensors when asked (its grad_fn is the fused function's), and the
// Torch form when not.
TEST(NodeGate, LayersDispatchToTheFusedOp) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device present";
  const auto in = make_inputs(5, 16, true, torch::kFloat64, torch::Device(torch::kCUDA, 0));
  auto h = in.h.detach().requires_grad_(true), z = in.z.detach().requires_grad_(true);
  EXPECT_NE(uma::node_gate(h, z, true).grad_fn()->name().find("NodeGate"), std::string::npos);
  EXPECT_EQ(uma::node_gate(h, z, false).grad_fn()->name().find("NodeGate"), std::string::npos);
}
#endif
