// The fused LayerNorm + SiLU of the radial MLPs (src/kernels/layer_norm_silu/: the CPU reference, and on a GPU the
// CUDA kernels through uma::fused::layer_norm_silu and radial_mlp) against the Torch composition
// silu(layer_norm(x)) that layers.h radial_mlp uses on the CPU and the fairchem parity tests prove: the output and the
// input gradient (autograd of the Torch form vs the hand-written adjoint). Odd widths (1, 7, 130: no vector loads;
// 1030, 2049: wider than the register tiles), padded rows (a row stride longer than the row) and zero rows. The GPU
// cases skip without a CUDA device (as on CI).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "kernels/layer_norm_silu/layer_norm_silu_reference.h"
#ifdef UMA_HAVE_CUDA_KERNELS
#include <torch/cuda.h>

#include "engine/fused/edge/fused_layer_norm_silu.h"
#include "engine/nn/layers.h"
#endif

namespace {

constexpr double kEps = 1e-5;
constexpr int64_t kRows = 37, kPad = 3;  // x rows padded: ld = W + 3 exercises the stride
const std::vector<int64_t> kWidths = {1, 7, 96, 128, 130, 300, 1030, 2049};

struct Inputs {
  torch::Tensor x_storage, x;  // x: [rows, W] view with row stride W + pad (pad 0: dense)
  torch::Tensor weight, bias;  // [W]
  torch::Tensor dy;            // [rows, W] cotangent of the output
  torch::Tensor row_bias;      // [kTableRows, W] or undefined: rows normalise x + row_bias[row_index]
  torch::Tensor row_index;     // [rows] int64
};
constexpr int64_t kTableRows = 5;

// The same inputs with a row bias table (values of the size of x's, off-centre) and a random row of it per row.
Inputs with_row_bias(Inputs in) {
  torch::manual_seed(29);
  const int64_t rows = in.x.size(0), W = in.x.size(1);
  auto o = torch::TensorOptions().dtype(torch::kFloat64);
  in.row_bias = (-0.4 + 1.5 * torch::randn({kTableRows, W}, o)).to(in.x.device(), in.x.scalar_type());
  in.row_index = torch::randint(0, kTableRows, {rows}, torch::kLong).to(in.x.device());
  return in;
}

// Off-centre rows (mean 0.7, spread 2.5) so that the centring matters; weights around 1, biases around 0.
Inputs make_inputs(int64_t rows, int64_t W, int64_t pad, torch::Dtype dtype, torch::Device device) {
  torch::manual_seed(17 + W);
  auto o = torch::TensorOptions().dtype(torch::kFloat64);
  Inputs in;
  in.x_storage = (0.7 + 2.5 * torch::randn({rows, W + pad}, o)).to(device, dtype);
  in.x = in.x_storage.narrow(1, 0, W);
  in.weight = (1.0 + 0.5 * torch::randn({W}, o)).to(device, dtype);
  in.bias = (0.5 * torch::randn({W}, o)).to(device, dtype);
  in.dy = torch::randn({rows, W}, o).to(device, dtype);
  return in;
}

// The Torch form: output and input gradient for the cotangent.
std::vector<torch::Tensor> torch_form(const Inputs& in) {
  auto x = in.x.detach().clone().requires_grad_(true);
  auto xb = in.row_bias.defined() ? x + in.row_bias.index_select(0, in.row_index) : x;
  auto y = torch::silu(torch::layer_norm(xb, {x.size(1)}, in.weight, in.bias, kEps));
  auto grads = torch::autograd::grad({(y * in.dy).sum()}, {x});
  return {y.detach(), grads[0]};
}

// The CPU reference on CPU copies of the inputs (x keeps its row stride).
template <typename T>
std::vector<torch::Tensor> reference(const Inputs& in_any) {
  const auto x_storage = in_any.x_storage.cpu();
  const int64_t rows = in_any.x.size(0), W = in_any.x.size(1);
  const auto x = x_storage.narrow(1, 0, W);
  const auto w = in_any.weight.cpu(), b = in_any.bias.cpu(), dy = in_any.dy.cpu().contiguous();
  auto y = torch::full({rows, W}, NAN, w.options()), dx = torch::full({rows, W}, NAN, w.options());
  uma::kernels::LayerNormSiluFwdParams<T> f;
  f.x = x.data_ptr<T>(); f.ld = x_storage.size(1);
  f.weight = w.data_ptr<T>(); f.bias = b.data_ptr<T>(); f.y = y.data_ptr<T>();
  f.rows = rows; f.width = W; f.eps = kEps;
  torch::Tensor rb, ri;
  if (in_any.row_bias.defined()) {
    rb = in_any.row_bias.cpu().contiguous(), ri = in_any.row_index.cpu().contiguous();
    f.row_bias = rb.data_ptr<T>(); f.row_bias_index = ri.data_ptr<int64_t>();
  }
  uma::kernels::layer_norm_silu_fwd_reference(f);
  uma::kernels::LayerNormSiluBwdParams<T> g;
  g.grad_y = dy.data_ptr<T>(); g.x = f.x; g.ld = f.ld; g.weight = f.weight; g.bias = f.bias;
  g.grad_x = dx.data_ptr<T>(); g.rows = rows; g.width = W; g.eps = kEps;
  g.row_bias = f.row_bias; g.row_bias_index = f.row_bias_index;
  uma::kernels::layer_norm_silu_bwd_reference(g);
  return {y, dx};
}

// max |got - want| / max |want|, with where it is and the scale for the failure message.
struct Diff {
  double rel = 0, scale = 0;
  int64_t at = -1;
};
Diff rel_diff(const torch::Tensor& got, const torch::Tensor& want) {
  const auto g = got.to(torch::kCPU, torch::kFloat64).reshape({-1});
  const auto w = want.to(torch::kCPU, torch::kFloat64).reshape({-1});
  Diff d;
  if (w.numel() == 0) return d;
  const auto err = (g - w).abs();
  d.at = err.argmax().item<int64_t>();
  d.scale = w.abs().max().item<double>();
  d.rel = err[d.at].item<double>() / d.scale;
  if (g.isnan().any().item<bool>()) d.rel = INFINITY;  // unwritten outputs (the reference fills with NaN first)
  return d;
}

std::string describe(const Diff& d, const char* what, int64_t W, torch::Dtype dtype) {
  return std::string(what) + " width " + std::to_string(W) + (dtype == torch::kFloat64 ? " fp64" : " fp32") +
         ": max relative error " + std::to_string(d.rel) + " at flat index " + std::to_string(d.at) +
         " (scale " + std::to_string(d.scale) + ")";
}

// Compares [y, dx] with the wanted pair. A row of width 1 normalises to its bias: its input gradient is exactly zero,
// which the reference and the kernels give exactly (g - mean(g) = 0, x̂ = 0), while torch's backward forms it as
// rstd·dy·γ - dy·γ·rstd with rstd = 1/sqrt(eps) ≈ 316, so only to ±316 ulp: there the gradient must be zero.
void expect_close(const std::vector<torch::Tensor>& got, const std::vector<torch::Tensor>& want, int64_t W,
                  torch::Dtype dtype, double tol, const char* what) {
  const Diff dy = rel_diff(got[0], want[0]);
  EXPECT_LE(dy.rel, tol) << describe(dy, (std::string(what) + " output").c_str(), W, dtype);
  if (W == 1) {
    EXPECT_EQ(got[1].abs().max().item<double>(), 0.0) << what << " input gradient of width-1 rows";
    return;
  }
  const Diff dx = rel_diff(got[1], want[1]);
  EXPECT_LE(dx.rel, tol) << describe(dx, (std::string(what) + " input gradient").c_str(), W, dtype);
}

}  // namespace

