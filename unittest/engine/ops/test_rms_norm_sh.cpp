// The equivariant RMS norm of the node features (src/kernels/rms_norm_sh/: the CPU reference, and on a GPU the CUDA
// kernels through uma::fused::rms_norm_sh and layers.h rms_norm_sh) against the Torch form of layers.h rms_norm_sh
// (fused off) that the fairchem parity tests prove: the output and the input gradient (autograd of the Torch form vs
// the hand-derived adjoint in rms_norm_sh_params.h), with and without the extra row-0 bias. Channel counts 1, 3, 130
// and 600 (no register tile on the GPU: the loop kernel), 64, 128, 256 (tiles), padded nodes (a node stride longer
// than 9·C), and 0, 1, 37 and 1001 nodes. The GPU cases skip without a CUDA device (as on CI).
#include <gtest/gtest.h>

#include <cmath>
#include <iomanip>
#include <sstream>
#include <string>
#include <vector>

#include "engine/nn/layers.h"
#include "kernels/rms_norm_sh/rms_norm_sh_reference.h"
#include "model/errors.h"
#ifdef UMA_HAVE_CUDA_KERNELS
#include <torch/cuda.h>

#include "engine/fused/node/fused_rms_norm_sh.h"
#endif

namespace {

constexpr double kEps = 1e-5;
constexpr int64_t kNodes = 37, kPad = 3;  // node stride 9·C + 3 exercises ld
const std::vector<int64_t> kChannels = {1, 3, 64, 128, 130, 256, 600};

struct Inputs {
  torch::Tensor x_storage, x;  // x: [N, 9, C] view of x_storage [N, 9·C + pad] (pad 0: dense)
  uma::RMSNormSHW w;           // weight [3, C], bias [C]
  torch::Tensor extra;         // [C] the extra row-0 bias, or undefined
  torch::Tensor dy;            // [N, 9, C] cotangent of the output
};

// Rows of spread ~2 with the l = 0 row off-centre (mean 0.7) so that its centring matters; the l = 2 rows larger
// than the l = 1 rows so that a wrong degree balance shows; weights around 1, biases around 0.
Inputs make_inputs(int64_t N, int64_t C, int64_t pad, bool extra, torch::Dtype dtype, torch::Device device) {
  torch::manual_seed(23 + C + N);
  auto o = torch::TensorOptions().dtype(torch::kFloat64);
  auto x = 2.0 * torch::randn({N, 9, C}, o);
  x.select(1, 0).add_(0.7);
  x.narrow(1, 4, 5).mul_(1.5);
  Inputs in;
  in.x_storage = torch::zeros({N, 9 * C + pad}, o);
  in.x_storage.narrow(1, 0, 9 * C).copy_(x.view({N, 9 * C}));
  in.x_storage = in.x_storage.to(device, dtype);
  in.x = in.x_storage.narrow(1, 0, 9 * C).view({N, 9, C});
  in.w.weight = (1.0 + 0.5 * torch::randn({3, C}, o)).to(device, dtype);
  in.w.bias = (0.5 * torch::randn({C}, o)).to(device, dtype);
  if (extra) in.extra = (0.5 * torch::randn({C}, o)).to(device, dtype);
  in.dy = torch::randn({N, 9, C}, o).to(device, dtype);
  return in;
}

// layers.h rms_norm_sh (fused or not): output and input gradient for the cotangent.
std::vector<torch::Tensor> layer_form(const Inputs& in, bool fused) {
  uma::LayerTables t(in.x.scalar_type(), in.x.device(), uma::Fp32Gemm::strict, fused);
  t.fused_node = fused;
  auto x = in.x.detach().requires_grad_(true);  // not a clone: a clone of padded nodes would be dense
  auto y = uma::rms_norm_sh(x, in.w, t, in.extra);
  // The fused kernels did run where asked (a silent fall-back to the Torch form would pass every comparison).
  const bool want_fused = fused && x.is_cuda();
  EXPECT_EQ(y.grad_fn()->name().find("RmsNormSh") != std::string::npos, want_fused) << y.grad_fn()->name();
  auto dx = torch::autograd::grad({(y * in.dy).sum()}, {x}, {}, false, false, true)[0];
  if (!dx.defined()) dx = torch::zeros_like(x);  // zero nodes: nothing reaches x
  return {y.detach(), dx};
}

std::vector<torch::Tensor> torch_form(const Inputs& in) { return layer_form(in, false); }

// The CPU reference on CPU copies of the inputs (x keeps its node stride).
template <typename T>
std::vector<torch::Tensor> reference(const Inputs& in_any) {
  const auto x_storage = in_any.x_storage.cpu();
  const int64_t N = in_any.x.size(0), C = in_any.x.size(2);
  const auto w = in_any.w.weight.cpu().contiguous(), b = in_any.w.bias.cpu();
  const auto e = in_any.extra.defined() ? in_any.extra.cpu() : torch::Tensor();
  const auto dy = in_any.dy.cpu().contiguous();
  auto y = torch::full({N, 9, C}, NAN, w.options()), dx = torch::full({N, 9, C}, NAN, w.options());
  uma::kernels::RmsNormShFwdParams<T> f;
  f.x = x_storage.data_ptr<T>(); f.ld = x_storage.size(1);
  f.weight = w.data_ptr<T>(); f.bias = b.data_ptr<T>(); f.extra_bias = e.defined() ? e.data_ptr<T>() : nullptr;
  f.y = y.data_ptr<T>(); f.nodes = N; f.channels = C; f.eps = kEps;
  uma::kernels::rms_norm_sh_fwd_reference(f);
  uma::kernels::RmsNormShBwdParams<T> g;
  g.grad_y = dy.data_ptr<T>(); g.x = f.x; g.ld = f.ld; g.weight = f.weight;
  g.grad_x = dx.data_ptr<T>(); g.nodes = N; g.channels = C; g.eps = kEps;
  uma::kernels::rms_norm_sh_bwd_reference(g);
  return {y, dx};
}

std::vector<torch::Tensor> reference_any(const Inputs& in) {
  return in.x.scalar_type() == torch::kFloat64 ? reference<double>(in) : reference<float>(in);
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
  EXPECT_EQ(g.numel(), w.numel());
  if (w.numel() == 0 || g.numel() != w.numel()) return d;
  const auto err = (g - w).abs();
  d.at = err.argmax().item<int64_t>();
  d.scale = w.abs().max().item<double>();
  d.rel = err[d.at].item<double>() / d.scale;
  if (g.isnan().any().item<bool>()) d.rel = INFINITY;  // unwritten outputs (the reference fills with NaN first)
  return d;
}

std::string describe(const Diff& d, const std::string& what, const Inputs& in) {
  std::ostringstream s;
  s << what << " N " << in.x.size(0) << " C " << in.x.size(2) << (in.extra.defined() ? " with" : " without")
    << " extra bias" << (in.x.scalar_type() == torch::kFloat64 ? " fp64" : " fp32") << ": max relative error "
    << std::scientific << std::setprecision(2) << d.rel << " at flat index " << d.at << " (scale " << d.scale << ")";
  return s.str();
}

void expect_close(const std::vector<torch::Tensor>& got, const std::vector<torch::Tensor>& want, const Inputs& in,
                  double tol, const std::string& what) {
  const Diff dy = rel_diff(got[0], want[0]);
  EXPECT_LE(dy.rel, tol) << describe(dy, what + " output", in);
  const Diff dx = rel_diff(got[1], want[1]);
  EXPECT_LE(dx.rel, tol) << describe(dx, what + " input gradient", in);
}

// Every case of the CPU tests: each channel count with and without the extra bias, then 0, 1 and 1001 nodes.
template <typename Fn>
void for_each_case(torch::Dtype dtype, torch::Device device, int64_t pad, Fn fn) {
  for (int64_t C : kChannels)
    for (bool extra : {false, true}) fn(make_inputs(kNodes, C, pad, extra, dtype, device));
  for (int64_t N : {int64_t(0), int64_t(1), int64_t(1001)}) fn(make_inputs(N, 128, pad, true, dtype, device));
}

}  // namespace

