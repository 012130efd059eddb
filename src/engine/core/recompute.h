// What a one-pass evaluation on the fused CUDA kernels makes again in its backward pass instead of keeping it from the
// forward (EngineOptions::recompute, memory_budget.h plan_recompute). Tiers, cheapest first; each one includes the
// ones before it.
#ifndef UMA_ENGINE_RECOMPUTE_H
#define UMA_ENGINE_RECOMPUTE_H

#include <string>

namespace uma {

enum class Recompute : int {
  none = 0,
  // conv 1's radial scale, from the radial MLP's last hidden rows (fused_wigner_ops.h RadialRecipe): one more
  // 128 -> 1536 GEMM per layer, 1536 - 128 floats per edge and layer less.
  radial = 1,
  // and conv 2's outputs, from conv 1's (which the gate keeps anyway; fused_wigner_ops.h MessageRecipe): the gate and
  // conv 2's GEMMs once more per layer, 9 x C floats per edge and layer less.
  radial_and_conv2 = 2,
};

// For logs: what the tier makes again, in words.
inline const char* recompute_what(Recompute r) {
  switch (r) {
    case Recompute::radial: return "the first convolution's radial scale";
    case Recompute::radial_and_conv2: return "the first convolution's radial scale and the second one's outputs";
    default: return "nothing";
  }
}

// The keyword values of `recompute` (pair_style uma, the engine bench) as EngineOptions::recompute: auto 0, no -1,
// radial 1, yes 2 (every tier). False, setting untouched, for any other word.
inline bool recompute_setting_of(const std::string& word, int& setting) {
  if (word != "auto" && word != "no" && word != "radial" && word != "yes") return false;
  setting = word == "yes" ? 2 : word == "radial" ? 1 : word == "no" ? -1 : 0;
  return true;
}
// The keyword value of an EngineOptions::recompute setting (its inverse; any value >= 2 is "yes").
inline const char* recompute_word(int setting) {
  return setting >= 2 ? "yes" : setting == 1 ? "radial" : setting < 0 ? "no" : "auto";
}

}  // namespace uma

#endif
