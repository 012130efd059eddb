// Autograd wrapper of K2's forward (the fused gate + conv 2); see fused_gate_conv2.h.
#include "engine/fused/edge/fused_gate_conv2.h"

#include <c10/cuda/CUDAGuard.h>

#include <string>

#include "engine/fused/edge/fused_edge_gate.h"
#include "engine/fused/fused_launch.h"
#include "engine/nn/tensor_core_linear.h"
#include "kernels/edge_block/gate_conv2_launch.h"
#include "kernels/gemm/split_tf32_gemm_launch.h"

namespace uma {
namespace fused {
namespace {

constexpr const char* kOp = "uma::fused::gate_conv2: ";

class GateConv2Function : public torch::autograd::Function<GateConv2Function> {
 public:
  // b0: the bias, or a defined empty stand-in for none (fused_launch.h optional_arg).
  // host: a GateConv2Host; round_tf32: gate_conv2's (TMA host only).
  static tensor_list forward(AutogradContext* ctx, const Tensor& m0g_in, const Tensor& m1_in, const Tensor& m2_in,
                             const Tensor& w0, const Tensor& b0_arg, const Tensor& w1, const Tensor& w2, int64_t host,
                             bool round_tf32) {
    const int64_t E = m0g_in.size(0), H = m0g_in.size(1) / 5;
    const Tensor m0g = m0g_in.stride(1) == 1 && m0g_in.stride(0) >= 5 * H ? m0g_in : m0g_in.contiguous();
    const Tensor m1 = m1_in.contiguous(), m2 = m2_in.contiguous();
    const Tensor b0_opt = from_optional_arg(b0_arg);
    const Tensor b0 = b0_opt.defined() ? b0_opt.contiguous() : Tensor();  // kept alive for the launch
    const Tensor w[3] = {w0.contiguous(), w1.contiguous(), w2.contiguous()};
    const c10::cuda::CUDAGuard guard(m0g.device());
    Tensor y[3];
    k::GateConv2Params<float> p;
    p.m0g = m0g.data_ptr<float>();
    p.ld = E > 1 ? m0g.stride(0) : 5 * H;
    p.m1 = m1.data_ptr<float>();
    p.m2 = m2.data_ptr<float>();
    p.n_edges = E;
    p.channels = H;
    for (int g = 0; g < 3; ++g) {
      require(w[g].dim() == 2 && w[g].size(1) == k::gate_conv2_k(g, H),
              std::string(kOp) + "weight " + std::to_string(g) + " must be [n, " +
                  std::to_string(k::gate_conv2_k(g, H)) + "]");
      y[g] = torch::empty({E, w[g].size(0)}, m0g.options());
      p.weight[g] = w[g].data_ptr<float>();
      p.n[g] = w[g].size(0);
      p.y[g] = y[g].data_ptr<float>();
    }
    p.bias0 = b0.defined() ? b0.data_ptr<float>() : nullptr;
    if (static_cast<GateConv2Host>(host) == GateConv2Host::tma) {
      // The gate factors and a zero bias (gate_conv2_launch.h), freed when the forward's work is done with them
      // (the caching allocator orders the reuse on this stream).
      const Tensor workspace = torch::empty({k::gate_conv2_tma_workspace_floats(p)}, m0g.options());
      launch([&] { k::gate_conv2_tf32_tma(p, workspace.data_ptr<float>(), current_stream()); });
    } else {
      launch([&] { k::gate_conv2_tf32(p, current_stream()); });
    }
    ctx->save_for_backward({m0g, m1, m2, w[0], w[1], w[2]});
    ctx->saved_data["host"] = host;
    ctx->saved_data["round_tf32"] = round_tf32;
    return {y[0], y[1], y[2]};
  }

  // grad_outputs by reference: torch's CppNode passes its own list, which holds the only references to the gradients
  // (moved in from the autograd engine), so that releasing one here frees it (below).
  static tensor_list backward(AutogradContext* ctx, tensor_list& grad_outputs) {
    const auto s = ctx->get_saved_variables();
    const int64_t E = s[0].size(0), H = s[0].size(1) / 5;
    const int64_t rows[3] = {3, 4, 2};
    const c10::cuda::CUDAGuard guard(s[0].device());
    const bool tma = static_cast<GateConv2Host>(ctx->saved_data["host"].toInt()) == GateConv2Host::tma;
    const bool round_tf32 = ctx->saved_data["round_tf32"].toBool();
    std::vector<Tensor> gated(3);  // the gradients of the gate's outputs: dy_g W_g
    for (int g = 0; g < 3; ++g)
      if (grad_outputs[g].defined()) {
        gated[g] = (tma ? tf32_rna_input_gradient(grad_outputs[g], s[3 + g], round_tf32)
                        : tf32_rs_input_gradient(grad_outputs[g], s[3 + g]))
                       .view({E, rows[g], H});
        // dy_g is done with: let it go now, as the unfused convolution's backward does once it has used it, rather
        // than keep all three ([E, 9C]) alive through the gate's adjoint (+5 % of the evaluation's peak at carbon
        // 2000 on an H100 before this release; benchmarks/results/2026-12-07-h100-preround-k2.md).
        grad_outputs[g].reset();
      }
    const auto d = edge_gate_backward(s[0], s[1], s[2], gated, round_tf32);
    return {d[0], d[1], d[2], Tensor(), Tensor(), Tensor(), Tensor(), Tensor(), Tensor()};
  }
};

}  // namespace

bool gate_conv2_available(const Tensor& m0_with_gate) {
  return m0_with_gate.is_cuda() && m0_with_gate.scalar_type() == torch::kFloat32 && m0_with_gate.dim() == 2 &&
         m0_with_gate.size(1) % 5 == 0 && (m0_with_gate.size(1) / 5) % 32 == 0 && k::split_tf32_wgmma_available();
}

std::array<Tensor, 3> gate_conv2(const Tensor& m0_with_gate, const Tensor& m1, const Tensor& m2, const Tensor& w0,
                                 const Tensor& b0, const Tensor& w1, const Tensor& w2, GateConv2Host host,
                                 bool round_tf32) {
  require(!round_tf32 || host == GateConv2Host::tma, std::string(kOp) + "round_tf32 needs the TMA host");
  require(gate_conv2_available(m0_with_gate), std::string(kOp) +
                                                  "needs fp32 CUDA tensors on a compute-capability 9.0 GPU and H a "
                                                  "multiple of 32 (m0_with_gate [E, 5H])");
  const int64_t E = m0_with_gate.size(0), H = m0_with_gate.size(1) / 5;
  require(m1.dim() == 3 && m1.size(0) == E && m1.size(1) == 4 && m1.size(2) == H && m2.dim() == 3 &&
              m2.size(0) == E && m2.size(1) == 2 && m2.size(2) == H,
          std::string(kOp) + "m1 must be [E,4,H] and m2 [E,2,H]");
  for (const Tensor* t : {&m1, &m2, &w0, &w1, &w2, &b0})
    require(!t->defined() || (t->scalar_type() == torch::kFloat32 && t->device() == m0_with_gate.device()),
            std::string(kOp) + "every tensor must be fp32 on m0_with_gate's device");
  const auto y = GateConv2Function::apply(m0_with_gate, m1, m2, w0, optional_arg(b0, w0), w1, w2,
                                          static_cast<int64_t>(host), round_tf32);
  return {y[0], y[1], y[2]};
}

}  // namespace fused
}  // namespace uma