// fp64: the same maths in a different order (Torch sums f²·bal over rows then channels and forms the gradient through
// its ops' adjoints; the reference sums per row then over rows, and uses the closed form). Sums of ≤ 9·600 terms of
// size ~1-10: a few thousand ulps (1e-16) at most; measured ≤ 4.4e-16 relative to the largest entry: 1e-13.
TEST(RmsNormSh, ReferenceMatchesTorchFormFp64) {
  for_each_case(torch::kFloat64, torch::kCPU, kPad, [](const Inputs& in) {
    expect_close(reference<double>(in), torch_form(in), in, 1e-13, "reference vs torch");
  });
}

// fp32: the reference sums in double and rounds once; Torch's fp32 CPU form accumulates in float (the mean square and
// the backward's channel sums over up to 9·600 terms: ~sqrt(n)·6e-8 of the largest term for random rounding; measured
// ≤ 2.0e-7, at 1001 nodes of C = 128): 1e-6 relative to the largest entry. The reference itself must be within one
// rounding to float (unit round-off 6e-8 of each entry, so of the largest; measured ≤ 4.9e-8) of the fp64 Torch form
// on the same fp32 values: 1e-7.
TEST(RmsNormSh, ReferenceMatchesTorchFormFp32) {
  for_each_case(torch::kFloat32, torch::kCPU, kPad, [](const Inputs& in) {
    const auto got = reference<float>(in);
    expect_close(got, torch_form(in), in, 1e-6, "reference vs torch fp32");
    Inputs in64 = in;
    in64.x_storage = in.x_storage.to(torch::kFloat64);
    in64.x = in.x.to(torch::kFloat64);
    in64.w = {in.w.weight.to(torch::kFloat64), in.w.bias.to(torch::kFloat64)};
    if (in.extra.defined()) in64.extra = in.extra.to(torch::kFloat64);
    in64.dy = in.dy.to(torch::kFloat64);
    expect_close(got, torch_form(in64), in, 1e-7, "reference fp32 vs torch fp64");
  });
}