// fp64: the same operations in a different order (Torch's backward forms dx = a·dy·γ + b·x + c from raw sums of x,
// the reference rstd·(g - mean g - x̂·mean(g x̂)) from centred values; both sum ≤ 2049 terms of size ~1, so at most
// ~2049 ulps apart; measured ≤ 2e-15): 1e-13 relative to the largest entry.
TEST(LayerNormSilu, ReferenceMatchesTorchFormFp64) {
  for (int64_t W : kWidths) {
    const auto in = make_inputs(kRows, W, kPad, torch::kFloat64, torch::kCPU);
    expect_close(reference<double>(in), torch_form(in), W, torch::kFloat64, 1e-13, "reference vs torch");
  }
}

// fp32: the reference sums in double and rounds once; Torch's fp32 CPU composition accumulates in float (its error,
// ~sqrt(W) · 6e-8 of the largest term for the backward's sums, dominates; measured ≤ 4e-7 at W = 2049): 1e-6 relative
// to the largest entry. The reference itself must be within one rounding to float (unit round-off 6e-8; measured
// ≤ 4.3e-8) of the fp64 composition on the same fp32 values: 1e-7.
TEST(LayerNormSilu, ReferenceMatchesTorchFormFp32) {
  for (int64_t W : kWidths) {
    const auto in = make_inputs(kRows, W, kPad, torch::kFloat32, torch::kCPU);
    const auto got = reference<float>(in);
    expect_close(got, torch_form(in), W, torch::kFloat32, 1e-6, "reference vs torch fp32");
    Inputs in64{in.x_storage.to(torch::kFloat64), in.x.to(torch::kFloat64), in.weight.to(torch::kFloat64),
                in.bias.to(torch::kFloat64), in.dy.to(torch::kFloat64)};
    expect_close(got, torch_form(in64), W, torch::kFloat32, 1e-7, "reference fp32 vs torch fp64");
  }
}

