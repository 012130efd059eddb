// The host's fp16 conversions (kernels/half_operands/half_bits.h) against the compiler's own _Float16 (round to
// nearest even, as the GPU's cvt.rn.f16.f32), exhaustively where the space is small, and the claim the half-operand
// kernels rest on: every TF32 value in fp16's normal range is held exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>

#include "kernels/gemm/tf32_round.h"
#include "kernels/half_operands/half_bits.h"

namespace {

using uma::kernels::float_of_half_bits;
using uma::kernels::half_bits_of;
using uma::kernels::half_overflows;
using uma::kernels::tf32_half_bits;
using uma::kernels::tf32_round;

float from_bits(uint32_t u) {
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

bool is_nan_half(uint16_t h) { return (h & 0x7c00u) == 0x7c00u && (h & 0x3ffu) != 0; }

TEST(HalfBits, EveryHalfRoundTripsThroughFloat) {
  for (uint32_t h = 0; h < 0x10000u; ++h) {
    const uint16_t bits = static_cast<uint16_t>(h);
    const float x = float_of_half_bits(bits);
    if (is_nan_half(bits)) {
      EXPECT_TRUE(std::isnan(x)) << h;
      EXPECT_TRUE(is_nan_half(half_bits_of(x))) << h;
      continue;
    }
    ASSERT_EQ(half_bits_of(x), bits) << "half 0x" << std::hex << h << " = " << x;
  }
  // Known values: the independent definition of the format.
  EXPECT_EQ(float_of_half_bits(0x3c00), 1.0f);
  EXPECT_EQ(float_of_half_bits(0x7bff), 65504.0f);
  EXPECT_EQ(float_of_half_bits(0x0400), std::ldexp(1.0f, -14));
  EXPECT_EQ(float_of_half_bits(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(float_of_half_bits(0xc000), -2.0f);
}

#if defined(__FLT16_MANT_DIG__)
// The compiler's conversion is the independent truth for rounding (GCC >= 12 on x86-64: round to nearest even).
uint16_t reference_bits(float x) {
  const _Float16 h = static_cast<_Float16>(x);
  uint16_t b;
  std::memcpy(&b, &h, sizeof b);
  return b;
}

TEST(HalfBits, RoundsAsTheCompilersFloat16) {
  // Every fp32 exponent from below fp16's subnormals to past its overflow, every 13-bit tail pattern that decides the
  // rounding (with the kept bits' last one both ways), both signs.
  for (uint32_t exponent = 90; exponent <= 160; ++exponent)
    for (uint32_t kept = 0; kept < 0x400u; kept += 0x155u)
      for (uint32_t tail = 0; tail < 0x2000u; ++tail)
        for (uint32_t sign = 0; sign < 2; ++sign) {
          const uint32_t u = (sign << 31) | (exponent << 23) | (kept << 13) | tail;
          const float x = from_bits(u);
          ASSERT_EQ(half_bits_of(x), reference_bits(x)) << "x = " << x << " (bits 0x" << std::hex << u << ")";
        }
  std::mt19937 gen(7);
  std::uniform_int_distribution<uint32_t> any;
  for (int i = 0; i < 2000000; ++i) {
    const float x = from_bits(any(gen));
    if (std::isnan(x)) continue;
    ASSERT_EQ(half_bits_of(x), reference_bits(x)) << "x = " << x;
  }
  EXPECT_EQ(half_bits_of(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(half_bits_of(-std::numeric_limits<float>::infinity()), 0xfc00);
}
#endif

TEST(HalfBits, EveryTf32ValueInTheNormalRangeIsHeldExactly) {
  // TF32 values: 10 mantissa bits; fp16's normal range: exponents -14 .. 15, up to 65504.
  int64_t checked = 0;
  for (int e = -14; e <= 15; ++e)
    for (uint32_t m = 0; m < 0x400u; ++m)
      for (int sign = 0; sign < 2; ++sign) {
        const float v = (sign ? -1.0f : 1.0f) * std::ldexp(1.0f + float(m) / 1024.0f, e);
        ASSERT_EQ(tf32_round(v), v);
        ASSERT_EQ(float_of_half_bits(tf32_half_bits(v)), v) << v;
        ASSERT_FALSE(half_overflows(v)) << v;
        ++checked;
      }
  EXPECT_EQ(checked, 30 * 1024 * 2);
}

TEST(HalfBits, TheTf32RoundingComesFirst) {
  // 1 + 2^-11 + 2^-13: TF32 rounds it up to 1 + 2^-10 (past its halfway point), and fp16 then holds that exactly;
  // fp16 alone would round it the same way. 1 + 2^-11 exactly: TF32 ties away (up), fp16 alone ties to even (down):
  // the half operand is the TF32 value, not fp16's own rounding.
  const float tie = 1.0f + std::ldexp(1.0f, -11);
  EXPECT_EQ(float_of_half_bits(tf32_half_bits(tie)), 1.0f + std::ldexp(1.0f, -10));
  EXPECT_EQ(float_of_half_bits(half_bits_of(tie)), 1.0f);
}

TEST(HalfBits, OverflowAndTheSmallestValues) {
  EXPECT_FALSE(half_overflows(65504.0f));
  EXPECT_FALSE(half_overflows(65519.0f));  // TF32 (steps of 32 here) rounds it down to 65504
  EXPECT_TRUE(half_overflows(65536.0f));
  EXPECT_TRUE(half_overflows(-1e30f));
  EXPECT_FALSE(half_overflows(std::numeric_limits<float>::infinity()));  // already infinite: not an overflow
  EXPECT_FALSE(half_overflows(std::nanf("")));
  EXPECT_EQ(float_of_half_bits(tf32_half_bits(std::ldexp(1.0f, -24))), std::ldexp(1.0f, -24));
  EXPECT_EQ(tf32_half_bits(std::ldexp(1.0f, -26)), 0);  // below half the smallest subnormal: zero
  EXPECT_EQ(tf32_half_bits(-std::ldexp(1.0f, -26)), 0x8000);
}

}  // namespace
