// Autograd wrapper of the fused edge gate kernels; see fused_edge_gate.h.
#include "engine/fused/edge/fused_edge_gate.h"

#include <c10/cuda/CUDAGuard.h>

#include <string>

#include "engine/fused/fused_launch.h"
#include "kernels/edge_gate/edge_gate_launch.h"

namespace uma {
namespace fused {
namespace {

constexpr const char* kOp = "uma::fused::edge_gate: ";

Tensor group(const Tensor& t, int64_t E, int64_t rows, int64_t H, const Tensor& like, const char* name) {
  require(t.dim() == 3 && t.size(0) == E && t.size(1) == rows && t.size(2) == H,
          kOp + std::string(name) + " must be [" + std::to_string(E) + "," + std::to_string(rows) + "," +
              std::to_string(H) + "]");
  require(t.scalar_type() == like.scalar_type() && t.device() == like.device(),
          kOp + std::string(name) + " must match the gate's dtype and device");
  return t.contiguous();
}

class EdgeGateFunction : public torch::autograd::Function<EdgeGateFunction> {
 public:
  static tensor_list forward(AutogradContext* ctx, const Tensor& m0g_in, const Tensor& m1_in, const Tensor& m2_in,
                             bool round_tf32) {
    require(m0g_in.is_cuda() && m0g_in.dim() == 2 && m0g_in.size(1) % 5 == 0 &&
                (m0g_in.scalar_type() == torch::kFloat32 || m0g_in.scalar_type() == torch::kFloat64),
            std::string(kOp) + "m0_with_gate must be a float32/float64 CUDA tensor [E, 5H]");
    const int64_t E = m0g_in.size(0), H = m0g_in.size(1) / 5;
    const Tensor m0g = m0g_in.stride(1) == 1 && m0g_in.stride(0) >= 5 * H ? m0g_in : m0g_in.contiguous();
    const Tensor m1 = group(m1_in, E, 4, H, m0g, "m1"), m2 = group(m2_in, E, 2, H, m0g, "m2");
    const c10::cuda::CUDAGuard guard(m0g.device());
    Tensor o0 = torch::empty({E, 3, H}, m0g.options()), o1 = torch::empty_like(m1), o2 = torch::empty_like(m2);
    AT_DISPATCH_FLOATING_TYPES(m0g.scalar_type(), "uma::fused::edge_gate", [&] {
      k::EdgeGateFwdParams<scalar_t> p;
      p.m0g = m0g.data_ptr<scalar_t>(); p.ld = E > 1 ? m0g.stride(0) : 5 * H;
      p.m1 = m1.data_ptr<scalar_t>(); p.m2 = m2.data_ptr<scalar_t>();
      p.out0 = o0.data_ptr<scalar_t>(); p.out1 = o1.data_ptr<scalar_t>(); p.out2 = o2.data_ptr<scalar_t>();
      p.n_edges = E; p.channels = H;
      p.round_tf32 = round_tf32;
      launch([&] { k::edge_gate_fwd(p, current_stream()); });
    });
    ctx->save_for_backward({m0g, m1, m2});
    ctx->saved_data["round_tf32"] = round_tf32;
    return {o0, o1, o2};
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto g =
        edge_gate_backward(saved[0], saved[1], saved[2], grad_outputs, ctx->saved_data["round_tf32"].toBool());
    return {g[0], g[1], g[2], Tensor()};
  }
};

}  // namespace

std::array<torch::Tensor, 3> edge_gate_backward(const torch::Tensor& m0g, const torch::Tensor& m1, const torch::Tensor& m2,
                                                const std::vector<torch::Tensor>& grad_outputs, bool round_tf32) {
  require_round_tf32_dtype("uma::fused::edge_gate_backward", round_tf32, m0g);
  const int64_t E = m0g.size(0), H = m0g.size(1) / 5;
  const int64_t rows[3] = {3, 4, 2};
  Tensor G[3];
  for (int i = 0; i < 3; ++i)  // an output nobody used has no gradient: zeros
    G[i] = grad_outputs[i].defined() ? grad_outputs[i].contiguous() : torch::zeros({E, rows[i], H}, m0g.options());
  Tensor g0 = torch::empty({E, 5 * H}, m0g.options()), g1 = torch::empty_like(m1), g2 = torch::empty_like(m2);
  const c10::cuda::CUDAGuard guard(m0g.device());
  AT_DISPATCH_FLOATING_TYPES(m0g.scalar_type(), "uma::fused::edge_gate_backward", [&] {
    k::EdgeGateBwdParams<scalar_t> p;
    p.grad_out0 = G[0].data_ptr<scalar_t>(); p.grad_out1 = G[1].data_ptr<scalar_t>();
    p.grad_out2 = G[2].data_ptr<scalar_t>();
    p.m0g = m0g.data_ptr<scalar_t>(); p.ld = E > 1 ? m0g.stride(0) : 5 * H;
    p.m1 = m1.data_ptr<scalar_t>(); p.m2 = m2.data_ptr<scalar_t>();
    p.grad_m0g = g0.data_ptr<scalar_t>(); p.grad_m1 = g1.data_ptr<scalar_t>(); p.grad_m2 = g2.data_ptr<scalar_t>();
    p.n_edges = E; p.channels = H;
    p.round_tf32 = round_tf32;
    launch([&] { k::edge_gate_bwd(p, current_stream()); });
  });
  return {g0, g1, g2};
}

std::array<torch::Tensor, 3> edge_gate(const torch::Tensor& m0_with_gate, const torch::Tensor& m1,
                                       const torch::Tensor& m2, bool round_tf32) {
  require_round_tf32_dtype("uma::fused::edge_gate", round_tf32, m0_with_gate);
  const auto out = EdgeGateFunction::apply(m0_with_gate, m1, m2, round_tf32);
  return {out[0], out[1], out[2]};
}

}  // namespace fused
}  // namespace uma
