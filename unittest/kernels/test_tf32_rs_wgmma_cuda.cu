// The Hopper TF32 GEMM that rounds its operands in registers (src/kernels/gemm/hopper/tf32_rs_wgmma_launch.h) on a
// GPU: that it rounds (its result is the exact product of the TF32-rounded operands up to fp32 summation), TF32
// accuracy against fp64, both B layouts (weight rows: the forward; row-major: the input gradient), padded rows of A,
// sizes that are not multiples of the tile, zero rows, bitwise repeatability, and a clear refusal of what it cannot
// take. Skipped without a compute-capability 9.0 GPU (the kernel is sm_90a code).
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <stdexcept>
#include <vector>

#include "gemm_test_gpu.h"
#include "kernels/gemm/hopper/tf32_rs_wgmma_launch.h"
#include "kernels/gemm/hopper/tf32_tma_gemm_launch.h"
#include "kernels/gemm/split_tf32_gemm_launch.h"
#include "split_tf32_test_data.h"

namespace k = uma::kernels;
using split_tf32_test::Problem;
using split_tf32_test::have_hopper;

namespace {

// Against the product of the rounded operands. A product of two TF32 values (11 significant bits each) is exact in
// fp32, so what remains is the fp32 summation over K (with wgmma's truncating adds): measured ~2e-6 of sum |a||b| at
// K = 640 for the same accumulator (split kernel, benchmarks/results/2026-12-06-h100-wgmma-split.md). A kernel whose
// tensor cores truncate unrounded operands errs by ~2^-11 / sqrt(K) of sum |a||b| per output from it, ~1e-4 at the
// worst of these outputs: 2^-16 (1.5e-5) separates the two. Printed for the Hopper TMA GEMM too, for the record.
constexpr double kRoundedBound = 1.0 / (1 << 16);
// Against fp64 with the unrounded operands: ~2^-11 per product, bounded by 2^-9 of sum |a||b| whatever the signs
// (as for the TMA GEMM); a wrong tile, swizzle, stride or transposition gives O(1).
constexpr double kTf32Bound = 1.0 / (1 << 9);

std::vector<float> run_rs(const Problem& p) {
  return split_tf32_test::run_gemm_on_gpu(p, [](const k::SplitTf32GemmParams& q) { k::hopper::tf32_gemm_rs(q, nullptr); });
}

}  // namespace

TEST(Tf32RsWgmmaCuda, RoundsItsOperandsOnEngineAndAwkwardShapes) {
  if (!have_hopper()) GTEST_SKIP() << "no compute-capability 9.0 GPU";
  struct Case { int64_t m, n, k, lda; k::GemmBLayout layout; bool bias; };
  const auto rows = k::GemmBLayout::kWeightRows, row_major = k::GemmBLayout::kRowMajor;
  // The engine's shapes (conv 1 m = 0 with the gate logits, its input gradient, the m = 1 block weight, the radial
  // MLP's first and last layers) and awkward ones (rows not a multiple of 128, n not of 128, K not of 32, padded A).
  const Case cases[] = {{1000, 640, 768, 768, rows, true},   {1000, 768, 640, 640, row_major, false},
                        {777, 512, 1024, 1028, rows, false}, {129, 128, 32, 36, rows, true},
                        {300, 1536, 128, 128, rows, true},   {300, 128, 1536, 1536, row_major, false},
                        {3, 68, 12, 16, rows, true},         {5, 12, 68, 72, row_major, true},
                        {1, 4, 4, 4, rows, false}};
  for (const auto& c : cases) {
    Problem p(c.m, c.n, c.k, c.lda, c.layout, c.bias, 7);
    const std::vector<float> d = run_rs(p);
    const double rounded = p.relative_error(d, true), exact = p.relative_error(d);
    std::printf("[tf32-rs cuda] m=%lld n=%lld k=%lld lda=%lld %s bias=%d: vs rounded operands %.2e (bound %.2e), "
                "vs fp64 %.2e (bound %.2e)\n",
                (long long)c.m, (long long)c.n, (long long)c.k, (long long)c.lda, c.layout == rows ? "rows" : "row-major",
                c.bias ? 1 : 0, rounded, kRoundedBound, exact, kTf32Bound);
    EXPECT_LE(rounded, kRoundedBound) << c.m << "x" << c.n << "x" << c.k;
    EXPECT_LE(exact, kTf32Bound) << c.m << "x" << c.n << "x" << c.k;
    if (c.layout == rows) {  // the TMA GEMM takes weight rows only
      const std::vector<float> t = split_tf32_test::run_gemm_on_gpu(
          p, [](const k::SplitTf32GemmParams& q) { k::hopper::tf32_gemm_tma(q, nullptr); });
      std::printf("[tf32-tma cuda, for the record] same problem: vs rounded operands %.2e, vs fp64 %.2e\n",
                  p.relative_error(t, true), p.relative_error(t));
    }
  }
}

TEST(Tf32RsWgmmaCuda, ZeroRowsAndRepeatability) {
  if (!have_hopper()) GTEST_SKIP() << "no compute-capability 9.0 GPU";
  Problem empty(0, 128, 128, 128, k::GemmBLayout::kWeightRows, true, 1);
  EXPECT_TRUE(run_rs(empty).empty());
  Problem p(20000, 384, 384, 384, k::GemmBLayout::kRowMajor, true, 2);
  EXPECT_EQ(run_rs(p), run_rs(p));  // no split-K, no atomics: bit-identical
}

TEST(Tf32RsWgmmaCuda, RefusesOperandsItCannotTake) {
  alignas(16) static float buf[64];
  k::SplitTf32GemmParams p;
  p.m = 2; p.n = 4; p.k = 8;
  p.a = buf; p.lda = 8; p.b = buf; p.ldb = 8; p.d = buf; p.ldd = 4;
  if (have_hopper()) EXPECT_TRUE(k::hopper::tf32_gemm_rs_supported(p));
  p.a = buf + 1;  // not 16-byte aligned
  EXPECT_FALSE(k::hopper::tf32_gemm_rs_supported(p));
  EXPECT_THROW(k::hopper::tf32_gemm_rs(p, nullptr), std::invalid_argument);
  p.a = buf;
  p.k = 6;  // not a multiple of 4
  EXPECT_FALSE(k::hopper::tf32_gemm_rs_supported(p));
  EXPECT_THROW(k::hopper::tf32_gemm_rs(p, nullptr), std::invalid_argument);
}
