// CPU reference of the split-TF32 GEMM (src/kernels/gemm/split_tf32_gemm_reference.h) against exact arithmetic:
// the TF32 roundings on hand-made values, the big + small split of any float, and the split product's accuracy
// against fp64, next to plain fp32 (what it must match) and plain TF32 (what it must beat).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "kernels/gemm/split_tf32_gemm_reference.h"
#include "split_tf32_test_data.h"

namespace k = uma::kernels;
using split_tf32_test::Problem;

TEST(SplitTf32Reference, RoundingsOfHandMadeValues) {
  const float ulp = std::ldexp(1.0f, -10);  // TF32's spacing just above 1
  const float halfway = 1.0f + ulp + ulp / 2;  // between 1 + ulp (odd last bit) and 1 + 2 ulp
  EXPECT_EQ(k::tf32_truncate(halfway), 1.0f + ulp);
  EXPECT_EQ(k::tf32_round_half_up(halfway), 1.0f + 2 * ulp);
  EXPECT_EQ(k::tf32_round_nearest(halfway), 1.0f + 2 * ulp);  // tie to even
  EXPECT_EQ(k::tf32_round_nearest(1.0f + ulp / 2), 1.0f);     // tie to even (1 is even)
  EXPECT_EQ(k::tf32_round_nearest(1.0f + ulp / 2 + std::ldexp(1.0f, -20)), 1.0f + ulp);
  EXPECT_EQ(k::tf32_truncate(-halfway), -(1.0f + ulp));  // toward zero
  EXPECT_TRUE(std::isinf(k::tf32_round_half_up(std::numeric_limits<float>::infinity())));
  EXPECT_TRUE(std::isnan(k::tf32_truncate(std::numeric_limits<float>::quiet_NaN())));
}

TEST(SplitTf32Reference, BigPlusSmallKeepsTwentyOneBits) {
  std::mt19937 gen(7);
  std::uniform_int_distribution<uint32_t> bits(0, 0xffffffffu);
  int checked = 0;
  for (int i = 0; i < 100000; ++i) {
    uint32_t u = bits(gen);
    float x;
    std::memcpy(&x, &u, sizeof x);
    if (!std::isnormal(x) || std::abs(x) > 1e30f || std::abs(x) < 1e-30f) continue;
    const float big = k::tf32_truncate(x), small = k::tf32_round_half_up(x - big);
    // x - big is exact (Sterbenz), below 2^-10 |x|; small keeps 11 bits of it: |x - big - small| <= 2^-21 |x|.
    EXPECT_LE(std::abs(double(x) - double(big) - double(small)), std::ldexp(std::abs(double(x)), -21)) << x;
    ++checked;
  }
  EXPECT_GT(checked, 50000);
}

TEST(SplitTf32Reference, SplitProductHasFp32AccuracyAndTf32DoesNot) {
  for (auto layout : {k::GemmBLayout::kWeightRows, k::GemmBLayout::kRowMajor}) {
    Problem p(48, 40, 512, 516, layout, true, 11);
    std::vector<float> d(p.m * p.n);
    double err[3];
    const k::ReferenceMath maths[3] = {k::ReferenceMath::kFp32, k::ReferenceMath::kSplitTf32, k::ReferenceMath::kTf32};
    for (int i = 0; i < 3; ++i) {
      k::split_tf32_gemm_reference(p.params(p.a.data(), p.b.data(), p.c.data(), d.data()), maths[i]);
      err[i] = p.relative_error(d);
    }
    std::printf("[split-tf32 reference] relative error vs fp64: fp32 %.2e, split TF32 %.2e, TF32 %.2e\n", err[0],
                err[1], err[2]);
    EXPECT_LE(err[0], split_tf32_test::kFp32Accurate);
    EXPECT_LE(err[1], split_tf32_test::kFp32Accurate);
    EXPECT_LE(err[1], 4.0 * err[0]);  // as accurate as fp32, give or take the summation order
    EXPECT_GE(err[2], split_tf32_test::kTf32Level);  // the bound above separates TF32 from fp32
  }
}
