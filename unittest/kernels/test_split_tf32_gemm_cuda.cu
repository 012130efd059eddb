// The split-TF32 GEMM kernel (src/kernels/gemm/split_tf32_gemm_launch.h) on a GPU: fp32 accuracy against fp64 on
// both B layouts, with and without a bias, padded rows of A (a strided view, as the engine passes), sizes that are
// not multiples of the tile, zero rows, agreement with the CPU reference, bitwise repeatability, and a clear refusal
// of operands it cannot take; for each kernel the launcher has (mma.sync, the product's, everywhere; the Hopper wgmma
// kernel on compute capability 9.0), and the two against each other. Skipped without a CUDA device.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "kernels/gemm/split_tf32_gemm_launch.h"
#include "kernels/gemm/split_tf32_gemm_reference.h"
#include "gemm_test_gpu.h"
#include "split_tf32_test_data.h"

namespace k = uma::kernels;
using split_tf32_test::Problem;

namespace {

bool have_gpu() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess && n > 0;
}

// The kernels this GPU can run: mma.sync always, the Hopper wgmma kernel on compute capability 9.0.
std::vector<k::SplitTf32Kernel> kernels_here() {
  std::vector<k::SplitTf32Kernel> ks = {k::SplitTf32Kernel::kMmaSync};
  if (k::split_tf32_wgmma_available()) ks.push_back(k::SplitTf32Kernel::kWgmma);
  return ks;
}

const char* name(k::SplitTf32Kernel kernel) { return kernel == k::SplitTf32Kernel::kWgmma ? "wgmma" : "mma.sync"; }

std::vector<float> run_on_gpu(const Problem& p, k::SplitTf32Kernel kernel = k::SplitTf32Kernel::kAuto) {
  return split_tf32_test::run_gemm_on_gpu(
      p, [&](const k::SplitTf32GemmParams& q) { k::split_tf32_gemm(q, nullptr, kernel); });
}

}  // namespace

TEST(SplitTf32GemmCuda, Fp32AccurateOnBothLayouts) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  struct Case { int64_t m, n, k, lda; bool bias; };
  // The engine's shapes (edges x 640 x 384: conv 1 m = 0 with the gate; 512 x 512: m = 1 block weight; 288 -> 128:
  // the radial MLP's first layer) and awkward ones (rows not a multiple of 128, n not of 64, padded A rows).
  const Case cases[] = {{1000, 640, 384, 384, true}, {777, 512, 512, 1024, false}, {129, 128, 288, 292, true},
                        {3, 68, 12, 16, true},       {1, 4, 4, 4, false}};
  for (auto kernel : kernels_here())
    for (auto layout : {k::GemmBLayout::kWeightRows, k::GemmBLayout::kRowMajor})
      for (const auto& c : cases) {
        Problem p(c.m, c.n, c.k, c.lda, layout, c.bias, 5);
        auto d = run_on_gpu(p, kernel);
        const double err = p.relative_error(d);
        std::vector<float> ref(p.m * p.n);
        k::split_tf32_gemm_reference(p.params(p.a.data(), p.b.data(), p.c.data(), ref.data()));
        std::printf("[split-tf32 cuda] %s %s m=%lld n=%lld k=%lld: relative error vs fp64 %.2e (CPU reference %.2e)\n",
                    name(kernel), layout == k::GemmBLayout::kWeightRows ? "x W^T" : "dy W", (long long)c.m,
                    (long long)c.n, (long long)c.k, err, p.relative_error(ref));
        EXPECT_LE(err, split_tf32_test::kFp32Accurate) << name(kernel) << " " << c.m << "x" << c.n << "x" << c.k;
      }
}

// The Hopper kernel against the mma.sync kernel on the engine's largest shapes (several K steps and N tiles, rows
// not a multiple of 128): both are fp32-accurate, so they agree to a few fp32 roundings of the sum, far below what
// a wrong tile, swizzle or transposition would give (O(1)).
TEST(SplitTf32GemmCuda, WgmmaKernelAgreesWithMmaSync) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  if (kernels_here().size() < 2) GTEST_SKIP() << "no compute-capability 9.0 GPU (the wgmma kernel is sm_90a code)";
  for (auto layout : {k::GemmBLayout::kWeightRows, k::GemmBLayout::kRowMajor}) {
    Problem p(3001, 768, 640, 640, layout, true, 9);
    auto w = run_on_gpu(p, k::SplitTf32Kernel::kWgmma), s = run_on_gpu(p, k::SplitTf32Kernel::kMmaSync);
    std::printf("[split-tf32 cuda] wgmma vs fp64 %.2e, mma.sync vs fp64 %.2e\n", p.relative_error(w),
                p.relative_error(s));
    EXPECT_LE(p.relative_error(w), split_tf32_test::kFp32Accurate);
    EXPECT_LE(p.relative_error(s), split_tf32_test::kFp32Accurate);
    EXPECT_EQ(run_on_gpu(p, k::SplitTf32Kernel::kWgmma), w);  // deterministic
  }
}

TEST(SplitTf32GemmCuda, ZeroRowsAndRepeatability) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  Problem empty(0, 128, 128, 128, k::GemmBLayout::kWeightRows, true, 1);
  EXPECT_TRUE(run_on_gpu(empty).empty());
  Problem p(4096, 256, 256, 256, k::GemmBLayout::kRowMajor, true, 2);
  for (auto kernel : kernels_here())  // no split-K, no atomics: bit-identical
    EXPECT_EQ(run_on_gpu(p, kernel), run_on_gpu(p, kernel)) << name(kernel);
}

TEST(SplitTf32GemmCuda, RefusesOperandsItCannotTake) {
  k::SplitTf32GemmParams p;
  alignas(16) static float buf[64];
  p.m = 2; p.n = 4; p.k = 6;  // k not a multiple of 4
  p.a = buf; p.lda = 6; p.b = buf; p.ldb = 6; p.d = buf; p.ldd = 4;
  EXPECT_FALSE(k::split_tf32_gemm_supported(p));
  EXPECT_THROW(k::split_tf32_gemm(p, nullptr), std::invalid_argument);
  p.k = 8; p.lda = 8; p.ldb = 8;
  EXPECT_TRUE(k::split_tf32_gemm_supported(p));
  p.a = buf + 1;  // not 16-byte aligned
  EXPECT_FALSE(k::split_tf32_gemm_supported(p));
}
