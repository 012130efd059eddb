#include "engine/nn/layers.h"

#include <stdexcept>

#ifdef UMA_HAVE_CUDA_KERNELS
#include "engine/fused/edge/fused_layer_norm_silu.h"
#include "engine/fused/node/fused_node_gate.h"
#include "engine/fused/node/fused_rms_norm_sh.h"
#endif

namespace uma {

namespace F = torch::nn::functional;
using torch::indexing::Slice;

torch::Tensor MixedLinear::apply(const torch::Tensor& x, Tf32Operands rounded) const {
  if (weight.defined()) return linear_in_mode(x, weight, bias, gemm, rounded);
  torch::Tensor y;
  for (int64_t e = 0; e < experts.size(0); ++e) {
    auto ye = coefficients[e] * linear_in_mode(x, experts[e], torch::Tensor(), gemm, {rounded.input_rounded, false});
    y = y.defined() ? y + ye : ye;
  }
  return bias.defined() ? y + bias : y;
}

LayerTables::LayerTables(torch::Dtype dtype, torch::Device device, Fp32Gemm gemm_mode, bool fused_kernels)
    : gemm(gemm_mode), fused(fused_kernels) {
  auto i64 = torch::TensorOptions().dtype(torch::kInt64);
  degree_of_coefficient = torch::tensor({0, 1, 1, 1, 2, 2, 2, 2, 2}, i64).to(device);
  degree_balance = torch::tensor({1.0 / 3, 1.0 / 9, 1.0 / 9, 1.0 / 9, 1.0 / 15, 1.0 / 15, 1.0 / 15, 1.0 / 15, 1.0 / 15},
                                 torch::TensorOptions().dtype(torch::kFloat64))
                       .view({1, 9, 1})
                       .to(device, dtype);
}

torch::Tensor linear(const torch::Tensor& x, const LinearW& w, Fp32Gemm gemm, Tf32Operands rounded) {
  return linear_in_mode(x, w.weight, w.bias, gemm, rounded);
}

namespace {

// silu(LayerNorm(h)) over the last dimension (eps 1e-5, torch's default, as fairchem's nn.LayerNorm): the fused
// kernels read the pre-norm rows once each way (and keep only them for the backward) where torch writes and reads
// back the normalised rows and their statistics.
// With a row bias (table [T, W], index [rows]) the rows normalised are h + table[index] (the fused kernel adds it on
// the way in; the Torch form looks it up and adds).
// round_tf32: the output and the input gradient stored rounded to TF32 (LayerTables::round_tf32_operands; the fused
// kernel only, which the engine guarantees where it asks for it).
torch::Tensor layer_norm_silu(const torch::Tensor& h, const LayerNormW& w, bool fused, bool round_tf32,
                              const torch::Tensor& row_bias = torch::Tensor(),
                              const torch::Tensor& row_bias_index = torch::Tensor()) {
  constexpr double kEps = 1e-5;
#ifdef UMA_HAVE_CUDA_KERNELS
  if (fused && h.is_cuda() && h.stride(-1) == 1)
    return fused::layer_norm_silu(h, w.weight, w.bias, kEps, row_bias, row_bias_index, round_tf32);
#endif
  if (round_tf32) throw std::logic_error("layer_norm_silu: TF32 rounding needs the fused kernel");
  const auto in = row_bias.defined() ? h + row_bias.index_select(0, row_bias_index) : h;
  return torch::silu(torch::layer_norm(in, {h.size(-1)}, w.weight, w.bias, kEps));
}

// RadialMLP after its first Linear (whose output is h0, or h0 + row_bias[row_bias_index]) and before its last. With
// t.round_tf32_operands both normalisations store their outputs and input gradients rounded: lin3 reads both as they
// are, and so do the Linears on either side (lin0's gradient, lin6's input).
torch::Tensor radial_mlp_between(const torch::Tensor& h0, const RadialMLPW& w, const LayerTables& t,
                                 const torch::Tensor& row_bias = torch::Tensor(),
                                 const torch::Tensor& row_bias_index = torch::Tensor()) {
  const bool r = t.round_tf32_operands;
  auto h = layer_norm_silu(h0, w.norm1, t.fused, r, row_bias, row_bias_index);
  return layer_norm_silu(linear(h, w.lin3, t.gemm, {r, r}), w.norm4, t.fused, r);
}

// RadialMLP after its first Linear.
torch::Tensor radial_mlp_after_lin0(const torch::Tensor& h0, const RadialMLPW& w, const LayerTables& t,
                                   bool output_grad_rounded, const torch::Tensor& row_bias = torch::Tensor(),
                                   const torch::Tensor& row_bias_index = torch::Tensor()) {
  return linear(radial_mlp_between(h0, w, t, row_bias, row_bias_index), w.lin6, t.gemm,
                {t.round_tf32_operands, output_grad_rounded});
}

// lin0 on the Gaussians (not rounded: the engine's geometry makes them), its gradient from the first normalisation.
torch::Tensor radial_lin0_gauss(const torch::Tensor& gauss, const RadialMLPW& w, const LayerTables& t) {
  return linear_in_mode(gauss, w.lin0_gauss, torch::Tensor(), t.gemm, {false, t.round_tf32_operands});
}

}  // namespace

torch::Tensor radial_mlp(const torch::Tensor& x, const RadialMLPW& w, const LayerTables& t) {
  return radial_mlp_after_lin0(linear(x, w.lin0, t.gemm, {false, t.round_tf32_operands}), w, t, false);
}

torch::Tensor radial_mlp(const torch::Tensor& gauss, const torch::Tensor& pair, const RadialMLPW& w,
                         const LayerTables& t, bool output_grad_rounded) {
  // lin0's element-pair part goes in as the first normalisation's row bias: no [E, hidden] lookup and add.
  return radial_mlp_after_lin0(radial_lin0_gauss(gauss, w, t), w, t, output_grad_rounded && t.round_tf32_operands,
                               w.lin0_pair, pair);
}

torch::Tensor radial_mlp_hidden(const torch::Tensor& gauss, const torch::Tensor& pair, const RadialMLPW& w,
                                const LayerTables& t) {
  return radial_mlp_between(radial_lin0_gauss(gauss, w, t), w, t, w.lin0_pair, pair);
}

torch::Tensor rms_norm_sh(const torch::Tensor& x, const RMSNormSHW& w, const LayerTables& t,
                          const torch::Tensor& extra_bias) {
  constexpr double kEps = 1e-5;
#ifdef UMA_HAVE_CUDA_KERNELS
  // One kernel each way where torch's form below is ~12 forward and ~20 backward (the weights are constants here;
  // a caller that trains them takes torch's form, which gives their gradients).
  if (t.fused_node && x.is_cuda() && !w.weight.requires_grad() && !w.bias.requires_grad() &&
      !(extra_bias.defined() && extra_bias.requires_grad()))
    return fused::rms_norm_sh(x, w.weight, w.bias, extra_bias, kEps);
#endif
  // Centre the l = 0 row over channels, then one scale per node from the degree-balanced mean square
  // (weight 1/((2l+1)(lmax+1)) per coefficient), then per-degree affine weights and an l = 0 bias.
  const int64_t C = x.size(2);
  auto xs = x.split_with_sizes({1, 8}, 1);
  auto l0 = xs[0];
  auto feature = torch::cat({l0 - l0.mean(2, true), xs[1]}, 1);
  auto norm = (feature.pow(2) * t.degree_balance).sum(1, true).mean(2, true);  // [N,1,1]
  norm = (norm + kEps).pow(-0.5);
  auto out = feature * (norm * w.weight.index_select(0, t.degree_of_coefficient).view({1, 9, C}));
  auto os = out.split_with_sizes({1, 8}, 1);
  auto out0 = os[0] + w.bias.view({1, 1, C});
  if (extra_bias.defined()) out0 = out0 + extra_bias.view({1, 1, C});  // after the bias, as a separate add would be
  return torch::cat({out0, os[1]}, 1);
}

namespace {

// SO2_m_Conv: x_m [E,2,K*Cin] (+m row, -m row) -> [E,2K,Cout]: K real rows then K imaginary rows
// (the M-major order), where the weight is [W1; W2], out_r = W1 x_r - W2 x_i, out_i = W2 x_r + W1 x_i.
torch::Tensor so2_m_conv(const torch::Tensor& x_m, const MixedLinear& fc, int64_t out_channels,
                         Tf32Operands rounded) {
  const int64_t E = x_m.size(0);
  if (fc.block_weight.defined()) {
    // One GEMM [x_r | x_i] . W_block^T = [out_r | out_i]. A 2-D view of strided rows goes to cuBLAS
    // as is (leading dimension), where a 3-D one would become a per-edge batched GEMM.
    auto y = linear_in_mode(x_m.reshape({E, 2 * x_m.size(2)}), fc.block_weight, torch::Tensor(), fc.gemm, rounded);
    return y.view({E, y.size(1) / out_channels, out_channels});
  }
  // The outputs are combined below (r0 - i1, ...): their gradients reach the GEMM as sums, not as stored.
  auto y = fc.apply(x_m.contiguous(), {rounded.input_rounded, false});  // [E,2,2*half]; one GEMM when contiguous
  const int64_t half = y.size(2) / 2;
  auto parts = y.reshape({E, 4, half}).unbind(1);
  auto r0 = parts[0], i0 = parts[1], r1 = parts[2], i1 = parts[3];
  // Explicit sizes (no -1): a view of zero edges cannot infer a dimension.
  const int64_t degrees = half / out_channels;
  return torch::cat({(r0 - i1).view({E, degrees, out_channels}), (r1 + i0).view({E, degrees, out_channels})}, 1);
}

}  // namespace

MGroups split_m(const torch::Tensor& x) {
  // M-major rows: m = 0 -> 0..2 (3 degrees), m = 1 -> 3..6 (+m l1,l2 | -m l1,l2), m = 2 -> 7..8.
  auto xs = x.split_with_sizes({3, 4, 2}, 1);
  return {xs[0], xs[1], xs[2]};
}

torch::Tensor join_m(const MGroups& x) { return torch::cat({x.m0, x.m1, x.m2}, 1); }

MGroups so2_conv(const MGroups& x, const torch::Tensor& radial, const MixedSO2Conv& w, int64_t out_channels,
                 int64_t gate_channels, torch::Tensor* gate, torch::Tensor* m0_with_gate, Tf32Operands rounded) {
  const int64_t E = x.m0.size(0), Cin = x.m0.size(2);
  // Each group as rows of one matrix (a view where the group's rows are adjacent, as in all callers).
  auto x0 = x.m0.reshape({E, 3 * Cin});
  auto x1 = x.m1.reshape({E, 2, 2 * Cin});
  auto x2 = x.m2.reshape({E, 2, Cin});
  if (radial.defined()) {
    auto rs = radial.split_with_sizes({3 * Cin, 2 * Cin, Cin}, 1);
    x0 = x0 * rs[0];
    x1 = x1 * rs[1].unsqueeze(1);
    x2 = x2 * rs[2].unsqueeze(1);
    rounded.input_rounded = false;  // scaled here, after its producer
  }
  return {split_m0_output(w.fc_m0.apply(x0, rounded), out_channels, gate_channels, gate, m0_with_gate),
          so2_m_conv(x1, w.fc_m1, out_channels, rounded), so2_m_conv(x2, w.fc_m2, out_channels, rounded)};
}

torch::Tensor split_m0_output(torch::Tensor y0, int64_t out_channels, int64_t gate_channels, torch::Tensor* gate,
                              torch::Tensor* m0_with_gate) {
  if (m0_with_gate) *m0_with_gate = y0;
  if (gate_channels > 0) {
    auto ys = y0.split_with_sizes({gate_channels, y0.size(1) - gate_channels}, 1);
    *gate = ys[0];
    y0 = ys[1];
  }
  return y0.view({y0.size(0), 3, out_channels});
}

MGroups edge_gate(const MGroups& x, const torch::Tensor& gate_logits) {
  const int64_t E = x.m0.size(0), H = x.m0.size(2);
  // Rows of degree 1 and 2 come in (l1, l2) pairs in m0 (after l0) and in m1 (for +1 and -1); m2 is
  // l2 only: gate them by broadcasting instead of gathering (an index_select's backward is a scatter-add).
  auto g = torch::sigmoid(gate_logits).view({E, 1, 2, H});
  auto m0 = torch::cat({torch::silu(x.m0.narrow(1, 0, 1)), x.m0.narrow(1, 1, 2) * g.select(1, 0)}, 1);
  auto m1 = (x.m1.reshape({E, 2, 2, H}) * g).view({E, 4, H});
  auto m2 = x.m2 * g.select(2, 1);
  return {m0, m1, m2};
}

namespace {

// nn/so3_layers.py SO3_Linear: per-degree weight [3,out,in] on L-major rows, bias on l = 0 only; with the per-row
// forms made at load (SO3LinearW::weight_per_coefficient, bias_per_coefficient) one batched GEMM and one add, where
// expanding the weight here and adding the bias to a split-off row would be an index_select, a split and a cat more
// per call (and their gradients).
torch::Tensor so3_linear(const torch::Tensor& x, const SO3LinearW& w) {
  return torch::einsum("bmi,moi->bmo", {x, w.weight_per_coefficient}) + w.bias_per_coefficient;
}

}  // namespace

torch::Tensor node_gate(const torch::Tensor& h, const torch::Tensor& gate_logits, bool fused) {
#ifdef UMA_HAVE_CUDA_KERNELS
  // One kernel each way where the form below is ~8 forward and ~15 backward.
  if (fused && h.is_cuda()) return fused::node_gate(h, gate_logits);
#endif
  const int64_t N = h.size(0), H = h.size(2);
  // L-major rows 1..3 (l = 1) and 4..8 (l = 2) each take their degree's gate, broadcast.
  auto g = torch::sigmoid(torch::silu(gate_logits)).view({N, 2, 1, H});
  auto hs = h.split_with_sizes({1, 3, 5}, 1);
  return torch::cat({torch::silu(hs[0]), hs[1] * g.select(1, 0), hs[2] * g.select(1, 1)}, 1);
}

torch::Tensor spectral_atomwise(const torch::Tensor& x, const BlockW& w, const LayerTables& t) {
  const int64_t N = x.size(0);
  auto h = so3_linear(x, w.so3_linear_1);
  // Gate logits Linear(x_l0); node_gate applies their SiLU and GateActivation's sigmoid on top (fairchem does both).
  auto z = linear(x.narrow(1, 0, 1), w.scalar_mlp, t.gemm);  // [N,1,2H]
  h = node_gate(h, z.reshape({N, z.size(2)}), t.fused_node);
  return so3_linear(h, w.so3_linear_2);
}

}  // namespace uma
