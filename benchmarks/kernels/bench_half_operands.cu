// What half-width operands would buy one layer's GEMMs (issue 14; docs/fused-edge-block.md, "Eleventh session").
// A TF32 value has fp16's 10-bit mantissa, so an operand that its producer kernel has already rounded to TF32
// (kernels/tf32_operand.cuh) is held exactly by fp16 inside fp16's range, and a weight too once scaled by a power of
// two (undone exactly by the epilogue's alpha). benchmarks/storage_precision_study.py measured that holding the
// GEMMs' activations, weights and output gradients so changes nothing beyond TF32's own error on fairchem's model.
// This bench asks what it is worth in time: the product's TF32 TMA GEMM (tf32_tma_gemm_config.h, fp32 operands)
// against the same CUTLASS TMA warp-specialized pipeline on fp16 operands (kernels/half_operands/half_gemm_kernel.cuh:
// f16 x f16 -> f32 MMA, fp32 D, alpha, the bias; 128-wide tiles as the product, or 256), on the 18 GEMM shapes of one layer at carbon 2000 (98 200 edges; UMA_BENCH_EDGES overrides), both fed the
// very same values. Each kernel is checked on sampled rows against an fp64 product of those values: error over
// sum_k |a||w| must stay below 2^-12 (fp32 accumulation over k <= 1536 products: <= ~1536 x 2^-24 ~ 2^-13.4), or the
// bench exits 2.
//   nvcc -std=c++17 -O3 -DNDEBUG --expt-relaxed-constexpr -gencode=arch=compute_90a,code=sm_90a -I src \
//        -isystem <cutlass>/include [-DUMA_HALF_TILE_N=256] benchmarks/kernels/bench_half_operands.cu -o bench_half
// (tools/gpu/run-on-device.sh half-probe.) Prints one markdown row per shape (median of 20 launches after 3) and the
// layer's totals. Never registered with ctest.
#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "bench_cuda.h"
#include "layer_gemm_shapes.h"
#include "kernels/gemm/hopper/tf32_tma_gemm_config.h"
#include "kernels/gemm/split_tf32_gemm_params.h"
#include "kernels/gemm/tf32_round.h"
#include "kernels/half_operands/half_gemm_kernel.cuh"

#ifndef UMA_HALF_TILE_N
#define UMA_HALF_TILE_N 128
#endif

namespace {

namespace h = uma::kernels::hopper;

// D [m, n] = alpha * A [m, k] B[n, k]^T (+ bias) on the product's f16 TMA GEMM template
// (kernels/half_operands/half_gemm_kernel.cuh) with N = UMA_HALF_TILE_N, A and B fp16 with row strides lda, ldb.
template <bool kBias>
void run_half(const __half* a, int lda, const __half* b, int ldb, const float* bias, float* d, int ldd, int m, int n,
              int k, float alpha, int sm_count) {
  uma::kernels::HalfGemmParams p;
  p.m = m; p.n = n; p.k = k;
  p.a = reinterpret_cast<const uint16_t*>(a); p.lda = lda;
  p.b = reinterpret_cast<const uint16_t*>(b); p.ldb = ldb;
  p.alpha = alpha; p.bias = bias; p.d = d; p.ldd = ldd;
  uma::kernels::run_half_tma_gemm<uma::kernels::HalfTmaGemm<UMA_HALF_TILE_N, kBias>>(p, sm_count, nullptr);
}

const int kEdges = uma_bench::bench_edges();
constexpr int kMaxDim = uma_bench::kLayerGemmMaxDim;
constexpr int kCheckedRows = 64;

// Largest |D - exact| / sum_k |a||w| over sampled rows (every column), the exact product in fp64 of the fp32 values.
double worst_error(const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& bias,
                   bool with_bias, const float* d_dev, int m, int n, int k) {
  double worst = 0;
  std::vector<float> row(n);
  for (int r = 0; r < kCheckedRows; ++r) {
    const int i = int((int64_t(r) * 7919 + 13) % m);
    UMA_BENCH_CHECK(cudaMemcpy(row.data(), d_dev + int64_t(i) * n, sizeof(float) * n, cudaMemcpyDeviceToHost));
    for (int j = 0; j < n; ++j) {
      double exact = with_bias ? bias[j] : 0.0, scale = with_bias ? std::fabs(bias[j]) : 0.0;
      for (int kk = 0; kk < k; ++kk) {
        const double p = double(x[int64_t(i) * k + kk]) * double(w[int64_t(j) * k + kk]);
        exact += p;
        scale += std::fabs(p);
      }
      if (!std::isfinite(row[j])) return INFINITY;
      if (scale > 0) worst = std::max(worst, std::fabs(row[j] - exact) / scale);
    }
  }
  return worst;
}

}  // namespace

