// Shared by the CPU and CUDA tests of the split-TF32 GEMM: random operands, the exact (fp64) product, and the error
// measure both use.
#ifndef UMA_TEST_SPLIT_TF32_TEST_DATA_H
#define UMA_TEST_SPLIT_TF32_TEST_DATA_H

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "kernels/gemm/split_tf32_gemm_params.h"
#include "kernels/gemm/tf32_round.h"

namespace split_tf32_test {

struct Problem {
  int64_t m, n, k, lda;  // lda >= k: a row-padded A (a strided view, as the engine passes)
  uma::kernels::GemmBLayout layout;
  bool bias;
  std::vector<float> a, b, c;  // b holds [n][k] (kWeightRows) or [k][n] (kRowMajor); c: bias [n]

  Problem(int64_t m_, int64_t n_, int64_t k_, int64_t lda_, uma::kernels::GemmBLayout layout_, bool bias_,
          unsigned seed)
      : m(m_), n(n_), k(k_), lda(lda_), layout(layout_), bias(bias_) {
    std::mt19937 gen(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    a.resize(std::max<int64_t>(m * lda, 1));
    b.resize(n * k);
    c.resize(n);
    for (auto& v : a) v = normal(gen);
    for (auto& v : b) v = normal(gen) * 0.1f;
    for (auto& v : c) v = normal(gen);
  }
  int64_t ldb() const { return layout == uma::kernels::GemmBLayout::kWeightRows ? k : n; }
  float b_at(int64_t kk, int64_t j) const {
    return layout == uma::kernels::GemmBLayout::kWeightRows ? b[j * k + kk] : b[kk * n + j];
  }
  uma::kernels::SplitTf32GemmParams params(const float* pa, const float* pb, const float* pc, float* pd) const {
    uma::kernels::SplitTf32GemmParams p;
    p.m = m; p.n = n; p.k = k;
    p.a = pa; p.lda = lda;
    p.b = pb; p.ldb = ldb(); p.b_layout = layout;
    p.bias = bias ? pc : nullptr;
    p.d = pd; p.ldd = n;
    return p;
  }
  // Largest |d - exact| / (sum_k |a||b| + |bias|) over the output: the error relative to the size of what was
  // summed, which is what floating-point sums bound (independent of cancellation in the result).
  // With tf32_operands, "exact" is the product of the operands rounded to TF32 first (kernels/gemm/tf32_round.h, the
  // GPU's cvt.rna): what a TF32 GEMM that rounds can at best compute, so only its fp32 summation is measured.
  double relative_error(const std::vector<float>& d, bool tf32_operands = false) const {
    auto op = [&](float v) { return tf32_operands ? double(uma::kernels::tf32_round(v)) : double(v); };
    double worst = 0.0;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double exact = bias ? c[j] : 0.0, scale = bias ? std::abs(c[j]) : 0.0;
        for (int64_t kk = 0; kk < k; ++kk) {
          exact += op(a[i * lda + kk]) * op(b_at(kk, j));
          scale += std::abs(op(a[i * lda + kk]) * op(b_at(kk, j)));
        }
        worst = std::max(worst, std::abs(double(d[i * n + j]) - exact) / scale);
      }
    return worst;
  }
};

// fp32 sums of random terms in k order err by about sqrt(k) * 2^-24 of the partial sums, i.e. ~2^-24 relative to
// sum |a||b| for these operands; 2^-20 leaves a factor ~10 for the kernel's different order and the dropped
// small*small term (2^-22 per product at most). Plain TF32 products err by ~2^-11 each: ~1e-5 relative here.
constexpr double kFp32Accurate = 1.0 / (1 << 20);
constexpr double kTf32Level = 1.0 / (1 << 17);

}  // namespace split_tf32_test

#endif  // UMA_TEST_SPLIT_TF32_TEST_DATA_H