// The extra bias is the engine's former separate step (norm_1, then csd added to row 0 by a cat): the Torch form
// with it must be that, bit for bit (the same adds in the same order), so folding it changes no result.
TEST(RmsNormSh, ExtraBiasIsTheFormerSeparateAdd) {
  for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
    const auto in = make_inputs(kNodes, 128, 0, true, dtype, torch::kCPU);
    const uma::LayerTables t(dtype, torch::kCPU, uma::Fp32Gemm::strict, false);
    const auto h = uma::rms_norm_sh(in.x, in.w, t);
    const auto former = torch::cat({h.narrow(1, 0, 1) + in.extra.view({1, 1, 128}), h.narrow(1, 1, 8)}, 1);
    EXPECT_TRUE(torch::equal(uma::rms_norm_sh(in.x, in.w, t, in.extra), former));
    // And it does something: without it row 0 differs by the extra bias.
    EXPECT_FALSE(torch::equal(h, former));
  }
}

TEST(RmsNormSh, ReferenceRejectsBadSizes) {
  const auto in = make_inputs(2, 8, 0, false, torch::kFloat64, torch::kCPU);
  auto y = torch::empty({2, 9, 8}, torch::kFloat64);
  uma::kernels::RmsNormShFwdParams<double> f;
  f.x = in.x_storage.data_ptr<double>();
  f.weight = in.w.weight.data_ptr<double>(); f.bias = in.w.bias.data_ptr<double>();
  f.y = y.data_ptr<double>(); f.nodes = 2; f.channels = 8; f.ld = 72;
  EXPECT_NO_THROW(uma::kernels::rms_norm_sh_fwd_reference(f));
  f.ld = 71;  // a node stride shorter than the node's 9·C values
  EXPECT_THROW(uma::kernels::rms_norm_sh_fwd_reference(f), std::invalid_argument);
  f.ld = 72; f.channels = 0;
  EXPECT_THROW(uma::kernels::rms_norm_sh_fwd_reference(f), std::invalid_argument);
  f.channels = 8; f.nodes = -1;
  EXPECT_THROW(uma::kernels::rms_norm_sh_fwd_reference(f), std::invalid_argument);
  f.nodes = 2; f.eps = -1e-5;
  EXPECT_THROW(uma::kernels::rms_norm_sh_fwd_reference(f), std::invalid_argument);
  uma::kernels::RmsNormShBwdParams<double> g;
  g.x = f.x; g.weight = f.weight; g.grad_y = y.data_ptr<double>(); g.grad_x = y.data_ptr<double>();
  g.nodes = 2; g.channels = 8; g.ld = 71;
  EXPECT_THROW(uma::kernels::rms_norm_sh_bwd_reference(g), std::invalid_argument);
}