// With a row bias (radial lin0's element-pair table): the same bounds and reasons as without, the bias added in T as
// torch adds it. The bias must matter: the reference with it differs from the reference without by far more than tol.
TEST(LayerNormSilu, ReferenceWithRowBiasMatchesTorchForm) {
  for (int64_t W : kWidths) {
    const auto plain = make_inputs(kRows, W, kPad, torch::kFloat64, torch::kCPU);
    const auto in = with_row_bias(plain);
    const auto got = reference<double>(in);
    expect_close(got, torch_form(in), W, torch::kFloat64, 1e-13, "reference with row bias vs torch");
    if (W > 1) EXPECT_GT(rel_diff(got[0], reference<double>(plain)[0]).rel, 1e-3) << "width " << W;
    const auto in32 = with_row_bias(make_inputs(kRows, W, kPad, torch::kFloat32, torch::kCPU));
    expect_close(reference<float>(in32), torch_form(in32), W, torch::kFloat32, 1e-6, "reference fp32 with row bias");
  }
}

TEST(LayerNormSilu, ReferenceTakesZeroRowsAndRejectsBadSizes) {
  const auto in = make_inputs(0, 128, 0, torch::kFloat64, torch::kCPU);
  const auto got = reference<double>(in);
  EXPECT_EQ(got[0].numel(), 0);
  EXPECT_EQ(got[1].numel(), 0);
  const auto one = make_inputs(2, 8, 0, torch::kFloat64, torch::kCPU);
  auto y = torch::empty({2, 8}, torch::kFloat64);
  uma::kernels::LayerNormSiluFwdParams<double> f;
  f.x = one.x.data_ptr<double>();
  f.weight = one.weight.data_ptr<double>(); f.bias = one.bias.data_ptr<double>();
  f.y = y.data_ptr<double>(); f.rows = 2; f.width = 8;
  f.ld = 7;  // a row stride shorter than the rows
  EXPECT_THROW(uma::kernels::layer_norm_silu_fwd_reference(f), std::invalid_argument);
  f.ld = 8; f.width = 0;
  EXPECT_THROW(uma::kernels::layer_norm_silu_fwd_reference(f), std::invalid_argument);
}

