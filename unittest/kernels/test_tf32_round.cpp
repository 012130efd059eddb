// kernels/gemm/tf32_round.h against the definition of cvt.rna.tf32.f32: round to 10 explicit mantissa bits, to
// nearest, ties away from zero; specials pass through. Each case is decided by exact binary arithmetic, so the
// expectations are exact.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "kernels/gemm/tf32_round.h"

using uma::kernels::tf32_round;

TEST(Tf32Round, RoundsToNearestTiesAwayFromZero) {
  const float ulp = std::ldexp(1.0f, -10);  // TF32's spacing in [1, 2)
  EXPECT_EQ(tf32_round(1.0f), 1.0f);
  EXPECT_EQ(tf32_round(1.0f + ulp), 1.0f + ulp);                                     // representable: unchanged
  EXPECT_EQ(tf32_round(1.0f + 0.5f * ulp), 1.0f + ulp);                              // tie: away from zero
  EXPECT_EQ(tf32_round(-(1.0f + 0.5f * ulp)), -(1.0f + ulp));                        // ... for negatives too
  EXPECT_EQ(tf32_round(1.0f + 0.5f * ulp - std::ldexp(1.0f, -23)), 1.0f);            // just below the tie: down
  EXPECT_EQ(tf32_round(1.0f + 1.5f * ulp), 1.0f + 2.0f * ulp);                       // tie above an odd value: up
  EXPECT_EQ(tf32_round(2.0f - std::ldexp(1.0f, -23)), 2.0f);                         // carries into the exponent
  EXPECT_EQ(tf32_round(0.0f), 0.0f);
  EXPECT_TRUE(std::signbit(tf32_round(-0.0f)));
}

TEST(Tf32Round, SpecialsAndOverflow) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(tf32_round(inf), inf);
  EXPECT_EQ(tf32_round(-inf), -inf);
  EXPECT_TRUE(std::isnan(tf32_round(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_EQ(tf32_round(std::numeric_limits<float>::max()), inf);  // rounds past the largest TF32 value
  const float tiny = std::numeric_limits<float>::denorm_min();
  EXPECT_EQ(tf32_round(tiny), 0.0f);  // below half of TF32's smallest subnormal step
}

// On random values: the result is a TF32 value (low 13 bits zero), the nearest one (error at most half a TF32 ulp of
// the value, 2^-11 relative), and rounding twice changes nothing.
TEST(Tf32Round, NearestAndIdempotentOnRandomValues) {
  std::mt19937 gen(3);
  std::uniform_real_distribution<float> mant(-2.0f, 2.0f);
  std::uniform_int_distribution<int> expo(-60, 60);
  for (int i = 0; i < 100000; ++i) {
    const float x = std::ldexp(mant(gen), expo(gen));
    const float r = tf32_round(x);
    uint32_t u;
    std::memcpy(&u, &r, sizeof u);
    ASSERT_EQ(u & 0x1fffu, 0u) << x;
    ASSERT_LE(std::abs(double(r) - double(x)), std::ldexp(std::abs(double(x)), -11)) << x;
    ASSERT_EQ(tf32_round(r), r) << x;
  }
}
