// Variant sweep of gather_rotate_bwd with the conv-1 radial scale (the engine's form: grad_x, grad_wigner and
// grad_radial in one pass, float atomics into grad_x), fp32, C = 128: channels per lane (kVec 4, 2, 1) against the
// resident blocks asked of the compiler (__launch_bounds__), with the registers and spills each variant gets. The
// kernel takes 254 registers at kVec 4 (2 blocks of 4 warps per SM: 8 warps to hide its loads and atomics), and
// bench_wigner measures it at ~54 % of a same-size memcpy: the question is whether narrower lanes at higher occupancy
// do better. Every variant's outputs are compared with the current one's (grad_wigner and grad_radial bitwise, the
// same sums in the same order per lane group; grad_x to atomic-order noise).
//
// Build: nvcc -std=c++17 -O3 -arch=sm_90 -I src benchmarks/kernels/bench_gather_bwd_variants.cu -o bench_gbv
// Usage: ./bench_gbv   (prints a markdown table)
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "bench_cuda.h"
#include "kernels/wigner/gather_rotate_bwd.cuh"

namespace {

using namespace uma::kernels;

#define CHECK(expr) UMA_BENCH_CHECK(expr)
using uma_bench::upload;

std::vector<float> download(const float* d, size_t n) {
  std::vector<float> h(n);
  CHECK(cudaMemcpy(h.data(), d, n * sizeof(float), cudaMemcpyDeviceToHost));
  return h;
}

struct Result {
  const char* name;
  int regs, spill_bytes;
  float ms;
  double diff_x, diff_w, diff_r;
};

template <int kVec, int kMinBlocks>
Result run(const char* name, GatherRotateBwdParams<float> p, const std::vector<float>* ref_x,
           const std::vector<float>* ref_w, const std::vector<float>* ref_r) {
  auto kernel = gather_rotate_bwd_kernel<float, kVec, true, true, kMinBlocks>;
  cudaFuncAttributes attr{};
  CHECK(cudaFuncGetAttributes(&attr, kernel));
  const dim3 grid(detail::grid_for(p.n_edges)), block(detail::kThreadsPerBlock);
  const size_t nx = size_t(p.n_atoms) * 9 * p.channels;
  auto launch = [&] {
    CHECK(cudaMemsetAsync(p.grad_x, 0, nx * sizeof(float)));
    kernel<<<grid, block>>>(p);
  };
  cudaEvent_t a, b;
  CHECK(cudaEventCreate(&a));
  CHECK(cudaEventCreate(&b));
  for (int i = 0; i < 3; ++i) launch();
  std::vector<float> times;
  for (int i = 0; i < 20; ++i) {
    CHECK(cudaEventRecord(a));
    launch();
    CHECK(cudaEventRecord(b));
    CHECK(cudaEventSynchronize(b));
    float ms = 0;
    CHECK(cudaEventElapsedTime(&ms, a, b));
    times.push_back(ms);
  }
  CHECK(cudaGetLastError());
  std::sort(times.begin(), times.end());
  Result r{name, attr.numRegs, int(attr.localSizeBytes), times[times.size() / 2], 0, 0, 0};
  auto max_diff = [](const std::vector<float>& u, const std::vector<float>& v) {
    double m = 0;
    for (size_t i = 0; i < u.size(); ++i) m = std::max(m, double(std::abs(u[i] - v[i])));
    return m;
  };
  if (ref_x) {
    r.diff_x = max_diff(download(p.grad_x, nx), *ref_x);
    r.diff_w = max_diff(download(p.grad_wigner, size_t(p.n_edges) * 81), *ref_w);
    r.diff_r = max_diff(download(p.grad_radial, size_t(p.n_edges) * kRadialGroups * 2 * p.channels), *ref_r);
  }
  return r;
}

void sweep(int64_t N, int64_t degree) {
  const int64_t C = 128, E = N * degree;
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<int64_t> src(E), dst(E);
  std::uniform_int_distribution<int64_t> off(-400, 400);
  for (int64_t e = 0; e < E; ++e) {  // grouped by target, sources near it (a spatially sorted cell)
    dst[e] = e / degree;
    src[e] = ((dst[e] + off(rng)) % N + N) % N;
  }
  auto random = [&](size_t n) {
    std::vector<float> v(n);
    for (auto& x : v) x = u(rng);
    return v;
  };
  std::vector<float> wig = random(size_t(E) * 81);
  GatherRotateBwdParams<float> p;
  p.grad_out = upload(random(size_t(E) * 9 * 2 * C));
  p.x = upload(random(size_t(N) * 9 * C));
  p.src = upload(src);
  p.dst = upload(dst);
  p.wigner = upload(wig);
  p.radial = upload(random(size_t(E) * kRadialGroups * 2 * C));
  float *gx, *gw, *gr;
  CHECK(cudaMalloc(&gx, size_t(N) * 9 * C * 4));
  CHECK(cudaMalloc(&gw, size_t(E) * 81 * 4));
  CHECK(cudaMalloc(&gr, size_t(E) * kRadialGroups * 2 * C * 4));
  p.grad_x = gx;
  p.grad_wigner = gw;
  p.grad_radial = gr;
  p.grad_out_groups = {};
  p.n_atoms = N;
  p.n_edges = E;
  p.channels = C;
  // The launcher resolves grad_out into its m-group rows; do the same here (one dense [E, 9, 2C] tensor).
  for (int g = 0, row = 0; g < kMGroups; ++g) {
    p.grad_out_groups.base[g] = p.grad_out + row * 2 * C;
    p.grad_out_groups.edge_stride[g] = 9 * 2 * C;
    row += m_group_rows(g);
  }
  std::vector<Result> rs;
  rs.push_back(run<4, 2>("kVec 4, 2 blocks (current)", p, nullptr, nullptr, nullptr));
  const auto ref_x = download(gx, size_t(N) * 9 * C), ref_w = download(gw, size_t(E) * 81),
             ref_r = download(gr, size_t(E) * kRadialGroups * 2 * C);
  rs.push_back(run<4, 3>("kVec 4, 3 blocks", p, &ref_x, &ref_w, &ref_r));
  rs.push_back(run<2, 3>("kVec 2, 3 blocks", p, &ref_x, &ref_w, &ref_r));
  rs.push_back(run<2, 4>("kVec 2, 4 blocks", p, &ref_x, &ref_w, &ref_r));
  rs.push_back(run<1, 4>("kVec 1, 4 blocks", p, &ref_x, &ref_w, &ref_r));
  rs.push_back(run<1, 6>("kVec 1, 6 blocks", p, &ref_x, &ref_w, &ref_r));
  rs.push_back(run<1, 8>("kVec 1, 8 blocks", p, &ref_x, &ref_w, &ref_r));
  // Minimal bytes: grad_out, radial, grad_radial once each; x and grad_x once per atom; D's 35 entries; grad_D.
  const double bytes = 4.0 * (double(E) * (9 * 2 * C + 2 * kRadialGroups * 2 * C + 35 + 81) + 2.0 * N * 9 * C) +
                       16.0 * E;
  std::printf("\n%lld atoms x %lld edges each (E = %lld), C = 128, radial on; minimal bytes %.0f MB\n\n",
              (long long)N, (long long)degree, (long long)E, bytes / 1e6);
  std::printf("| variant | registers | spill B | ms | GB/s | max d grad_x | max d grad_D | max d grad_radial |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& r : rs)
    std::printf("| %s | %d | %d | %.3f | %.0f | %.1e | %.1e | %.1e |\n", r.name, r.regs, r.spill_bytes, r.ms,
                bytes / (r.ms * 1e6), r.diff_x, r.diff_w, r.diff_r);
}

}  // namespace

int main() {
  cudaDeviceProp prop{};
  CHECK(cudaGetDeviceProperties(&prop, 0));
  std::printf("Device: %s (%d SMs)\n", prop.name, prop.multiProcessorCount);
  sweep(2000, 50);
  sweep(2000, 75);
  return 0;
}
