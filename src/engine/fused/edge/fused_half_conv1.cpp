// Convolution 1 on the fp16 message; see fused_half_conv1.h.
#include "engine/fused/edge/fused_half_conv1.h"

#include <c10/cuda/CUDAGuard.h>

#include <atomic>
#include <string>

#include "engine/fused/fused_launch.h"
#include "engine/nn/tensor_core_linear.h"
#include "kernels/gemm/split_tf32_gemm_launch.h"
#include "kernels/half_operands/half_gemm_launch.h"
#include "kernels/wigner/wigner_params.h"

namespace uma {
namespace fused {
namespace {

std::atomic<int64_t> launch_count{0};

// y = alpha A W16^T (+ b): A the fp16 group [E, rows, 2C] as [E, rows * 2C].
Tensor half_gemm_of(const Tensor& a, const HalfWeight& w, const Tensor& b) {
  const int64_t E = a.size(0), K = a.size(1) * a.size(2), n = w.values.size(0);
  require(w.values.size(1) == K, "uma::fused::half_conv1: a weight has " + std::to_string(w.values.size(1)) +
                                     " inputs, the message group " + std::to_string(K));
  Tensor y = torch::empty({E, n}, a.options().dtype(torch::kFloat32));
  k::HalfGemmParams p;
  p.m = E; p.n = n; p.k = K;
  p.a = static_cast<const uint16_t*>(a.data_ptr()); p.lda = K;
  p.b = static_cast<const uint16_t*>(w.values.data_ptr()); p.ldb = K;
  p.alpha = w.alpha;
  p.bias = b.defined() ? b.data_ptr<float>() : nullptr;
  p.d = y.data_ptr<float>(); p.ldd = n;
  launch([&] { k::half_gemm(p, current_stream()); });
  ++launch_count;
  return y;
}

class HalfConv1Function : public torch::autograd::Function<HalfConv1Function> {
 public:
  // s0..s2: the gather's fp32 stand-ins (their gradients are the message's); h0..h2: the fp16 message groups.
  static tensor_list forward(AutogradContext* ctx, const Tensor& s0, const Tensor& s1, const Tensor& s2,
                             const Tensor& h0, const Tensor& h1, const Tensor& h2, const HalfConv1Weights* w,
                             bool grads_rounded) {
    const Tensor h[3] = {h0, h1, h2};
    const int64_t E = h0.size(0), C2 = h0.size(2);
    for (int g = 0; g < 3; ++g)
      require(h[g].scalar_type() == torch::kHalf && h[g].is_cuda() && h[g].is_contiguous() && h[g].dim() == 3 &&
                  h[g].size(0) == E && h[g].size(1) == k::m_group_rows(g) && h[g].size(2) == C2,
              "uma::fused::half_conv1: the message groups must be gather_rotate_half's fp16 ones");
    const c10::cuda::CUDAGuard guard(h0.device());
    const HalfWeight* hw[3] = {&w->h0, &w->h1, &w->h2};
    Tensor y[3];
    for (int g = 0; g < 3; ++g) y[g] = half_gemm_of(h[g], *hw[g], g == 0 ? w->b0 : Tensor());
    ctx->save_for_backward({w->w0, w->w1, w->w2});
    ctx->saved_data["grads_rounded"] = grads_rounded;
    ctx->saved_data["edges"] = E;
    ctx->saved_data["message_channels"] = C2;
    (void)s0, (void)s1, (void)s2;
    return {y[0], y[1], y[2]};
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list& grad_outputs) {
    const auto w = ctx->get_saved_variables();
    const bool rounded = ctx->saved_data["grads_rounded"].toBool();
    const int64_t E = ctx->saved_data["edges"].toInt(), C2 = ctx->saved_data["message_channels"].toInt();
    const c10::cuda::CUDAGuard guard(w[0].device());
    Tensor gx[3];
    for (int g = 0; g < 3; ++g) {
      if (!grad_outputs[g].defined()) continue;  // the stand-in's gradient stays undefined: the gather reads zeros
      gx[g] = tf32_rna_input_gradient(grad_outputs[g], w[g], rounded).view({E, k::m_group_rows(g), C2});
      grad_outputs[g].reset();  // done with: freed now, as the unfused convolution's backward does
    }
    return {gx[0], gx[1], gx[2], Tensor(), Tensor(), Tensor(), Tensor(), Tensor()};
  }
};

bool aligned16(const Tensor& t) { return !t.defined() || reinterpret_cast<uintptr_t>(t.data_ptr()) % 16 == 0; }

// Whether the op takes a model of `message_channels` = 2C with these weights (half_conv1_weights).
bool takes(int64_t message_channels, const HalfConv1Weights& w) {
  const Tensor* ws[3] = {&w.w0, &w.w1, &w.w2};
  for (int g = 0; g < 3; ++g) {
    const Tensor& t = *ws[g];
    if (!t.is_cuda() || t.scalar_type() != torch::kFloat32 || t.dim() != 2 ||
        t.size(1) != k::m_group_rows(g) * message_channels || t.size(0) % k::kHalfGemmAlignmentD != 0)
      return false;
  }
  const bool bias_ok = !w.b0.defined() || (w.b0.dim() == 1 && w.b0.size(0) == w.w0.size(0) &&
                                           w.b0.scalar_type() == torch::kFloat32 && aligned16(w.b0));
  return message_channels % k::kHalfGemmAlignmentAB == 0 && bias_ok && k::split_tf32_wgmma_available();
}

}  // namespace

std::vector<HalfConv1Weights> half_conv1_weights(const std::vector<MixedBlock>& blocks, int64_t message_channels) {
  std::vector<HalfConv1Weights> made;
  for (const MixedBlock& b : blocks) {
    const MixedSO2Conv& c = b.so2_conv_1;
    if (!c.fc_m0.weight.defined() || !c.fc_m1.block_weight.defined() || !c.fc_m2.block_weight.defined()) return {};
    HalfConv1Weights w;
    w.w0 = c.fc_m0.weight.contiguous(); w.w1 = c.fc_m1.block_weight.contiguous();
    w.w2 = c.fc_m2.block_weight.contiguous();
    w.b0 = c.fc_m0.bias.defined() ? c.fc_m0.bias.contiguous() : Tensor();
    if (!takes(message_channels, w)) return {};
    w.h0 = half_weight(w.w0); w.h1 = half_weight(w.w1); w.h2 = half_weight(w.w2);
    made.push_back(std::move(w));
  }
  return made;
}

std::array<Tensor, 3> half_conv1(const std::array<Tensor, 6>& gathered, const HalfConv1Weights& w,
                                 bool grads_rounded) {
  const auto y = HalfConv1Function::apply(gathered[0], gathered[1], gathered[2], gathered[3], gathered[4],
                                          gathered[5], &w, grads_rounded);
  return {y[0], y[1], y[2]};
}

int64_t half_conv1_launches() { return launch_count.load(); }

}  // namespace fused
}  // namespace uma
