// Autograd wrapper of the fused node gate kernels; see fused_node_gate.h.
#include "engine/fused/node/fused_node_gate.h"

#include <c10/cuda/CUDAGuard.h>

#include <string>

#include "engine/fused/fused_launch.h"
#include "kernels/node_gate/node_gate_launch.h"

namespace uma {
namespace fused {
namespace {

constexpr const char* kOp = "uma::fused::node_gate: ";
constexpr int64_t kRows = k::kNodeGateRows;

// The kernels' view of a [N, 9, H] tensor with dense channels (one node: its node stride is free, so say 9 rows).
template <typename T, typename P>
k::NodeRows<P> rows_of(const Tensor& t) {
  k::NodeRows<P> r;
  r.p = t.data_ptr<T>();
  r.row_stride = t.stride(1);
  r.node_stride = t.size(0) > 1 ? t.stride(0) : kRows * t.stride(1);
  return r;
}

// t itself where the kernels can read it (dense channels, nodes and rows that do not overlap), else a copy.
Tensor as_rows(const Tensor& t) {
  const int64_t N = t.size(0), H = t.size(2), sr = t.stride(1), sn = N > 1 ? t.stride(0) : kRows * sr;
  const bool ok = (H == 1 || t.stride(2) == 1) && ((sr >= H && sn >= kRows * sr) || (sn >= H && sr >= N * sn));
  return ok ? t : t.contiguous();
}

// z as [N, ld] rows with dense columns, and its ld.
Tensor as_logits(const Tensor& z) {
  return z.stride(1) == 1 && (z.size(0) <= 1 || z.stride(0) >= z.size(1)) ? z : z.contiguous();
}
int64_t ld_of(const Tensor& z) { return z.size(0) > 1 ? z.stride(0) : z.size(1); }

// A new [N, 9, H] tensor in h's layout where empty_like keeps it and the kernels can write it, else contiguous.
Tensor empty_rows_like(const Tensor& h) {
  Tensor t = torch::empty_like(h);
  return as_rows(t).is_same(t) ? t : torch::empty(h.sizes(), h.options());
}

class NodeGateFunction : public torch::autograd::Function<NodeGateFunction> {
 public:
  static Tensor forward(AutogradContext* ctx, const Tensor& h_in, const Tensor& z_in) {
    const c10::cuda::CUDAGuard guard(h_in.device());
    const Tensor h = as_rows(h_in), z = as_logits(z_in);
    const int64_t N = h.size(0), H = h.size(2);
    Tensor out = empty_rows_like(h);  // a [9, N, H] GEMM output seen as [N, 9, H] stays so
    AT_DISPATCH_FLOATING_TYPES(h.scalar_type(), "uma::fused::node_gate", [&] {
      k::NodeGateFwdParams<scalar_t> p;
      p.h = rows_of<scalar_t, const scalar_t>(h);
      p.z = z.data_ptr<scalar_t>(); p.ld_z = ld_of(z);
      p.out = rows_of<scalar_t, scalar_t>(out);
      p.n_nodes = N; p.channels = H;
      launch([&] { k::node_gate_fwd(p, current_stream()); });
    });
    ctx->save_for_backward({h, z});
    return out;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const Tensor &h = saved[0], &z = saved[1];
    if (!grad_outputs[0].defined()) return {Tensor(), Tensor()};
    const int64_t N = h.size(0), H = h.size(2);
    const Tensor G = as_rows(grad_outputs[0]);
    Tensor gh = empty_rows_like(h), gz = torch::empty({N, 2 * H}, h.options());
    const c10::cuda::CUDAGuard guard(h.device());
    AT_DISPATCH_FLOATING_TYPES(h.scalar_type(), "uma::fused::node_gate_backward", [&] {
      k::NodeGateBwdParams<scalar_t> p;
      p.grad_out = rows_of<scalar_t, const scalar_t>(G);
      p.h = rows_of<scalar_t, const scalar_t>(h);
      p.z = z.data_ptr<scalar_t>(); p.ld_z = ld_of(z);
      p.grad_h = rows_of<scalar_t, scalar_t>(gh);
      p.grad_z = gz.data_ptr<scalar_t>();
      p.n_nodes = N; p.channels = H;
      launch([&] { k::node_gate_bwd(p, current_stream()); });
    });
    return {gh, gz};
  }
};

}  // namespace

Tensor node_gate(const Tensor& h, const Tensor& z) {
  require(h.defined() && h.is_cuda() && h.dim() == 3 && h.size(1) == kRows && h.size(2) > 0 &&
              (h.scalar_type() == torch::kFloat32 || h.scalar_type() == torch::kFloat64),
          std::string(kOp) + "h must be a float32/float64 CUDA tensor [N, 9, H] with H > 0");
  const int64_t N = h.size(0), H = h.size(2);
  require(z.defined() && z.dim() == 2 && z.size(0) == N && z.size(1) == 2 * H && z.scalar_type() == h.scalar_type() &&
              z.device() == h.device(),
          std::string(kOp) + "z must be [" + std::to_string(N) + ", " + std::to_string(2 * H) +
              "] of h's dtype and device");
  return NodeGateFunction::apply(h, z);
}

}  // namespace fused
}  // namespace uma
