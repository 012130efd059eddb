#include "engine/nn/half_weights.h"

#include <cmath>
#include <string>

#include "engine/nn/tf32_weights.h"
#include "model/errors.h"

namespace uma {

HalfWeight half_weight(const torch::Tensor& w) {
  if (!w.defined() || w.scalar_type() != torch::kFloat32)
    throw Error("half_weight: needs an fp32 tensor, got " +
                (w.defined() ? std::string(c10::toString(w.scalar_type())) : std::string("none")));
  torch::NoGradGuard no_grad;
  const torch::Tensor t = round_to_tf32(w);
  const double top = w.numel() ? t.abs().max().item<double>() : 0.0;
  if (!std::isfinite(top)) throw Error("half_weight: the matrix holds an infinity or NaN");
  // largest |value| * 2^s in [2^14, 2^15): the top of fp16's range (65504 < 2^16) with a factor 2 to spare.
  const int s = top > 0 ? 14 - static_cast<int>(std::floor(std::log2(top))) : 0;
  HalfWeight h;
  // Scaled in fp64, exactly (2^s alone may exceed fp32's range for a tiny matrix; the scaled values never do); the
  // conversion to fp16 rounds to nearest even, which keeps every value in fp16's normal range as it is.
  h.values = (t.to(torch::kFloat64) * std::ldexp(1.0, s)).to(torch::kHalf).contiguous();
  h.alpha = static_cast<float>(std::ldexp(1.0, -s));
  return h;
}

}  // namespace uma
