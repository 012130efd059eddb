#include "engine/nn/mole.h"

#include "engine/nn/tf32_weights.h"

namespace uma {

torch::Tensor system_embedding(const Weights& w, int charge, int spin, const std::string& dataset) {
  auto c = w.charge_embedding[charge + 100];
  auto s = w.spin_embedding[spin];
  auto t = w.dataset_embedding.at(dataset)[0];
  // Once per system, one row: the mode of the GEMM does not matter (strict).
  return torch::silu(linear(torch::cat({c, s, t}).unsqueeze(0), w.mix_csd, Fp32Gemm::strict))[0];
}

torch::Tensor expert_coefficients(const Weights& w, const torch::Tensor& fractions, const torch::Tensor& csd,
                                  double composition_scale) {
  torch::Tensor z = csd;
  if (w.composition_embedding.defined()) {
    auto composition = torch::matmul(fractions.to(csd.scalar_type()), w.composition_embedding);  // [C]
    if (composition_scale != 1.0) composition = composition * composition_scale;
    z = torch::cat({composition, csd});
  }
  auto a = z.unsqueeze(0);
  for (const auto& layer : w.routing_mlp) a = torch::silu(linear(a, layer, Fp32Gemm::strict));  // note: SiLU after the last too
  return (torch::softmax(a, 1) + 0.005)[0];
}

namespace {

MixedLinear mix(const MoleLinearW& layer, const torch::Tensor& alpha, bool merged, Fp32Gemm gemm) {
  MixedLinear m;
  m.gemm = gemm;
  m.bias = layer.bias;
  if (!layer.is_mole) {
    m.weight = layer.experts[0];
  } else if (merged) {
    m.weight = torch::einsum("x,xoi->oi", {alpha, layer.experts}).contiguous();
    // A sum of rounded experts is not rounded: the GEMM that reads its weights as stored needs it to be.
    if (tf32_weights_prerounded(gemm)) m.weight = round_to_tf32(m.weight);
  } else {
    m.experts = layer.experts;
    m.coefficients = alpha;
  }
  return m;
}

// [W1; W2] -> [[W1, -W2], [W2, W1]] (see MixedLinear::block_weight).
MixedLinear with_block_weight(MixedLinear m) {
  if (!m.weight.defined()) return m;
  auto halves = m.weight.chunk(2, 0);
  m.block_weight = torch::cat({torch::cat({halves[0], -halves[1]}, 1), torch::cat({halves[1], halves[0]}, 1)}, 0)
                       .contiguous();
  return m;
}

MixedSO2Conv mix(const SO2ConvW& conv, const torch::Tensor& alpha, bool merged, Fp32Gemm gemm) {
  return {mix(conv.fc_m0, alpha, merged, gemm), with_block_weight(mix(conv.fc_m1, alpha, merged, gemm)),
          with_block_weight(mix(conv.fc_m2, alpha, merged, gemm))};
}

}  // namespace

std::vector<MixedBlock> mix_experts(const Weights& w, const torch::Tensor& alpha, bool merged, Fp32Gemm gemm) {
  torch::NoGradGuard no_grad;
  std::vector<MixedBlock> out;
  for (const auto& b : w.blocks)
    out.push_back({mix(b.so2_conv_1, alpha, merged, gemm), mix(b.so2_conv_2, alpha, merged, gemm)});
  return out;
}

}  // namespace uma
