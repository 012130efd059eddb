// Autograd wrapper of the fused LayerNorm + SiLU kernels; see fused_layer_norm_silu.h.
#include "engine/fused/edge/fused_layer_norm_silu.h"

#include <c10/cuda/CUDAGuard.h>

#include <string>

#include "engine/fused/fused_launch.h"
#include "kernels/layer_norm_silu/layer_norm_silu_launch.h"

namespace uma {
namespace fused {
namespace {

constexpr const char* kOp = "uma::fused::layer_norm_silu: ";

// x as [rows, W] with unit column stride and rows that do not overlap: a view where one exists (its row stride is
// the kernel's ld), else a copy.
Tensor as_rows(const Tensor& x) {
  Tensor r = x.dim() == 2 ? x : x.reshape({-1, x.size(-1)});
  if ((r.size(1) > 1 && r.stride(1) != 1) || (r.size(0) > 1 && r.stride(0) < r.size(1))) r = r.contiguous();
  return r;
}

int64_t leading_dim(const Tensor& rows) { return rows.size(0) > 1 ? rows.stride(0) : rows.size(1); }

class LayerNormSiluFunction : public torch::autograd::Function<LayerNormSiluFunction> {
 public:
  static Tensor forward(AutogradContext* ctx, const Tensor& x, const Tensor& weight, const Tensor& bias, double eps,
                        const Tensor& row_bias_arg, const Tensor& row_bias_index_arg, bool round_tf32) {
    const c10::cuda::CUDAGuard guard(x.device());
    const Tensor x2 = as_rows(x), w = weight.contiguous(), b = bias.contiguous();
    const Tensor row_bias = from_optional_arg(row_bias_arg), row_bias_index = from_optional_arg(row_bias_index_arg);
    const bool biased = row_bias.defined() && row_bias_index.defined();  // an index of 0 rows: nothing to add
    const Tensor rb = biased ? row_bias.contiguous() : Tensor(), ri = biased ? row_bias_index.contiguous() : Tensor();
    const int64_t rows = x2.size(0), W = x2.size(1);
    Tensor y = torch::empty({rows, W}, x.options());
    AT_DISPATCH_FLOATING_TYPES(x2.scalar_type(), "uma::fused::layer_norm_silu", [&] {
      k::LayerNormSiluFwdParams<scalar_t> p;
      p.x = x2.data_ptr<scalar_t>(); p.ld = leading_dim(x2);
      p.weight = w.data_ptr<scalar_t>(); p.bias = b.data_ptr<scalar_t>();
      p.y = y.data_ptr<scalar_t>();
      p.rows = rows; p.width = W; p.eps = eps;
      if (biased) { p.row_bias = rb.data_ptr<scalar_t>(); p.row_bias_index = ri.data_ptr<int64_t>(); }
      p.round_tf32 = round_tf32;
      launch([&] { k::layer_norm_silu_fwd(p, current_stream()); });
    });
    // The input only (and the row bias, a table and an index): the backward recomputes mean and rstd from it.
    ctx->save_for_backward({x2, w, b, rb, ri});
    ctx->saved_data["eps"] = eps;
    ctx->saved_data["round_tf32"] = round_tf32;
    ctx->saved_data["input_shape"] = x.sizes().vec();
    return y.view(x.sizes());
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const Tensor &x2 = saved[0], &w = saved[1], &b = saved[2], &rb = saved[3], &ri = saved[4];
    const auto input_shape = ctx->saved_data["input_shape"].toIntVector();
    if (!grad_outputs[0].defined()) return {Tensor(), Tensor(), Tensor(), Tensor(), Tensor(), Tensor(), Tensor()};
    const int64_t rows = x2.size(0), W = x2.size(1);
    const Tensor gy = grad_outputs[0].reshape({rows, W}).contiguous();
    Tensor gx = torch::empty({rows, W}, gy.options());
    const c10::cuda::CUDAGuard guard(x2.device());
    AT_DISPATCH_FLOATING_TYPES(x2.scalar_type(), "uma::fused::layer_norm_silu_backward", [&] {
      k::LayerNormSiluBwdParams<scalar_t> p;
      p.grad_y = gy.data_ptr<scalar_t>();
      p.x = x2.data_ptr<scalar_t>(); p.ld = leading_dim(x2);
      p.weight = w.data_ptr<scalar_t>(); p.bias = b.data_ptr<scalar_t>();
      p.grad_x = gx.data_ptr<scalar_t>();
      p.rows = rows; p.width = W; p.eps = ctx->saved_data["eps"].toDouble();
      if (rb.defined()) { p.row_bias = rb.data_ptr<scalar_t>(); p.row_bias_index = ri.data_ptr<int64_t>(); }
      p.round_tf32 = ctx->saved_data["round_tf32"].toBool();
      launch([&] { k::layer_norm_silu_bwd(p, current_stream()); });
    });
    return {gx.view(input_shape), Tensor(), Tensor(), Tensor(), Tensor(), Tensor(), Tensor()};
  }
};

}  // namespace

Tensor layer_norm_silu(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, const Tensor& row_bias,
                       const Tensor& row_bias_index, bool round_tf32) {
  require(x.is_cuda() && x.dim() >= 1 && x.size(-1) > 0 &&
              (x.scalar_type() == torch::kFloat32 || x.scalar_type() == torch::kFloat64),
          std::string(kOp) + "x must be a float32/float64 CUDA tensor [..., W] with W > 0");
  require_round_tf32_dtype("uma::fused::layer_norm_silu", round_tf32, x);
  const int64_t W = x.size(-1);
  for (const Tensor* t : {&weight, &bias})
    require(t->defined() && t->dim() == 1 && t->size(0) == W && t->scalar_type() == x.scalar_type() &&
                t->device() == x.device(),
            std::string(kOp) + "weight and bias must be [" + std::to_string(W) + "] of x's dtype and device");
  if (row_bias.defined()) {
    const int64_t rows = x.numel() / W;
    require(row_bias.dim() == 2 && row_bias.size(1) == W && row_bias.scalar_type() == x.scalar_type() &&
                row_bias.device() == x.device(),
            std::string(kOp) + "row_bias must be [T, " + std::to_string(W) + "] of x's dtype and device");
    require(row_bias_index.defined() && row_bias_index.dim() == 1 && row_bias_index.size(0) == rows &&
                row_bias_index.scalar_type() == torch::kInt64 && row_bias_index.device() == x.device(),
            std::string(kOp) + "row_bias_index must be [" + std::to_string(rows) + "] int64 on x's device");
  }
  // The weights are constants in inference; should a caller ever train through this, torch's composition forms the
  // weight and bias gradients that the kernels do not.
  if (weight.requires_grad() || bias.requires_grad() || (row_bias.defined() && row_bias.requires_grad())) {
    require(!round_tf32, std::string(kOp) + "round_tf32 is for constant weights (the kernels) only");
    const Tensor in = row_bias.defined()
                          ? x + row_bias.index_select(0, row_bias_index).view(x.sizes())
                          : x;
    return torch::silu(torch::layer_norm(in, {W}, weight, bias, eps));
  }
  return LayerNormSiluFunction::apply(x, weight, bias, eps, optional_arg(row_bias, x),
                                      optional_arg(row_bias.defined() ? row_bias_index : Tensor(), x), round_tf32);
}

}  // namespace fused
}  // namespace uma
