#include "split_tf32_gemm_reference.h"

#include <cmath>
#include <cstdint>
#include <cstring>

namespace uma {
namespace kernels {
namespace {

uint32_t bits_of(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}

float float_of(uint32_t u) {
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

constexpr uint32_t kDroppedBits = 0x1fffu;  // fp32 has 23 mantissa bits, TF32 10: the low 13 go

float b_at(const SplitTf32GemmParams& p, int64_t kk, int64_t j) {
  return p.b_layout == GemmBLayout::kWeightRows ? p.b[j * p.ldb + kk] : p.b[kk * p.ldb + j];
}

float product(float a, float b, ReferenceMath math) {
  switch (math) {
    case ReferenceMath::kFp32:
      return a * b;
    case ReferenceMath::kTf32:
      return tf32_round_nearest(a) * tf32_round_nearest(b);
    case ReferenceMath::kSplitTf32:
      break;
  }
  const float a_big = tf32_truncate(a), b_big = tf32_truncate(b);
  const float a_small = tf32_round_half_up(a - a_big), b_small = tf32_round_half_up(b - b_big);
  // TF32 x TF32 products are exact in fp32 (11 x 11 significant bits); only the two sums round.
  return a_small * b_big + a_big * b_small + a_big * b_big;
}

}  // namespace

float tf32_truncate(float x) {
  if (!std::isfinite(x)) return x;
  return float_of(bits_of(x) & ~kDroppedBits);
}

float tf32_round_half_up(float x) {
  if (!std::isfinite(x)) return x;
  return float_of((bits_of(x) + 0x1000u) & ~kDroppedBits);
}

float tf32_round_nearest(float x) {
  if (!std::isfinite(x)) return x;
  const uint32_t u = bits_of(x);
  const uint32_t lsb = (u >> 13) & 1u;
  return float_of((u + 0x0fffu + lsb) & ~kDroppedBits);
}

void split_tf32_gemm_reference(const SplitTf32GemmParams& p, ReferenceMath math) {
  for (int64_t i = 0; i < p.m; ++i)
    for (int64_t j = 0; j < p.n; ++j) {
      float acc = 0.0f;
      for (int64_t kk = 0; kk < p.k; ++kk) acc += product(p.a[i * p.lda + kk], b_at(p, kk, j), math);
      p.d[i * p.ldd + j] = p.bias ? acc + p.bias[j] : acc;
    }
}

}  // namespace kernels
}  // namespace uma
