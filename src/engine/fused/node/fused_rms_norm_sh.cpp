// Autograd wrapper of the fused equivariant RMS norm kernels; see fused_rms_norm_sh.h.
#include "engine/fused/node/fused_rms_norm_sh.h"

#include <c10/cuda/CUDAGuard.h>

#include <string>

#include "engine/fused/fused_launch.h"
#include "kernels/rms_norm_sh/rms_norm_sh_launch.h"

namespace uma {
namespace fused {
namespace {

constexpr const char* kOp = "uma::fused::rms_norm_sh: ";
constexpr int64_t kRows = k::kRmsNormShRows;

// x as [N, 9·C] with each node's values dense and nodes that do not overlap: a view where one exists (its node
// stride is the kernel's ld), else a copy.
Tensor as_nodes(const Tensor& x) {
  const int64_t N = x.size(0), C = x.size(2);
  Tensor n = x;
  if ((C > 1 && n.stride(2) != 1) || n.stride(1) != C || (N > 1 && n.stride(0) < kRows * C)) n = n.contiguous();
  return n.view({N, kRows * C});  // rows and channels merge: stride(1) = C · stride(2) (or C = 1)
}

int64_t leading_dim(const Tensor& nodes) { return nodes.size(0) > 1 ? nodes.stride(0) : nodes.size(1); }

class RmsNormShFunction : public torch::autograd::Function<RmsNormShFunction> {
 public:
  static Tensor forward(AutogradContext* ctx, const Tensor& x, const Tensor& weight, const Tensor& bias,
                        const Tensor& extra_bias_arg, double eps) {
    const Tensor extra_bias = from_optional_arg(extra_bias_arg);
    const c10::cuda::CUDAGuard guard(x.device());
    const Tensor x2 = as_nodes(x), w = weight.contiguous(), b = bias.contiguous();
    const Tensor e = extra_bias.defined() ? extra_bias.contiguous() : Tensor();
    const int64_t N = x.size(0), C = x.size(2);
    Tensor y = torch::empty({N, kRows, C}, x.options());
    AT_DISPATCH_FLOATING_TYPES(x2.scalar_type(), "uma::fused::rms_norm_sh", [&] {
      k::RmsNormShFwdParams<scalar_t> p;
      p.x = x2.data_ptr<scalar_t>(); p.ld = leading_dim(x2);
      p.weight = w.data_ptr<scalar_t>(); p.bias = b.data_ptr<scalar_t>();
      p.extra_bias = e.defined() ? e.data_ptr<scalar_t>() : nullptr;
      p.y = y.data_ptr<scalar_t>();
      p.nodes = N; p.channels = C; p.eps = eps;
      launch([&] { k::rms_norm_sh_fwd(p, current_stream()); });
    });
    ctx->save_for_backward({x2, w});  // the input (and the constant weight): the backward recomputes f and s
    ctx->saved_data["eps"] = eps;
    return y;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const Tensor &x2 = saved[0], &w = saved[1];
    if (!grad_outputs[0].defined()) return {Tensor(), Tensor(), Tensor(), Tensor(), Tensor()};
    const int64_t N = x2.size(0), C = w.size(1);
    const Tensor gy = grad_outputs[0].contiguous();
    Tensor gx = torch::empty({N, kRows, C}, gy.options());
    const c10::cuda::CUDAGuard guard(x2.device());
    AT_DISPATCH_FLOATING_TYPES(x2.scalar_type(), "uma::fused::rms_norm_sh_backward", [&] {
      k::RmsNormShBwdParams<scalar_t> p;
      p.grad_y = gy.data_ptr<scalar_t>();
      p.x = x2.data_ptr<scalar_t>(); p.ld = leading_dim(x2);
      p.weight = w.data_ptr<scalar_t>();
      p.grad_x = gx.data_ptr<scalar_t>();
      p.nodes = N; p.channels = C; p.eps = ctx->saved_data["eps"].toDouble();
      launch([&] { k::rms_norm_sh_bwd(p, current_stream()); });
    });
    return {gx, Tensor(), Tensor(), Tensor(), Tensor()};
  }
};

}  // namespace

Tensor rms_norm_sh(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& extra_bias, double eps) {
  require(x.defined() && x.is_cuda() && x.dim() == 3 && x.size(1) == kRows && x.size(2) > 0 &&
              (x.scalar_type() == torch::kFloat32 || x.scalar_type() == torch::kFloat64),
          std::string(kOp) + "x must be a float32/float64 CUDA tensor [N, 9, C] with C > 0");
  const int64_t C = x.size(2);
  const auto same = [&](const Tensor& t) { return t.scalar_type() == x.scalar_type() && t.device() == x.device(); };
  require(weight.defined() && weight.dim() == 2 && weight.size(0) == k::kRmsNormShDegrees && weight.size(1) == C &&
              same(weight),
          std::string(kOp) + "weight must be [3, " + std::to_string(C) + "] of x's dtype and device");
  for (const Tensor* t : {&bias, &extra_bias})
    require((t == &extra_bias && !t->defined()) || (t->defined() && t->dim() == 1 && t->size(0) == C && same(*t)),
            std::string(kOp) + "bias and extra_bias (optional) must be [" + std::to_string(C) +
                "] of x's dtype and device");
  require(!weight.requires_grad() && !bias.requires_grad() && !(extra_bias.defined() && extra_bias.requires_grad()),
          std::string(kOp) + "the weights must not require grad (the kernels form the input gradient only)");
  return RmsNormShFunction::apply(x, weight, bias, optional_arg(extra_bias, x), eps);
}

}  // namespace fused
}  // namespace uma