#ifdef UMA_HAVE_CUDA_KERNELS
// The CUDA kernels through the autograd wrapper, for padded rows (row stride W + 3: scalar loads; W + 4: vector loads
// where W allows), dense rows and rows that start one element off a 16-byte boundary (scalar loads), against the
// reference on the same values and the Torch composition on the GPU.
// fp64: 1e-13 as above. fp32: the kernels keep the statistics and sums in float, as torch's CUDA kernels do, so their
// error is torch's (1e-6, above): within 1e-6 of the double-accumulated reference and 2e-6 of torch's CUDA
// composition (both carry float error).
TEST(LayerNormSilu, FusedCudaMatchesReferenceAndTorchForm) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device present";
  const torch::Device cuda(torch::kCUDA, 0);
  for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
    const double tol = dtype == torch::kFloat64 ? 1e-13 : 1e-6;
    for (int64_t W : kWidths) {
      for (int64_t pad : {kPad, int64_t(0), int64_t(1), int64_t(4)}) {  // 3: odd stride; 0, 4: vector loads
        auto in = make_inputs(kRows, W, pad, dtype, cuda);
        if (pad == 1) in.x = in.x_storage.narrow(1, 1, W);  // rows start one element in: misaligned
        auto x = in.x.detach().requires_grad_(true);
        auto y = uma::fused::layer_norm_silu(x, in.weight, in.bias, kEps);
        auto dx = torch::autograd::grad({(y * in.dy).sum()}, {x})[0];
        EXPECT_TRUE(y.is_cuda() && y.sizes() == x.sizes());
        // The reference on the very values the kernels saw (the misaligned case: columns [1, W + 1)).
        Inputs ref_in = in;
        if (pad == 1) ref_in.x_storage = in.x_storage.narrow(1, 1, W).contiguous(), ref_in.x = ref_in.x_storage;
        const auto want = dtype == torch::kFloat64 ? reference<double>(ref_in) : reference<float>(ref_in);
        expect_close({y, dx}, want, W, dtype, tol, "cuda vs reference");
        expect_close({y, dx}, torch_form(in), W, dtype, dtype == torch::kFloat64 ? 1e-13 : 2e-6, "cuda vs torch");
      }
    }
  }
}

// The row bias through the CUDA kernels (vector loads on dense rows, scalar on odd strides, the loop kernel past the
// register tiles): the bounds of the test above.
TEST(LayerNormSilu, FusedCudaWithRowBiasMatchesReferenceAndTorchForm) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device present";
  const torch::Device cuda(torch::kCUDA, 0);
  for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
    const double tol = dtype == torch::kFloat64 ? 1e-13 : 1e-6;
    for (int64_t W : kWidths) {
      for (int64_t pad : {kPad, int64_t(0)}) {
        const auto in = with_row_bias(make_inputs(kRows, W, pad, dtype, cuda));
        auto x = in.x.detach().requires_grad_(true);
        auto y = uma::fused::layer_norm_silu(x, in.weight, in.bias, kEps, in.row_bias, in.row_index);
        auto dx = torch::autograd::grad({(y * in.dy).sum()}, {x})[0];
        const auto want = dtype == torch::kFloat64 ? reference<double>(in) : reference<float>(in);
        expect_close({y, dx}, want, W, dtype, tol, "cuda with row bias vs reference");
        expect_close({y, dx}, torch_form(in), W, dtype, dtype == torch::kFloat64 ? 1e-13 : 2e-6,
                     "cuda with row bias vs torch");
      }
    }
  }
}

