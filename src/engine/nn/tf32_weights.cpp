#include "engine/nn/tf32_weights.h"

#include "model/errors.h"

namespace uma {

torch::Tensor round_to_tf32(const torch::Tensor& w) {
  if (!w.defined()) return w;
  if (w.scalar_type() != torch::kFloat32)
    throw Error("round_to_tf32: needs an fp32 tensor, got " + std::string(c10::toString(w.scalar_type())));
  torch::NoGradGuard no_grad;
  const torch::Tensor bits = w.contiguous().view(torch::kInt32);
  // Finite values: add half the weight of the 13 dropped mantissa bits to the magnitude, then cut them. As int32 the
  // sign bit stays out of the way: no finite pattern overflows (0x7f7fffff + 0x1000 < 2^31), and one whose rounding
  // carries into the exponent becomes the infinity of its sign, as cvt.rna gives.
  const torch::Tensor finite = bits.bitwise_and(0x7f800000).ne(0x7f800000);
  const torch::Tensor rounded = bits.add(0x1000).bitwise_and(static_cast<int32_t>(0xffffe000u));
  return torch::where(finite, rounded, bits).view(torch::kFloat32).view(w.sizes());
}

bool tf32_weights_prerounded(Fp32Gemm mode) {
  return mode == Fp32Gemm::tf32 && tf32_gemm_kernel_requested() == Tf32GemmKernel::hopper_tma_rna;
}

namespace {

void round_in_place(torch::Tensor& t) { t = round_to_tf32(t); }

void round_radial(RadialMLPW& r) {
  for (torch::Tensor* t : {&r.lin0.weight, &r.lin0_gauss, &r.lin3.weight, &r.lin6.weight}) round_in_place(*t);
}

void round_conv(SO2ConvW& c) {
  for (MoleLinearW* l : {&c.fc_m0, &c.fc_m1, &c.fc_m2}) round_in_place(l->experts);
  if (c.has_radial) round_radial(c.rad_func);
}

}  // namespace

void round_gemm_weights_to_tf32(Weights& w) {
  round_radial(w.edge_degree_rad);
  for (auto& b : w.blocks) {
    round_conv(b.so2_conv_1);
    round_conv(b.so2_conv_2);
    round_in_place(b.scalar_mlp.weight);
  }
  for (auto& l : w.energy_block) round_in_place(l.experts);
}

}  // namespace uma
