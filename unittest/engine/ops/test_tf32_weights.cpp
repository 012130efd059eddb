// engine/nn/tf32_weights.h: round_to_tf32 is bit for bit the host reference of cvt.rna (kernels/gemm/tf32_round.h,
// itself tested against the definition in unittest/kernels/test_tf32_round.cpp) on random, tie, carry and special
// values; round_gemm_weights_to_tf32 rounds every weight matrix the tf32-mode GEMMs read and nothing else; the MoLE
// merge rounds what it makes in that mode only.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "engine/nn/mole.h"
#include "engine/nn/tf32_weights.h"
#include "engine/params/model_config.h"
#include "kernels/gemm/tf32_round.h"
#include "model/errors.h"
#include "model/model_file.h"
#include "test_support.h"

namespace {

uint32_t bits_of(float v) {
  uint32_t u;
  std::memcpy(&u, &v, sizeof u);
  return u;
}

bool is_tf32(const torch::Tensor& t) { return torch::equal(uma::round_to_tf32(t), t); }

}  // namespace

TEST(Tf32Weights, RoundToTf32IsCvtRnaBitForBit) {
  std::mt19937 gen(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<uint32_t> any_bits;
  std::vector<float> values;
  for (int i = 0; i < 4000; ++i) values.push_back(normal(gen) * std::ldexp(1.0f, (i % 60) - 30));
  for (int i = 0; i < 4000; ++i) {  // any pattern, specials and subnormals included
    uint32_t u = any_bits(gen);
    float v;
    std::memcpy(&v, &u, sizeof v);
    values.push_back(v);
  }
  const float ulp = std::ldexp(1.0f, -10), inf = std::numeric_limits<float>::infinity();
  for (float v : {0.0f, -0.0f, 1.0f + 0.5f * ulp, -(1.0f + 0.5f * ulp), 2.0f - std::ldexp(1.0f, -23),
                  std::numeric_limits<float>::max(), -std::numeric_limits<float>::max(), inf, -inf,
                  std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::denorm_min()})
    values.push_back(v);
  const auto t = torch::from_blob(values.data(), {static_cast<int64_t>(values.size())}, torch::kFloat32).clone();
  const auto rounded = uma::round_to_tf32(t);
  ASSERT_EQ(rounded.sizes(), t.sizes());
  const float* got = rounded.data_ptr<float>();
  int64_t mismatches = 0;
  for (size_t i = 0; i < values.size(); ++i)
    if (bits_of(got[i]) != bits_of(uma::kernels::tf32_round(values[i]))) ++mismatches;
  EXPECT_EQ(mismatches, 0);
  EXPECT_EQ(got[values.size() - 6], inf);  // the largest finite value carries into the exponent
  EXPECT_EQ(got[values.size() - 5], -inf);
  // A strided view keeps its shape and values.
  const auto m = t.narrow(0, 0, 700).view({100, 7}).t();
  EXPECT_TRUE(torch::equal(uma::round_to_tf32(m), uma::round_to_tf32(m.contiguous())));
}

TEST(Tf32Weights, RefusesOtherTypes) {
  uma_test::expect_error([] { uma::round_to_tf32(torch::ones({3}, torch::kFloat64)); }, "fp32");
}

TEST(Tf32Weights, RoundsEveryGemmWeightAndNothingElse) {
  const uma::ModelFile file(uma_test::bundled_model());
  const auto config = uma::ModelConfig::from_file(file);
  uma::Weights w = uma::Weights::load(file, config, torch::kFloat32, torch::kCPU);
  // The bundled test weights are fp16-exact (tools/make-test-models), hence TF32 values already; a checkpoint's are
  // not. Every tensor looked at below is moved off the TF32 grid first (a relative perturbation below 2^-15), or the
  // test could not tell rounded from untouched.
  torch::manual_seed(11);
  struct Looked { torch::Tensor* t; bool gemm; };  // gemm: read by a tf32-mode GEMM, so to be rounded
  std::vector<Looked> all;
  auto add_radial = [&](uma::RadialMLPW& r) {
    for (auto* t : {&r.lin0.weight, &r.lin0_gauss, &r.lin3.weight, &r.lin6.weight}) all.push_back({t, true});
    for (auto* t : {&r.lin6.bias, &r.lin0_pair, &r.norm1.weight}) all.push_back({t, false});
  };
  add_radial(w.edge_degree_rad);
  size_t radial = 0;
  for (auto& b : w.blocks) {
    for (auto* c : {&b.so2_conv_1, &b.so2_conv_2}) {
      for (auto* l : {&c->fc_m0, &c->fc_m1, &c->fc_m2}) all.push_back({&l->experts, true});
      if (c->has_radial) add_radial(c->rad_func), ++radial;
    }
    all.push_back({&b.scalar_mlp.weight, true});
    all.push_back({&b.scalar_mlp.bias, false});
    all.push_back({&b.so3_linear_1.weight_per_coefficient, false});  // an einsum on cuBLAS, which rounds itself
  }
  EXPECT_EQ(radial, w.blocks.size());  // each block's conv 1 has a radial MLP
  for (auto& l : w.energy_block) all.push_back({&l.experts, true});
  all.push_back({&w.mix_csd.weight, false});  // a strict-mode GEMM
  all.push_back({&w.sphere_embedding, false});
  for (auto& l : all) *l.t = *l.t * (1 + std::ldexp(1.0, -15) * torch::rand_like(*l.t));
  std::vector<torch::Tensor> copies;
  for (auto& l : all) {
    ASSERT_FALSE(is_tf32(*l.t));
    copies.push_back(l.t->clone());
  }

  uma::round_gemm_weights_to_tf32(w);
  for (size_t j = 0; j < all.size(); ++j) {
    const torch::Tensor &now = *all[j].t, &was = copies[j];
    if (all[j].gemm) {
      EXPECT_TRUE(is_tf32(now)) << "tensor " << j;
      // Moved by at most half a TF32 step (2^-11 relative).
      EXPECT_TRUE((now - was).abs().le(was.abs() * (1.0 / 2048)).all().item<bool>()) << "tensor " << j;
    } else {
      EXPECT_TRUE(torch::equal(now, was)) << "tensor " << j;
    }
  }
}

// The MoLE merge (mole.cpp): a sum of rounded experts is not rounded, so in the tf32 mode on the kernel that reads its
// weights as stored the merged weights (and the m > 0 block weights made from them) are rounded after the merge;
// in the other modes they are the plain sums.
TEST(Tf32Weights, MergedExpertsAreRoundedInTheTf32ModeOnly) {
  const uma::ModelFile file(uma_test::bundled_model());
  const auto config = uma::ModelConfig::from_file(file);
  if (config.num_experts < 2) GTEST_SKIP() << "the bundled model has no MoLE";
  uma::Weights w = uma::Weights::load(file, config, torch::kFloat32, torch::kCPU);
  uma::round_gemm_weights_to_tf32(w);  // as the engine does first in that mode
  // Coefficients whose weighted sums fall off the TF32 grid.
  const auto alpha = torch::linspace(0.3, 0.7, config.num_experts, torch::kFloat32) / 1.7;
  const auto tf32 = uma::mix_experts(w, alpha, true, uma::Fp32Gemm::tf32);
  const auto split = uma::mix_experts(w, alpha, true, uma::Fp32Gemm::split_tf32);
  // False only where UMA_TF32_GEMM names another kernel.
  const bool rounds = uma::tf32_weights_prerounded(uma::Fp32Gemm::tf32);
  ASSERT_FALSE(uma::tf32_weights_prerounded(uma::Fp32Gemm::split_tf32));
  ASSERT_FALSE(uma::tf32_weights_prerounded(uma::Fp32Gemm::strict));
  ASSERT_EQ(tf32.size(), w.blocks.size());
  for (size_t i = 0; i < tf32.size(); ++i)
    for (int conv = 0; conv < 2; ++conv) {
      const auto& t = conv == 0 ? tf32[i].so2_conv_1 : tf32[i].so2_conv_2;
      const auto& s = conv == 0 ? split[i].so2_conv_1 : split[i].so2_conv_2;
      for (const auto* pair : {&t.fc_m0, &t.fc_m1, &t.fc_m2}) ASSERT_TRUE(pair->weight.defined());
      EXPECT_FALSE(is_tf32(s.fc_m0.weight)) << "block " << i << ": the plain sum should be off the grid";
      EXPECT_EQ(is_tf32(t.fc_m0.weight), rounds) << "block " << i;
      EXPECT_EQ(is_tf32(t.fc_m1.block_weight) && is_tf32(t.fc_m2.block_weight), rounds) << "block " << i;
      if (rounds) EXPECT_TRUE(torch::equal(t.fc_m0.weight, uma::round_to_tf32(s.fc_m0.weight))) << "block " << i;
    }
}
