// What the GEMM benches share (bench_split_tf32_gemm.cu, bench_half_operands.cu): one layer's GEMM shapes at
// carbon 2000, the row count (its 98 200 edges unless UMA_BENCH_EDGES says otherwise), and the timing rule.
#ifndef UMA_BENCH_LAYER_GEMM_SHAPES_H
#define UMA_BENCH_LAYER_GEMM_SHAPES_H

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "bench_cuda.h"

namespace uma_bench {

// Edges (GEMM rows): carbon 2000's 98 200 unless UMA_BENCH_EDGES says otherwise (Cu 192 has 14 344, where a 128-row
// tile grid leaves SMs idle on the narrow GEMMs).
inline int bench_edges() {
  const char* v = std::getenv("UMA_BENCH_EDGES");
  return v && std::atoi(v) > 0 ? std::atoi(v) : 98200;
}

struct GemmShape {
  const char* what;
  int n, k;  // forward: y [E, n] = x [E, k] W^T, W [n, k]
};
// One layer of UMA-S (C = 128): conv 1 on the [9, 2C] message (m = 0 with the 2*128 gate logits, the m = 1 and
// m = 2 block weights [x_r | x_i] -> [y_r | y_i]), conv 2 on [9, C], the radial MLP (lin0 on the 32 Gaussians only,
// 2026-12-06; lin6 gives the six [2C] radial groups).
constexpr GemmShape kLayerGemms[] = {{"conv1 m0+gate", 640, 768}, {"conv1 m1", 512, 1024}, {"conv1 m2", 256, 512},
                                     {"conv2 m0", 384, 384},      {"conv2 m1", 512, 512},  {"conv2 m2", 256, 256},
                                     {"radial lin0", 128, 32},    {"radial lin3", 128, 128},
                                     {"radial lin6", 1536, 128}};
constexpr int kLayerGemmMaxDim = 1536;

// Median of 20 timed launches after 3 untimed ones (ms, CUDA events on the default stream).
template <typename F>
double median_ms(F&& launch) {
  cudaEvent_t a, b;
  UMA_BENCH_CHECK(cudaEventCreate(&a));
  UMA_BENCH_CHECK(cudaEventCreate(&b));
  for (int i = 0; i < 3; ++i) launch();
  std::vector<float> t;
  for (int i = 0; i < 20; ++i) {
    UMA_BENCH_CHECK(cudaEventRecord(a));
    launch();
    UMA_BENCH_CHECK(cudaEventRecord(b));
    UMA_BENCH_CHECK(cudaEventSynchronize(b));
    float ms = 0;
    UMA_BENCH_CHECK(cudaEventElapsedTime(&ms, a, b));
    t.push_back(ms);
  }
  UMA_BENCH_CHECK(cudaGetLastError());
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace uma_bench

#endif  // UMA_BENCH_LAYER_GEMM_SHAPES_H