int main() {
  int sm_count = 0;
  UMA_BENCH_CHECK(cudaDeviceGetAttribute(&sm_count, cudaDevAttrMultiProcessorCount, 0));
  // Operands: TF32 values that fp16 holds exactly (activations ~N(0, 1) kept at or above 2^-14 in size, the normal
  // range; weights ~N(0, 0.05), held as fp16 after a 2^kWeightExp scale), so both kernels multiply the same numbers.
  constexpr int kWeightExp = 8;
  std::mt19937 gen(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  auto held = [](float v, float scale) {  // the TF32 value of v * scale that fp16 holds, in the unscaled units
    float t = uma::kernels::tf32_round(v * scale);
    if (std::fabs(t) < 6.103515625e-05f) t = std::copysign(6.103515625e-05f, t);
    return __half2float(__float2half_rn(t)) / scale;
  };
  std::vector<float> x(size_t(kEdges) * kMaxDim), w(size_t(kMaxDim) * kMaxDim), bias(kMaxDim);
  for (auto& v : x) v = held(normal(gen), 1.0f);
  for (auto& v : w) v = held(0.05f * normal(gen), float(1 << kWeightExp));
  for (auto& v : bias) v = 0.1f * normal(gen);
  std::vector<__half> xh(x.size()), wh(w.size());
  for (size_t i = 0; i < x.size(); ++i) xh[i] = __float2half_rn(x[i]);
  for (size_t i = 0; i < w.size(); ++i) wh[i] = __float2half_rn(w[i] * float(1 << kWeightExp));
  float* dx = uma_bench::upload(x);
  float* dw = uma_bench::upload(w);
  float* dbias = uma_bench::upload(bias);
  __half* dxh = uma_bench::upload(xh);
  __half* dwh = uma_bench::upload(wh);
  float* dy = nullptr;
  UMA_BENCH_CHECK(cudaMalloc(&dy, sizeof(float) * size_t(kEdges) * kMaxDim));

  std::printf("| shape | m x n x k | TF32 TMA, fp32 operands (ms) | f16 TMA <128, %d, 64>, fp16 operands (ms) | "
              "TF32 / f16 | error TF32 | error f16 |\n|---|---|---:|---:|---:|---:|---:|\n",
              UMA_HALF_TILE_N);
  double total_tf32 = 0, total_half = 0, worst = 0;
  for (const auto& s : uma_bench::kLayerGemms)
    for (int dir = 0; dir < 2; ++dir) {  // 0: y = x W^T (+ bias); 1: dx = dy W, W^T given as weight rows
      const int m = kEdges, n = dir == 0 ? s.n : s.k, k = dir == 0 ? s.k : s.n;
      const bool with_bias = dir == 0;
      uma::kernels::SplitTf32GemmParams p;
      p.m = m; p.n = n; p.k = k;
      p.a = dx; p.lda = k;
      p.b = dw; p.ldb = k;
      p.b_layout = uma::kernels::GemmBLayout::kWeightRows;
      p.bias = with_bias ? dbias : nullptr;
      p.d = dy; p.ldd = n;
      auto tf32 = [&] {
        if (with_bias)
          h::run_tf32_tma_gemm<h::ProductTf32TmaGemm<true>>(p, sm_count, nullptr);
        else
          h::run_tf32_tma_gemm<h::ProductTf32TmaGemm<false>>(p, sm_count, nullptr);
      };
      const float alpha = 1.0f / float(1 << kWeightExp);
      auto half = [&] {
        if (with_bias)
          run_half<true>(dxh, k, dwh, k, dbias, dy, n, m, n, k, alpha, sm_count);
        else
          run_half<false>(dxh, k, dwh, k, nullptr, dy, n, m, n, k, alpha, sm_count);
      };
      const double t_tf32 = uma_bench::median_ms(tf32);
      const double e_tf32 = worst_error(x, w, bias, with_bias, dy, m, n, k);
      const double t_half = uma_bench::median_ms(half);
      const double e_half = worst_error(x, w, bias, with_bias, dy, m, n, k);
      total_tf32 += t_tf32;
      total_half += t_half;
      worst = std::max({worst, e_tf32, e_half});
      std::printf("| %s %s | %d x %d x %d | %.3f | %.3f | %.2f | %.1e | %.1e |\n", s.what, dir == 0 ? "fwd" : "bwd",
                  m, n, k, t_tf32, t_half, t_tf32 / t_half, e_tf32, e_half);
    }
  std::printf("| **one layer, all 18 GEMMs** | | %.3f | %.3f | %.2f | | |\n", total_tf32, total_half,
              total_tf32 / total_half);
  const double bound = std::ldexp(1.0, -12);
  std::printf("largest error over sum |a||w|: %.2e (bound %.2e): %s\n", worst, bound, worst <= bound ? "ok" : "FAILED");
  return worst <= bound ? 0 : 2;
}
