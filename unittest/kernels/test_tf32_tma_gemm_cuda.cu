// The Hopper TF32 GEMM (src/kernels/gemm/hopper/tf32_tma_gemm_launch.h) on a GPU: TF32 accuracy against fp64 with
// and without a bias, padded rows of A (a strided view, as the engine passes), sizes that are not multiples of the
// tile (rows, columns, K), zero rows, bitwise repeatability, and a clear refusal of operands it cannot take. Its
// rounding variant (tf32_gemm_tma_rna: A rounded into registers, B given rounded): that its products are those of
// the rounded operands, where the plain kernel's are not. Skipped without a compute-capability 9.0 GPU (the kernel is sm_90a code).
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "kernels/gemm/hopper/tf32_tma_gemm_launch.h"
#include "gemm_test_gpu.h"
#include "kernels/gemm/split_tf32_gemm_launch.h"
#include "kernels/gemm/tf32_round.h"
#include "split_tf32_test_data.h"

namespace k = uma::kernels;
using split_tf32_test::Problem;
using split_tf32_test::have_hopper;

namespace {

// A TF32 operand keeps 10 of fp32's 23 mantissa bits (the tensor cores read the top 19 bits: truncation), so each
// product a b errs by at most ~2 * 2^-10 of |a b|, and the fp32 sum adds ~2^-24 per term: the error is bounded by
// 2^-9 of sum |a||b| whatever the signs, which no correct kernel exceeds; a wrong tile, swizzle, stride or
// transposition gives O(1). The measured error is printed (H100, 2026-12-06: 1.7e-4 to 6.8e-4).
constexpr double kTf32Bound = 1.0 / (1 << 9);

// The rounding variant against the product of the rounded operands: what remains is the fp32 summation over K,
// ~2e-6 of sum |a||b| at K = 640 for wgmma's accumulator (benchmarks/results/2026-12-06-h100-wgmma-split.md; the
// hand-written rounding kernel measured 5e-8 to 7e-7 on these shapes, 2026-12-07-h100-rs-gemm-k2.md). Truncating A
// instead errs by ~2^-11 / sqrt(K) of sum |a||b| per output, the plain kernel measured 2e-4 to 1.2e-3: 2^-16
// (1.5e-5) separates the two.
constexpr double kRoundedBound = 1.0 / (1 << 16);

std::vector<float> run_on_gpu(const Problem& p) {
  return split_tf32_test::run_gemm_on_gpu(
      p, [](const k::SplitTf32GemmParams& q) { k::hopper::tf32_gemm_tma(q, nullptr); });
}

std::vector<float> run_rna_on_gpu(const Problem& p) {
  return split_tf32_test::run_gemm_on_gpu(
      p, [](const k::SplitTf32GemmParams& q) { k::hopper::tf32_gemm_tma_rna(q, nullptr); });
}

}  // namespace

TEST(Tf32TmaGemmCuda, Tf32AccurateOnEngineAndAwkwardShapes) {
  if (!have_hopper()) GTEST_SKIP() << "no compute-capability 9.0 GPU";
  struct Case { int64_t m, n, k, lda; bool bias; };
  // The engine's shapes (edges x 640 x 768: conv 1 m = 0 with the gate logits; 1024 -> 512: the m = 1 block weight;
  // 32 -> 128: the radial MLPs' first layer; 128 -> 1536: their last) and awkward ones (rows not a multiple of 128,
  // n not of the tile's 128, K not of 32, padded A rows).
  const Case cases[] = {{1000, 640, 768, 768, true}, {777, 512, 1024, 1028, false}, {129, 128, 32, 36, true},
                        {300, 1536, 128, 128, true}, {3, 68, 12, 16, true},          {1, 4, 4, 4, false}};
  for (const auto& c : cases) {
    Problem p(c.m, c.n, c.k, c.lda, k::GemmBLayout::kWeightRows, c.bias, 5);
    const double err = p.relative_error(run_on_gpu(p));
    std::printf("[tf32-tma cuda] m=%lld n=%lld k=%lld lda=%lld bias=%d: relative error vs fp64 %.2e (bound %.2e)\n",
                (long long)c.m, (long long)c.n, (long long)c.k, (long long)c.lda, c.bias ? 1 : 0, err, kTf32Bound);
    EXPECT_LE(err, kTf32Bound) << c.m << "x" << c.n << "x" << c.k;
  }
}

