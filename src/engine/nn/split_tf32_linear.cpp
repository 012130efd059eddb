// Autograd wrapper of the split-TF32 GEMM kernel (fp32_gemm.h's split_tf32 mode); see split_tf32_linear.h.
#include "engine/nn/split_tf32_linear.h"

#include <c10/cuda/CUDAGuard.h>

#include <atomic>

#include "engine/fused/fused_launch.h"
#include "kernels/gemm/split_tf32_gemm_launch.h"

namespace uma {
namespace fused {
namespace {

std::atomic<int64_t> kernel_calls{0}, fallback_calls{0};

// t as [rows, t.size(-1)] with unit column stride: a view where one exists (a 2-D view of strided rows keeps its
// row stride, which the kernel takes as the leading dimension), else a copy.
Tensor as_rows(const Tensor& t) {
  Tensor r = t.dim() == 2 ? t : t.reshape({-1, t.size(-1)});
  if (r.size(1) > 1 && r.stride(1) != 1) r = r.contiguous();
  return r;
}

int64_t leading_dim(const Tensor& rows) { return rows.size(0) > 1 ? rows.stride(0) : rows.size(1); }

// out = a op(b) + bias on the kernel; false (out untouched) when the kernel does not take these operands.
bool try_kernel(const Tensor& a, const Tensor& b, k::GemmBLayout layout, const Tensor& bias, Tensor& out) {
  k::SplitTf32GemmParams p;
  p.m = a.size(0);
  p.k = a.size(1);
  p.n = out.size(1);
  p.a = a.data_ptr<float>();
  p.lda = leading_dim(a);
  p.b = b.data_ptr<float>();
  p.ldb = b.stride(0);
  p.b_layout = layout;
  p.bias = bias.defined() ? bias.data_ptr<float>() : nullptr;
  p.d = out.data_ptr<float>();
  p.ldd = out.stride(0);
  if (!k::split_tf32_gemm_supported(p)) return false;
  launch([&] { k::split_tf32_gemm(p, current_stream()); });
  ++kernel_calls;
  return true;
}

class SplitTf32LinearFunction : public torch::autograd::Function<SplitTf32LinearFunction> {
 public:
  // b: the bias, or an empty tensor for none (torch's autograd Function takes no undefined inputs).
  static Tensor forward(AutogradContext* ctx, const Tensor& x, const Tensor& w, const Tensor& b) {
    const c10::cuda::CUDAGuard guard(x.device());
    const Tensor x2 = as_rows(x), wc = w.contiguous();
    const Tensor bc = b.numel() > 0 ? b.contiguous() : Tensor();
    Tensor y = torch::empty({x2.size(0), wc.size(0)}, x.options());
    if (!try_kernel(x2, wc, k::GemmBLayout::kWeightRows, bc, y)) {
      y = torch::nn::functional::linear(x2, wc, bc);
      ++fallback_calls;
    }
    ctx->save_for_backward({wc});
    ctx->saved_data["input_shape"] = x.sizes().vec();
    auto shape = x.sizes().vec();
    shape.back() = wc.size(0);
    return y.view(shape);
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const Tensor w = ctx->get_saved_variables()[0];
    const auto input_shape = ctx->saved_data["input_shape"].toIntVector();
    const Tensor& gy = grad_outputs[0];
    if (!gy.defined()) return {Tensor(), Tensor(), Tensor()};
    const c10::cuda::CUDAGuard guard(gy.device());
    const Tensor g2 = as_rows(gy);
    Tensor gx = torch::empty({g2.size(0), w.size(1)}, gy.options());
    if (!try_kernel(g2, w, k::GemmBLayout::kRowMajor, Tensor(), gx)) {
      gx = torch::mm(g2, w);
      ++fallback_calls;
    }
    return {gx.view(input_shape), Tensor(), Tensor()};
  }
};

}  // namespace

Tensor split_tf32_linear(const Tensor& x, const Tensor& w, const Tensor& b) {
  require(x.is_cuda() && x.scalar_type() == torch::kFloat32 && w.scalar_type() == torch::kFloat32 &&
              w.device() == x.device() && w.dim() == 2 && x.dim() >= 1 && x.size(-1) == w.size(1) &&
              (!b.defined() || (b.scalar_type() == torch::kFloat32 && b.device() == x.device() && b.numel() == w.size(0))),
          "uma::fused::split_tf32_linear: needs fp32 CUDA x [..., in], w [out, in], b [out] on one device");
  // The weights are constants in inference; should a caller ever train through this, torch's linear forms
  // the weight gradient this function does not.
  if (w.requires_grad() || (b.defined() && b.requires_grad())) {
    ++fallback_calls;
    return torch::nn::functional::linear(x, w, b);
  }
  return SplitTf32LinearFunction::apply(x, w, b.defined() ? b : torch::empty({0}, w.options()));
}

SplitTf32Counts split_tf32_counts() { return {kernel_calls.load(), fallback_calls.load()}; }

}  // namespace fused
}  // namespace uma