#ifdef UMA_HAVE_CUDA_KERNELS
// The fused CUDA kernels (layers.h rms_norm_sh with LayerTables::fused) against the Torch form on the GPU and the
// reference on the same values. Node strides 9·C (dense), 9·C + 3 (odd: the loop kernel) and 9·C + 4 (padded, still
// vector loads where C allows), and nodes that start one element off a 16-byte boundary (the loop kernel).
// fp64: 1e-13 as above. fp32: the kernels keep their sums in float, as torch's form does, each over ≤ 9·600 terms in
// its own order, so their error against the double-accumulated reference is of the size of torch's (1e-6, above);
// against torch's CUDA form, which carries float error of its own, twice that: 2e-6.
TEST(RmsNormSh, FusedCudaMatchesTorchFormAndReference) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device present";
  const torch::Device cuda(torch::kCUDA, 0);
  for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
    const bool f64 = dtype == torch::kFloat64;
    for (int64_t pad : {int64_t(0), kPad, int64_t(4), int64_t(1)}) {
      for_each_case(dtype, cuda, pad, [&](Inputs in) {
        if (pad == 1) {  // nodes start one element in: misaligned
          const int64_t N = in.x.size(0), C = in.x.size(2);
          in.x = in.x_storage.narrow(1, 1, 9 * C).view({N, 9, C});
        }
        const auto got = layer_form(in, true);
        EXPECT_TRUE(got[0].is_cuda() && got[0].sizes() == in.x.sizes());
        expect_close(got, torch_form(in), in, f64 ? 1e-13 : 2e-6, "cuda vs torch (pad " + std::to_string(pad) + ")");
        Inputs ref_in = in;  // the reference on the very values the kernels saw
        if (pad == 1) ref_in.x_storage = in.x.reshape({in.x.size(0), 9 * in.x.size(2)}).contiguous();
        expect_close(got, reference_any(ref_in), in, f64 ? 1e-13 : 1e-6,
                     "cuda vs reference (pad " + std::to_string(pad) + ")");
      });
    }
  }
}

// No atomics and a fixed reduction order: two runs give the same bits, forward and backward, on every kernel path
// (128: tile; 130: loop).
TEST(RmsNormSh, FusedCudaIsBitwiseRepeatable) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device present";
  const torch::Device cuda(torch::kCUDA, 0);
  for (auto dtype : {torch::kFloat64, torch::kFloat32})
    for (int64_t C : {int64_t(128), int64_t(130)}) {
      const auto in = make_inputs(20001, C, 0, true, dtype, cuda);
      const auto a = layer_form(in, true), b = layer_form(in, true);
      EXPECT_TRUE(torch::equal(a[0], b[0])) << "output, C " << C;
      EXPECT_TRUE(torch::equal(a[1], b[1])) << "input gradient, C " << C;
    }
}

// Argument checks of the wrapper, and weights that require grad: the wrapper refuses them, layers.h rms_norm_sh
// takes the Torch form for them (which gives their gradients) even with the fused kernels on.
TEST(RmsNormSh, FusedCudaChecksAndFallback) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device present";
  const torch::Device cuda(torch::kCUDA, 0);
  const auto in = make_inputs(kNodes, 64, 0, true, torch::kFloat64, cuda);
  using uma::fused::rms_norm_sh;
  EXPECT_THROW(rms_norm_sh(in.x.cpu(), in.w.weight, in.w.bias, in.extra, kEps), uma::Error);
  EXPECT_THROW(rms_norm_sh(in.x.narrow(1, 0, 8), in.w.weight, in.w.bias, in.extra, kEps), uma::Error);
  EXPECT_THROW(rms_norm_sh(in.x, in.w.weight.narrow(0, 0, 2), in.w.bias, in.extra, kEps), uma::Error);
  EXPECT_THROW(rms_norm_sh(in.x, in.w.weight, in.w.bias.narrow(0, 0, 63), in.extra, kEps), uma::Error);
  EXPECT_THROW(rms_norm_sh(in.x, in.w.weight, in.w.bias, in.extra.to(torch::kFloat32), kEps), uma::Error);
  EXPECT_THROW(rms_norm_sh(in.x, in.w.weight, torch::Tensor(), in.extra, kEps), uma::Error);
  EXPECT_THROW(rms_norm_sh(in.x, in.w.weight.clone().requires_grad_(true), in.w.bias, in.extra, kEps), uma::Error);

  uma::RMSNormSHW w{in.w.weight.clone().requires_grad_(true), in.w.bias.clone().requires_grad_(true)};
  std::vector<torch::Tensor> grads[2];
  for (int fused = 0; fused < 2; ++fused) {
    uma::LayerTables t(torch::kFloat64, cuda, uma::Fp32Gemm::strict, fused == 1);
    t.fused_node = fused == 1;
    auto x = in.x.detach().clone().requires_grad_(true);
    auto y = uma::rms_norm_sh(x, w, t, in.extra);
    grads[fused] = torch::autograd::grad({(y * in.dy).sum()}, {x, w.weight, w.bias});
  }
  // The same Torch calls on the same values: equal up to any reordering inside torch's reductions.
  for (int i = 0; i < 3; ++i) EXPECT_LE(rel_diff(grads[1][i], grads[0][i]).rel, 1e-13) << "gradient " << i;
}
#endif
