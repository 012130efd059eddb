// engine/nn/half_weights.h: the fp16 copy of a weight matrix times alpha is the tf32 mode's weight (round_to_tf32)
// exactly wherever the scaled value lies in fp16's normal range, bit for bit the host's conversion
// (kernels/half_operands/half_bits.h, itself checked against the compiler's _Float16 in test_half_bits.cpp); the
// scale puts the largest value in [2^14, 2^15); bad matrices are errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "engine/nn/half_weights.h"
#include "engine/nn/tf32_weights.h"
#include "kernels/half_operands/half_bits.h"
#include "model/errors.h"

namespace {

uint16_t bits_of(at::Half h) {
  uint16_t b;
  std::memcpy(&b, &h, sizeof b);
  return b;
}

}  // namespace

TEST(HalfWeights, HoldTheTf32WeightTimesAPowerOfTwo) {
  std::mt19937 gen(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  // Matrices of very different sizes, each with entries spread over 2^-20 .. 1 of its largest.
  for (const double size : {1e-30, 3e-4, 0.05, 1.0, 700.0, 1e20}) {
    torch::Tensor w = torch::empty({48, 40});
    auto acc = w.accessor<float, 2>();
    for (int i = 0; i < 48; ++i)
      for (int j = 0; j < 40; ++j)
        acc[i][j] = static_cast<float>(size * normal(gen) * std::ldexp(1.0, -((i * 40 + j) % 21)));
    const uma::HalfWeight h = uma::half_weight(w);
    ASSERT_EQ(h.values.scalar_type(), torch::kHalf);
    ASSERT_EQ(h.values.sizes(), w.sizes());
    const torch::Tensor t = uma::round_to_tf32(w);
    const double top = t.abs().max().item<double>() / h.alpha;
    EXPECT_GE(top, 16384.0) << size;
    EXPECT_LT(top, 32768.0) << size;
    EXPECT_EQ(std::log2(h.alpha), std::round(std::log2(h.alpha))) << "alpha must be a power of two";
    auto hv = h.values.accessor<at::Half, 2>();
    auto tv = t.accessor<float, 2>();
    int64_t exact = 0;
    for (int i = 0; i < 48; ++i)
      for (int j = 0; j < 40; ++j) {
        const double scaled = double(tv[i][j]) / h.alpha;  // exact: a power of two
        // The host's conversion of the same scaled TF32 value, bit for bit.
        ASSERT_EQ(bits_of(hv[i][j]), uma::kernels::half_bits_of(static_cast<float>(scaled))) << i << "," << j;
        if (std::fabs(scaled) >= uma::kernels::kHalfMinNormal) {
          ASSERT_EQ(double(static_cast<float>(hv[i][j])) * h.alpha, double(tv[i][j])) << i << "," << j;
          ++exact;
        }
      }
    EXPECT_GT(exact, 48 * 40 * 9 / 10) << "the test's own check: most values must be in fp16's normal range";
  }
}

TEST(HalfWeights, ZerosAndBadMatrices) {
  const uma::HalfWeight z = uma::half_weight(torch::zeros({8, 8}));
  EXPECT_EQ(z.alpha, 1.0f);
  EXPECT_TRUE(torch::equal(z.values.to(torch::kFloat32), torch::zeros({8, 8})));
  EXPECT_THROW(uma::half_weight(torch::ones({4, 4}, torch::kFloat64)), uma::Error);
  torch::Tensor inf = torch::ones({4, 4});
  inf[1][2] = std::numeric_limits<float>::infinity();
  EXPECT_THROW(uma::half_weight(inf), uma::Error);
  torch::Tensor nan = torch::ones({4, 4});
  nan[0][0] = std::nanf("");
  EXPECT_THROW(uma::half_weight(nan), uma::Error);
}