// Zero rows, many rows (grid-stride loop over more warps than rows per block), 3-D inputs, and weights that require
// grad (the Torch composition takes over and gives their gradients).
TEST(LayerNormSilu, FusedCudaShapesAndFallback) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device present";
  const torch::Device cuda(torch::kCUDA, 0);
  for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
    const double tol = dtype == torch::kFloat64 ? 1e-13 : 1e-6;
    {
      const auto in = make_inputs(0, 128, 0, dtype, cuda);
      auto x = in.x.detach().requires_grad_(true);
      auto y = uma::fused::layer_norm_silu(x, in.weight, in.bias, kEps);
      auto dx = torch::autograd::grad({(y * in.dy).sum()}, {x}, {}, false, false, true)[0];
      EXPECT_EQ(y.numel(), 0);
      EXPECT_TRUE(!dx.defined() || dx.numel() == 0);
    }
    {
      const auto in = make_inputs(100003, 128, 0, dtype, cuda);
      auto x = in.x.detach().view({1, 100003, 128}).requires_grad_(true);
      auto y = uma::fused::layer_norm_silu(x, in.weight, in.bias, kEps);
      auto dx = torch::autograd::grad({(y * in.dy.view({1, 100003, 128})).sum()}, {x})[0];
      EXPECT_EQ(y.sizes(), x.sizes());
      const auto want = torch_form(in);
      expect_close({y.view({100003, 128}), dx.view({100003, 128})}, want, 128, dtype,
                   dtype == torch::kFloat64 ? 1e-13 : 2e-6, "cuda 100003 rows vs torch");
    }
    {
      const auto in = make_inputs(kRows, 96, 0, dtype, cuda);
      auto w = in.weight.detach().clone().requires_grad_(true), b = in.bias.detach().clone().requires_grad_(true);
      auto x = in.x.detach().clone().requires_grad_(true);
      auto y = uma::fused::layer_norm_silu(x, w, b, kEps);
      auto g = torch::autograd::grad({(y * in.dy).sum()}, {x, w, b});
      auto x2 = in.x.detach().clone().requires_grad_(true);
      auto w2 = in.weight.detach().clone().requires_grad_(true), b2 = in.bias.detach().clone().requires_grad_(true);
      auto y2 = torch::silu(torch::layer_norm(x2, {96}, w2, b2, kEps));
      auto g2 = torch::autograd::grad({(y2 * in.dy).sum()}, {x2, w2, b2});
      // The same Torch calls on the same values: equal up to any reordering inside torch's reductions.
      EXPECT_LE(rel_diff(y, y2).rel, tol);
      for (int i = 0; i < 3; ++i) EXPECT_LE(rel_diff(g[i], g2[i]).rel, tol) << "gradient " << i << " of the fallback";
    }
  }
}

// radial_mlp with the fused kernels (LayerTables::fused) against radial_mlp with torch's layer_norm and silu, both on
// the GPU, fp64: the MLP's Linear layers are the same calls, so only the normalisation differs (1e-13, as above).
TEST(LayerNormSilu, RadialMlpFusedMatchesTorchPath) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device present";
  const torch::Device cuda(torch::kCUDA, 0);
  torch::manual_seed(5);
  auto o = torch::TensorOptions().dtype(torch::kFloat64).device(cuda);
  const int64_t in_ch = 64, hidden = 128, out = 6 * 128, E = 1001;
  uma::RadialMLPW w;
  w.lin0 = {torch::randn({hidden, in_ch}, o) / 8.0, 0.1 * torch::randn({hidden}, o)};
  w.lin3 = {torch::randn({hidden, hidden}, o) / 11.0, 0.1 * torch::randn({hidden}, o)};
  w.lin6 = {torch::randn({out, hidden}, o) / 11.0, 0.1 * torch::randn({out}, o)};
  w.norm1 = {1.0 + 0.2 * torch::randn({hidden}, o), 0.2 * torch::randn({hidden}, o)};
  w.norm4 = {1.0 + 0.2 * torch::randn({hidden}, o), 0.2 * torch::randn({hidden}, o)};
  const auto x0 = torch::randn({E, in_ch}, o), dy = torch::randn({E, out}, o);
  std::vector<torch::Tensor> res[2];
  for (int fused = 0; fused < 2; ++fused) {
    const uma::LayerTables t(torch::kFloat64, cuda, uma::Fp32Gemm::strict, fused == 1);
    auto x = x0.clone().requires_grad_(true);
    auto y = uma::radial_mlp(x, w, t);
    res[fused] = {y.detach(), torch::autograd::grad({(y * dy).sum()}, {x})[0]};
  }
  for (int i = 0; i < 2; ++i) {
    const Diff d = rel_diff(res[1][i], res[0][i]);
    EXPECT_LE(d.rel, 1e-13) << describe(d, i == 0 ? "radial_mlp output" : "radial_mlp input gradient", hidden,
                                        torch::kFloat64);
  }
}
#endif
