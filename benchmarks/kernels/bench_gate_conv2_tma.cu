// K2's forward on the TMA host (src/kernels/gemm/hopper/tf32_tma_gated_mainloop.cuh) against what the engine runs
// today with UMA_TF32_PREROUND=1: the edge gate kernel storing its output rounded to TF32, then conv 2's three m-group
// GEMMs on the truncating TMA kernel. Both form the same rounded A operands (tf32_round(x * sigma)), so the outputs
// should agree bit for bit; the bench prints the number of differing elements, the largest difference, and the
// times. Random conv-1 outputs at carbon 2000's edge count (UMA_BENCH_EDGES overrides), H = C = 128.
// Build (sm_90a, CUTLASS headers as in run-on-device.sh tf32-tiles-start):
//   nvcc -std=c++17 -O3 -DNDEBUG --expt-relaxed-constexpr -gencode=arch=compute_90a,code=sm_90a -I src \
//        -isystem <cutlass>/include benchmarks/kernels/bench_gate_conv2_tma.cu -o bench_gate_conv2_tma
#include <cuda_runtime_api.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "bench_cuda.h"
#include "kernels/device_math.cuh"
#include "kernels/gemm/hopper/tf32_tma_gated_mainloop.cuh"
#include "kernels/gemm/hopper/tf32_tma_gemm_config.h"
#include "kernels/gemm/tf32_round.h"

namespace {

namespace hk = uma::kernels::hopper;

using uma_bench::upload;

constexpr int H = 128, C = 128;

// The engine's own device helpers, so that both sides compute sigma and the rounding as its kernels do.
using uma::kernels::sigmoid_of;
using uma::kernels::tf32_operand;

// The gate factors [E, 3H]: sigma of the l = 0 row, of the l = 1 logits, of the l = 2 logits.
__global__ void factors_kernel(const float* m0g, float* s, int64_t E) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < E * H; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t e = i / H, c = i % H;
    const float* row = m0g + e * 5 * H + c;
    float* out = s + e * 3 * H + c;
    out[0] = sigmoid_of(row[2 * H]);
    out[H] = sigmoid_of(row[0]);
    out[2 * H] = sigmoid_of(row[H]);
  }
}

// The edge gate as the engine's kernel computes it (edge_gate.cu), stored rounded (UMA_TF32_PREROUND=1).
__global__ void gate_kernel(const float* m0g, const float* m1, const float* m2, float* o0, float* o1, float* o2,
                            int64_t E) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < E * H; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t e = i / H, c = i % H;
    const float* row = m0g + e * 5 * H + c;
    const float s1 = sigmoid_of(row[0]), s2 = sigmoid_of(row[H]), x0 = row[2 * H];
    o0[e * 3 * H + c] = tf32_operand(x0 * sigmoid_of(x0));
    o0[e * 3 * H + H + c] = tf32_operand(row[3 * H] * s1);
    o0[e * 3 * H + 2 * H + c] = tf32_operand(row[4 * H] * s2);
    for (int r = 0; r < 4; ++r) o1[e * 4 * H + r * H + c] = tf32_operand(m1[e * 4 * H + r * H + c] * (r % 2 ? s2 : s1));
    for (int r = 0; r < 2; ++r) o2[e * 2 * H + r * H + c] = tf32_operand(m2[e * 2 * H + r * H + c] * s2);
  }
}

std::vector<float> random(size_t n, std::mt19937& rng, float scale, bool tf32) {
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = tf32 ? uma::kernels::tf32_round(dist(rng)) : dist(rng);
  return v;
}

}  // namespace