TEST(Tf32TmaGemmCuda, RoundingVariantFormsTheRoundedOperandsProducts) {
  if (!have_hopper()) GTEST_SKIP() << "no compute-capability 9.0 GPU";
  struct Case { int64_t m, n, k, lda; bool bias; };
  // The engine's shapes as above, and the input gradients' (dy [E, out] times W^T [in][out] as weight rows).
  const Case cases[] = {{1000, 640, 768, 768, true}, {1000, 768, 640, 640, false}, {777, 512, 1024, 1028, false},
                        {129, 128, 32, 36, true},    {300, 128, 1536, 1536, false}, {300, 1536, 128, 128, true},
                        {3, 68, 12, 16, true},       {1, 4, 4, 4, false}};
  for (const auto& c : cases) {
    Problem p(c.m, c.n, c.k, c.lda, k::GemmBLayout::kWeightRows, c.bias, 9);
    for (auto& v : p.b) v = k::tf32_round(v);  // the caller's part: B (the weights) rounded once
    const std::vector<float> d = run_rna_on_gpu(p), t = run_on_gpu(p);
    const double rounded = p.relative_error(d, true), exact = p.relative_error(d);
    const double truncated = p.relative_error(t, true);
    std::printf("[tf32-tma-rna cuda] m=%lld n=%lld k=%lld lda=%lld bias=%d: vs rounded operands %.2e (bound %.2e), "
                "vs fp64 %.2e (bound %.2e); plain kernel vs rounded operands %.2e\n",
                (long long)c.m, (long long)c.n, (long long)c.k, (long long)c.lda, c.bias ? 1 : 0, rounded,
                kRoundedBound, exact, kTf32Bound, truncated);
    EXPECT_LE(rounded, kRoundedBound) << c.m << "x" << c.n << "x" << c.k;
    EXPECT_LE(exact, kTf32Bound) << c.m << "x" << c.n << "x" << c.k;
    // The test's own check: on the large problems the plain (truncating) kernel must fail the rounded bound, or the
    // bound would not tell rounding from truncation.
    if (c.m * c.k >= 100000) EXPECT_GT(truncated, kRoundedBound) << c.m << "x" << c.n << "x" << c.k;
  }
  Problem empty(0, 128, 128, 128, k::GemmBLayout::kWeightRows, true, 1);
  EXPECT_TRUE(run_rna_on_gpu(empty).empty());
  Problem big(20000, 384, 384, 384, k::GemmBLayout::kWeightRows, true, 2);
  EXPECT_EQ(run_rna_on_gpu(big), run_rna_on_gpu(big));
}

TEST(Tf32TmaGemmCuda, ZeroRowsAndRepeatability) {
  if (!have_hopper()) GTEST_SKIP() << "no compute-capability 9.0 GPU";
  Problem empty(0, 128, 128, 128, k::GemmBLayout::kWeightRows, true, 1);
  EXPECT_TRUE(run_on_gpu(empty).empty());
  Problem p(20000, 384, 384, 384, k::GemmBLayout::kWeightRows, true, 2);  // several persistent waves
  EXPECT_EQ(run_on_gpu(p), run_on_gpu(p));  // no split-K, no atomics: bit-identical
}

TEST(Tf32TmaGemmCuda, RefusesOperandsItCannotTake) {
  alignas(16) static float buf[64];
  k::SplitTf32GemmParams p;
  p.m = 2; p.n = 4; p.k = 8;
  p.a = buf; p.lda = 8; p.b = buf; p.ldb = 8; p.d = buf; p.ldd = 4;
  if (have_hopper()) EXPECT_TRUE(k::hopper::tf32_gemm_tma_supported(p));
  p.b_layout = k::GemmBLayout::kRowMajor;  // TF32 wgmma reads B K-major only: the caller passes W^T instead
  EXPECT_FALSE(k::hopper::tf32_gemm_tma_supported(p));
  EXPECT_THROW(k::hopper::tf32_gemm_tma(p, nullptr), std::invalid_argument);
  EXPECT_THROW(k::hopper::tf32_gemm_tma_rna(p, nullptr), std::invalid_argument);
  p.b_layout = k::GemmBLayout::kWeightRows;
  p.a = buf + 1;  // not 16-byte aligned
  EXPECT_FALSE(k::hopper::tf32_gemm_tma_supported(p));
  EXPECT_THROW(k::hopper::tf32_gemm_tma(p, nullptr), std::invalid_argument);
  EXPECT_THROW(k::hopper::tf32_gemm_tma_rna(p, nullptr), std::invalid_argument);
}