int main() {
  const char* env = std::getenv("UMA_BENCH_EDGES");
  const int64_t E = env && std::atoi(env) > 0 ? std::atoi(env) : 98200;
  std::mt19937 rng(7);
  float* m0g = upload(random(size_t(E) * 5 * H, rng, 1.0f, false));
  float* m1 = upload(random(size_t(E) * 4 * H, rng, 1.0f, false));
  float* m2 = upload(random(size_t(E) * 2 * H, rng, 1.0f, false));
  const int rows[3] = {3, 4, 2};
  const int n_out[3] = {3 * C, 4 * C, 2 * C};
  float* w[3];
  for (int g = 0; g < 3; ++g) w[g] = upload(random(size_t(n_out[g]) * rows[g] * H, rng, 0.05f, true));
  float* bias0 = upload(random(3 * C, rng, 0.1f, false));
  float *s, *gated[3], *y_ref[3], *y_fused[3];
  UMA_BENCH_CHECK(cudaMalloc(&s, sizeof(float) * E * 3 * H));
  for (int g = 0; g < 3; ++g) {
    UMA_BENCH_CHECK(cudaMalloc(&gated[g], sizeof(float) * E * rows[g] * H));
    UMA_BENCH_CHECK(cudaMalloc(&y_ref[g], sizeof(float) * E * n_out[g]));
    UMA_BENCH_CHECK(cudaMalloc(&y_fused[g], sizeof(float) * E * n_out[g]));
  }
  int device = 0, sms = 0;
  UMA_BENCH_CHECK(cudaGetDevice(&device));
  UMA_BENCH_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  cudaStream_t stream = nullptr;
  const int blocks = 4 * sms, threads = 256;

  auto gemm_params = [&](int g, const float* a, int64_t lda, float* d) {
    uma::kernels::SplitTf32GemmParams p;
    p.m = E;
    p.n = n_out[g];
    p.k = rows[g] * H;
    p.a = a;
    p.lda = lda;
    p.b = w[g];
    p.ldb = p.k;
    p.b_layout = uma::kernels::GemmBLayout::kWeightRows;
    p.bias = g == 0 ? bias0 : nullptr;
    p.d = d;
    p.ldd = p.n;
    return p;
  };
  auto unfused = [&] {
    gate_kernel<<<blocks, threads, 0, stream>>>(m0g, m1, m2, gated[0], gated[1], gated[2], E);
    for (int g = 0; g < 3; ++g) {
      const auto p = gemm_params(g, gated[g], rows[g] * H, y_ref[g]);
      if (g == 0)
        hk::run_tf32_tma_gemm<hk::ProductTf32TmaGemm<true>>(p, sms, stream);
      else
        hk::run_tf32_tma_gemm<hk::ProductTf32TmaGemm<false>>(p, sms, stream);
    }
  };
  auto fused = [&] {
    factors_kernel<<<blocks, threads, 0, stream>>>(m0g, s, E);
    const hk::GateTileMap maps[3] = {{H / 32, {0, 1, 2, 0}}, {H / 32, {1, 2, 1, 2}}, {H / 32, {2, 2, 0, 0}}};
    const float* a[3] = {m0g + 2 * H, m1, m2};
    const int64_t lda[3] = {5 * H, 4 * H, 2 * H};
    for (int g = 0; g < 3; ++g) {
      const auto p = gemm_params(g, a[g], lda[g], y_fused[g]);
      hk::GateFactors f;
      f.s = s;
      f.ldg = 3 * H;
      f.g_columns = 3 * H;
      f.map = maps[g];
      if (g == 0)
        hk::run_gated_tf32_tma_gemm<hk::GatedTf32TmaGemm<true>>(p, f, sms, stream);
      else
        hk::run_gated_tf32_tma_gemm<hk::GatedTf32TmaGemm<false>>(p, f, sms, stream);
    }
  };
  auto time_ms = [&](auto&& fn) {
    fn();
    UMA_BENCH_CHECK(cudaDeviceSynchronize());
    cudaEvent_t a, b;
    UMA_BENCH_CHECK(cudaEventCreate(&a));
    UMA_BENCH_CHECK(cudaEventCreate(&b));
    constexpr int kReps = 20;
    UMA_BENCH_CHECK(cudaEventRecord(a, stream));
    for (int i = 0; i < kReps; ++i) fn();
    UMA_BENCH_CHECK(cudaEventRecord(b, stream));
    UMA_BENCH_CHECK(cudaEventSynchronize(b));
    float ms = 0;
    UMA_BENCH_CHECK(cudaEventElapsedTime(&ms, a, b));
    return ms / kReps;
  };
  const float t_unfused = time_ms(unfused), t_fused = time_ms(fused);
  size_t differ = 0, total = 0;
  double max_diff = 0, max_ref = 0;
  for (int g = 0; g < 3; ++g) {
    std::vector<float> r(size_t(E) * n_out[g]), f(r.size());
    UMA_BENCH_CHECK(cudaMemcpy(r.data(), y_ref[g], r.size() * sizeof(float), cudaMemcpyDeviceToHost));
    UMA_BENCH_CHECK(cudaMemcpy(f.data(), y_fused[g], f.size() * sizeof(float), cudaMemcpyDeviceToHost));
    for (size_t i = 0; i < r.size(); ++i) {
      differ += r[i] != f[i];
      max_diff = std::fmax(max_diff, std::fabs(double(r[i]) - f[i]));
      max_ref = std::fmax(max_ref, std::fabs(double(r[i])));
    }
    total += r.size();
  }
  std::printf("| edges | gate + 3 GEMMs (ms) | factors + 3 gated GEMMs (ms) | differing outputs | max |diff| | max |y| |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|\n");
  std::printf("| %lld | %.3f | %.3f | %zu of %zu | %.3g | %.3g |\n", (long long)E, t_unfused, t_fused, differ, total,
              max_diff, max_ref);
  return differ == 0 ? 0 : 2;
}
