// Standalone microbenchmark of the fused Wigner rotation kernels (src/kernels/wigner/wigner_launch.h), fp32, C = 128.
// For each graph size it times every launcher (cudaEvent, median of 20 after 3 warm-up runs), counts the minimal
// bytes (each input read once, each output written once; only the 35 block entries of a Wigner matrix counted),
// and prints achieved GB/s next to a device-to-device cudaMemcpy moving the same byte count (read + write) in the
// same run, which is the practical bandwidth roof. It also times an unfused equivalent made of simple kernels
// (gather → dense batched 9×9 multiply → permute; and permute → multiply → atomic index_add) and checks on the
// device that fused and unfused agree. Prints a markdown table; no Torch.
//
// Graph model: edges grouped by target (as a LAMMPS full neighbour list gives them), dst[e] = e / degree; sources
// drawn within ±N^(2/3) of the target's index (what a spatially sorted cubic box of N atoms gives within the cutoff).
//
// Build: nvcc -std=c++17 -O3 -arch=sm_90 -I src benchmarks/kernels/bench_wigner.cu
//        src/kernels/wigner/wigner_launch_f32.cu src/kernels/wigner/wigner_launch_f64.cu -o bench_wigner
// Usage: ./bench_wigner [markdown_output_file]
//        ./bench_wigner --from DIR   (tensors written by benchmarks/kernels/vs_fairchem_triton.py: runs our four
//        launchers on them, writes their outputs and median times back to DIR for the comparison with fairchem's
//        Triton kernels on identical inputs)
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "bench_cuda.h"
#include "kernels/wigner/wigner_launch.h"

namespace {

using namespace uma::kernels;

#define CUDA_CHECK(expr) UMA_BENCH_CHECK(expr)

constexpr int kLtoMHost[9] = {0, 2, 6, 3, 7, 1, 5, 8, 4};
constexpr int kMtoLHost[9] = {0, 5, 1, 3, 8, 6, 2, 4, 7};
__constant__ int c_ltom[9];
__constant__ int c_mtol[9];

// ---- Unfused building blocks (what a framework would do with gather, bmm and index ops). ----

// xe[e, j, 0:C] = x[src[e], j], xe[e, j, C:2C] = x[dst[e], j]; one float4 per thread.
__global__ void unfused_gather(const float* x, const int64_t* src, const int64_t* dst, float* xe, int64_t E,
                               int64_t C) {
  const int64_t c4 = C / 4, total = E * 9 * 2 * c4;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < total; t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t q = t % (2 * c4), row = t / (2 * c4), j = row % 9, e = row / 9;
    const int64_t node = q < c4 ? src[e] : dst[e];
    const int64_t cq = q < c4 ? q : q - c4;
    reinterpret_cast<float4*>(xe)[t] = reinterpret_cast<const float4*>(x)[(node * 9 + j) * c4 + cq];
  }
}

// y[e] = M_e · v[e], dense 9×9 times [9, W] (W = width in floats); one float4 column slice per thread.
__global__ void unfused_bmm(const float* M, const float* v, float* y, int64_t E, int64_t W) {
  const int64_t w4 = W / 4, total = E * w4;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < total; t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t e = t / w4, q = t % w4;
    const float* m = M + e * 81;
    float4 in[9];
    for (int j = 0; j < 9; ++j) in[j] = reinterpret_cast<const float4*>(v)[(e * 9 + j) * w4 + q];
    for (int i = 0; i < 9; ++i) {
      float4 acc = make_float4(0, 0, 0, 0);
      for (int j = 0; j < 9; ++j) {
        const float a = m[i * 9 + j];
        acc.x += a * in[j].x; acc.y += a * in[j].y; acc.z += a * in[j].z; acc.w += a * in[j].w;
      }
      reinterpret_cast<float4*>(y)[(e * 9 + i) * w4 + q] = acc;
    }
  }
}

// out[e, k] = in[e, perm[k]] (row permutation of [E, 9, W]).
__global__ void unfused_permute(const float* in, float* out, int64_t E, int64_t W, bool l_to_m) {
  const int64_t w4 = W / 4, total = E * 9 * w4;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < total; t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t q = t % w4, row = t / w4, k = row % 9, e = row / 9;
    const int from = l_to_m ? c_ltom[k] : c_mtol[k];
    reinterpret_cast<float4*>(out)[t] = reinterpret_cast<const float4*>(in)[(e * 9 + from) * w4 + q];
  }
}

// out[dst[e]] += y[e] with float4 atomics (index_add_).
__global__ void unfused_index_add(const float* y, const int64_t* dst, float* out, int64_t E, int64_t C) {
  const int64_t c4 = C / 4, total = E * 9 * c4;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < total; t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t q = t % c4, row = t / c4, i = row % 9, e = row / 9;
    atomicAdd(reinterpret_cast<float4*>(out) + (dst[e] * 9 + i) * c4 + q, reinterpret_cast<const float4*>(y)[t]);
  }
}

__global__ void fill_uniform(float* p, int64_t n, uint64_t seed) {
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < n; t += int64_t(gridDim.x) * blockDim.x) {
    uint64_t z = seed + 0x9E3779B97F4A7C15ull * uint64_t(t + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    p[t] = float(z >> 40) / float(1 << 24) * 2.0f - 1.0f;
  }
}

// Zero the off-block entries of [E, 81] so the unfused dense multiply computes the same map.
__global__ void zero_off_block(float* m, int64_t E) {
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < E * 81; t += int64_t(gridDim.x) * blockDim.x) {
    const int r = int(t % 81) / 9, c = int(t % 81) % 9;
    const int lr = r == 0 ? 0 : (r < 4 ? 1 : 2), lc = c == 0 ? 0 : (c < 4 ? 1 : 2);
    if (lr != lc) m[t] = 0.0f;
  }
}

// max |a - b| and max |b| over n floats, via atomicMax on the (non-negative) float bit patterns.
__global__ void max_abs_diff(const float* a, const float* b, int64_t n, unsigned int* out2) {
  float md = 0.f, mb = 0.f;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < n; t += int64_t(gridDim.x) * blockDim.x) {
    const float d = fabsf(a[t] - b[t]);
    md = (d > md || d != d) ? (d != d ? INFINITY : d) : md;
    mb = fmaxf(mb, fabsf(b[t]));
  }
  atomicMax(out2, __float_as_uint(md));
  atomicMax(out2 + 1, __float_as_uint(mb));
}

const dim3 kGrid(132 * 16), kBlock(256);

template <typename F>
float median_ms(F&& launch, int reps = 20, int warmup = 3) {
  cudaEvent_t a, b;
  CUDA_CHECK(cudaEventCreate(&a));
  CUDA_CHECK(cudaEventCreate(&b));
  for (int i = 0; i < warmup; ++i) launch();
  CUDA_CHECK(cudaDeviceSynchronize());
  std::vector<float> t(reps);
  for (int i = 0; i < reps; ++i) {
    CUDA_CHECK(cudaEventRecord(a));
    launch();
    CUDA_CHECK(cudaEventRecord(b));
    CUDA_CHECK(cudaEventSynchronize(b));
    CUDA_CHECK(cudaEventElapsedTime(&t[i], a, b));
  }
  CUDA_CHECK(cudaGetLastError());
  std::sort(t.begin(), t.end());
  CUDA_CHECK(cudaEventDestroy(a));
  CUDA_CHECK(cudaEventDestroy(b));
  return 0.5f * (t[reps / 2 - 1] + t[reps / 2]);
}

struct Row {
  std::string sys, op;
  double bytes, ms, memcpy_ms;
  std::string note;
};

std::pair<float, float> device_max_diff(const float* a, const float* b, int64_t n, unsigned int* scratch) {
  CUDA_CHECK(cudaMemset(scratch, 0, 2 * sizeof(unsigned int)));
  max_abs_diff<<<kGrid, kBlock>>>(a, b, n, scratch);
  unsigned int h[2];
  CUDA_CHECK(cudaMemcpy(h, scratch, sizeof(h), cudaMemcpyDeviceToHost));
  float r[2];
  std::memcpy(r, h, sizeof(r));
  return {r[0], r[1]};
}

template <typename T>
T* dalloc(int64_t n) {
  T* p = nullptr;
  CUDA_CHECK(cudaMalloc(&p, sizeof(T) * std::max<int64_t>(n, 1)));
  return p;
}

void run_case(int64_t N, int64_t deg, std::vector<Row>& rows) {
  const int64_t C = 128, E = N * deg;
  const double s = sizeof(float);
  char sys[64];
  std::snprintf(sys, sizeof(sys), "%lld atoms × %lld", (long long)N, (long long)deg);

  // Graph on the host: dst grouped (sorted), sources local in index.
  std::mt19937_64 rng(42 + N + deg);
  const int64_t window = std::max<int64_t>(deg, int64_t(std::llround(std::pow(double(N), 2.0 / 3.0))));
  std::uniform_int_distribution<int64_t> off(-window, window);
  std::vector<int64_t> h_src(E), h_dst(E), h_ptr(N + 1), h_sptr(N + 1, 0), h_sperm(E);
  for (int64_t e = 0; e < E; ++e) {
    h_dst[e] = e / deg;
    int64_t o = 0;
    while (o == 0) o = off(rng);
    h_src[e] = ((h_dst[e] + o) % N + N) % N;
  }
  for (int64_t n = 0; n <= N; ++n) h_ptr[n] = n * deg;
  for (int64_t e = 0; e < E; ++e) ++h_sptr[h_src[e] + 1];
  for (int64_t n = 0; n < N; ++n) h_sptr[n + 1] += h_sptr[n];
  {
    std::vector<int64_t> next(h_sptr.begin(), h_sptr.end() - 1);
    for (int64_t e = 0; e < E; ++e) h_sperm[next[h_src[e]]++] = e;
  }

  float* x = dalloc<float>(N * 9 * C);
  float* wig = dalloc<float>(E * 81);
  float* outA = dalloc<float>(E * 9 * 2 * C);
  float* tmp1 = dalloc<float>(E * 9 * 2 * C);
  float* tmp2 = dalloc<float>(E * 9 * 2 * C);
  float* msg = dalloc<float>(E * 9 * C);
  float* gmsg = dalloc<float>(E * 9 * C);
  float* gwig = dalloc<float>(E * 81);
  float* nodeA = dalloc<float>(N * 9 * C);
  float* nodeB = dalloc<float>(N * 9 * C);
  int64_t* src = dalloc<int64_t>(E);
  int64_t* dst = dalloc<int64_t>(E);
  int64_t* dptr = dalloc<int64_t>(N + 1);
  int64_t* sptr = dalloc<int64_t>(N + 1);
  int64_t* sperm = dalloc<int64_t>(E);
  unsigned int* scratch = dalloc<unsigned int>(2);
  CUDA_CHECK(cudaMemcpy(src, h_src.data(), 8 * E, cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemcpy(dst, h_dst.data(), 8 * E, cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemcpy(dptr, h_ptr.data(), 8 * (N + 1), cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemcpy(sptr, h_sptr.data(), 8 * (N + 1), cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemcpy(sperm, h_sperm.data(), 8 * E, cudaMemcpyHostToDevice));
  fill_uniform<<<kGrid, kBlock>>>(x, N * 9 * C, 1);
  fill_uniform<<<kGrid, kBlock>>>(wig, E * 81, 2);
  zero_off_block<<<kGrid, kBlock>>>(wig, E);
  fill_uniform<<<kGrid, kBlock>>>(msg, E * 9 * C, 3);
  fill_uniform<<<kGrid, kBlock>>>(nodeB, N * 9 * C, 4);
  CUDA_CHECK(cudaGetLastError());

  const double idx = 8.0 * E, wnz = s * 35 * E, wfull = s * 81 * E;
  const double node = s * N * 9 * C, edge1 = s * E * 9 * C, edge2 = 2 * edge1;
  const double csr = 8.0 * (N + 1) + 8.0 * E;  // row_ptr + perm of one CSR

  auto memcpy_ms = [&](double bytes) {
    const size_t half = size_t(bytes / 2) & ~size_t(255);  // copy of B/2 bytes reads B/2 and writes B/2
    return median_ms([&] { CUDA_CHECK(cudaMemcpyAsync(tmp2, tmp1, half, cudaMemcpyDeviceToDevice)); });
  };
  auto add = [&](const char* op, double bytes, float ms, std::string note = "") {
    rows.push_back({sys, op, bytes, ms, memcpy_ms(bytes), note});
  };

  GatherRotateFwdParams<float> fa;
  fa.x = x; fa.src = src; fa.dst = dst; fa.wigner = wig; fa.out = outA;
  fa.n_atoms = N; fa.n_edges = E; fa.channels = C;
  add("gather_rotate_fwd", node + 2 * idx + wnz + edge2, median_ms([&] { gather_rotate_fwd(fa, nullptr); }));

  // Unfused A: gather into [E,9,2C], dense batched 9×9 multiply, permute rows L→M.
  const float unfusedA = median_ms([&] {
    unfused_gather<<<kGrid, kBlock>>>(x, src, dst, tmp1, E, C);
    unfused_bmm<<<kGrid, kBlock>>>(wig, tmp1, tmp2, E, 2 * C);
    unfused_permute<<<kGrid, kBlock>>>(tmp2, tmp1, E, 2 * C, true);
  });
  const auto dA = device_max_diff(outA, tmp1, E * 9 * 2 * C, scratch);
  char note[128];
  std::snprintf(note, sizeof(note), "max|fused−unfused| = %.1e (max|out| %.1f)", dA.first, dA.second);
  add("  unfused gather→bmm→permute", node + 2 * idx + wnz + edge2, unfusedA, note);

  // Backward A: outA serves as the cotangent (real, non-zero data).
  GatherRotateBwdParams<float> ba;
  ba.grad_out = outA; ba.x = x; ba.src = src; ba.dst = dst; ba.wigner = wig; ba.grad_x = nodeA; ba.grad_wigner = gwig;
  ba.src_csr = {sptr, sperm};
  ba.dst_csr = {dptr, nullptr};
  ba.n_atoms = N; ba.n_edges = E; ba.channels = C;
  const double bytes_bwdA = edge2 + node + wnz + 2 * idx + node + wfull;
  add("gather_rotate_bwd (atomic)", bytes_bwdA, median_ms([&] { gather_rotate_bwd(ba, ScatterMode::kAtomic, nullptr); }),
      "grad_x + grad_D, one pass");
  CUDA_CHECK(cudaMemcpy(nodeB, nodeA, node, cudaMemcpyDeviceToDevice));
  add("gather_rotate_bwd (deterministic)", bytes_bwdA + 2 * csr,
      median_ms([&] { gather_rotate_bwd(ba, ScatterMode::kDeterministic, nullptr); }), "grad_D pass + per-atom grad_x");
  const auto dBA = device_max_diff(nodeA, nodeB, N * 9 * C, scratch);
  std::snprintf(note, sizeof(note), "max|det−atomic| grad_x = %.1e (max %.1f)", dBA.first, dBA.second);
  rows.back().note += "; " + std::string(note);

  RotateBackScatterFwdParams<float> fb;
  fb.msg = msg; fb.wigner_inv = wig; fb.dst = dst; fb.out = nodeA; fb.dst_csr = {dptr, nullptr};
  fb.n_atoms = N; fb.n_edges = E; fb.channels = C;
  const double bytes_fwdB = edge1 + wnz + idx + node;
  add("rotate_back_scatter_fwd (atomic)", bytes_fwdB,
      median_ms([&] { rotate_back_scatter_fwd(fb, ScatterMode::kAtomic, nullptr); }));
  fb.out = nodeB;
  add("rotate_back_scatter_fwd (deterministic)", bytes_fwdB + csr,
      median_ms([&] { rotate_back_scatter_fwd(fb, ScatterMode::kDeterministic, nullptr); }));
  const auto dBB = device_max_diff(nodeA, nodeB, N * 9 * C, scratch);
  std::snprintf(note, sizeof(note), "max|det−atomic| = %.1e (max %.1f)", dBB.first, dBB.second);
  rows.back().note = note;

  // Unfused B: permute M→L, dense multiply, zero + atomic index_add into nodes.
  const float unfusedB = median_ms([&] {
    unfused_permute<<<kGrid, kBlock>>>(msg, tmp1, E, C, false);
    unfused_bmm<<<kGrid, kBlock>>>(wig, tmp1, tmp2, E, C);
    CUDA_CHECK(cudaMemsetAsync(nodeA, 0, node));
    unfused_index_add<<<kGrid, kBlock>>>(tmp2, dst, nodeA, E, C);
  });
  const auto dUB = device_max_diff(nodeA, nodeB, N * 9 * C, scratch);
  std::snprintf(note, sizeof(note), "max|unfused−det| = %.1e (max %.1f)", dUB.first, dUB.second);
  add("  unfused permute→bmm→index_add", bytes_fwdB, unfusedB, note);

  RotateBackScatterBwdParams<float> bb;
  bb.grad_out = nodeB; bb.msg = msg; bb.wigner_inv = wig; bb.dst = dst; bb.grad_msg = gmsg; bb.grad_wigner_inv = gwig;
  bb.n_atoms = N; bb.n_edges = E; bb.channels = C;
  add("rotate_back_scatter_bwd", node + edge1 + wnz + idx + edge1 + wfull,
      median_ms([&] { rotate_back_scatter_bwd(bb, nullptr); }), "grad_msg + grad_Winv, one pass");

  for (void* p : {(void*)x, (void*)wig, (void*)outA, (void*)tmp1, (void*)tmp2, (void*)msg, (void*)gmsg, (void*)gwig,
                  (void*)nodeA, (void*)nodeB, (void*)src, (void*)dst, (void*)dptr, (void*)sptr, (void*)sperm,
                  (void*)scratch})
    CUDA_CHECK(cudaFree(p));
}

// ---- --from DIR: our kernels on tensors given as raw little-endian files (see vs_fairchem_triton.py). ----

template <typename T>
std::vector<T> read_raw(const std::string& path, int64_t n) {
  std::vector<T> v(size_t(std::max<int64_t>(n, 1)));
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f || std::fread(v.data(), sizeof(T), size_t(n), f) != size_t(n)) {
    std::fprintf(stderr, "bench_wigner: cannot read %lld values from %s\n", (long long)n, path.c_str());
    std::exit(1);
  }
  std::fclose(f);
  return v;
}

template <typename T>
T* upload(const std::vector<T>& h) {
  T* d = dalloc<T>(int64_t(h.size()));
  CUDA_CHECK(cudaMemcpy(d, h.data(), sizeof(T) * h.size(), cudaMemcpyHostToDevice));
  return d;
}

void write_raw(const std::string& path, const float* d, int64_t n) {
  std::vector<float> h(size_t(std::max<int64_t>(n, 1)));
  CUDA_CHECK(cudaMemcpy(h.data(), d, sizeof(float) * n, cudaMemcpyDeviceToHost));
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(h.data(), sizeof(float), size_t(n), f) != size_t(n)) {
    std::fprintf(stderr, "bench_wigner: cannot write %s\n", path.c_str());
    std::exit(1);
  }
  std::fclose(f);
}

// DIR/meta.txt: "N E C"; src.bin dst.bin int64 [E] (dst sorted); x.bin [N,9,C]; wig.bin [E,81] (block-diagonal);
// go.bin [E,9,2C] (cotangent of gather_rotate_fwd); msg.bin [E,9,C]; gn.bin [N,9,C] (cotangent of the scatter).
// Writes out_a.bin gx_a.bin gw_a.bin node_b.bin gm_b.bin gw_b.bin and times.txt ("kernel ms" lines).
int run_from(const std::string& dir) {
  int64_t N = 0, E = 0, C = 0;
  {
    FILE* f = std::fopen((dir + "/meta.txt").c_str(), "r");
    if (!f || std::fscanf(f, "%lld %lld %lld", (long long*)&N, (long long*)&E, (long long*)&C) != 3) {
      std::fprintf(stderr, "bench_wigner: no N E C in %s/meta.txt\n", dir.c_str());
      return 1;
    }
    std::fclose(f);
  }
  const std::vector<int64_t> h_src = read_raw<int64_t>(dir + "/src.bin", E), h_dst = read_raw<int64_t>(dir + "/dst.bin", E);
  std::vector<int64_t> h_dptr(N + 1, 0), h_sptr(N + 1, 0), h_sperm(size_t(std::max<int64_t>(E, 1)));
  for (int64_t e = 0; e < E; ++e) ++h_dptr[h_dst[e] + 1], ++h_sptr[h_src[e] + 1];
  for (int64_t n = 0; n < N; ++n) h_dptr[n + 1] += h_dptr[n], h_sptr[n + 1] += h_sptr[n];
  {
    std::vector<int64_t> next(h_sptr.begin(), h_sptr.end() - 1);
    for (int64_t e = 0; e < E; ++e) h_sperm[next[h_src[e]]++] = e;
  }
  int64_t *src = upload(h_src), *dst = upload(h_dst), *dptr = upload(h_dptr), *sptr = upload(h_sptr),
          *sperm = upload(h_sperm);
  float* x = upload(read_raw<float>(dir + "/x.bin", N * 9 * C));
  float* wig = upload(read_raw<float>(dir + "/wig.bin", E * 81));
  float* go = upload(read_raw<float>(dir + "/go.bin", E * 9 * 2 * C));
  float* msg = upload(read_raw<float>(dir + "/msg.bin", E * 9 * C));
  float* gn = upload(read_raw<float>(dir + "/gn.bin", N * 9 * C));
  float *out_a = dalloc<float>(E * 9 * 2 * C), *gx_a = dalloc<float>(N * 9 * C), *gw_a = dalloc<float>(E * 81);
  float *node_b = dalloc<float>(N * 9 * C), *gm_b = dalloc<float>(E * 9 * C), *gw_b = dalloc<float>(E * 81);

  GatherRotateFwdParams<float> fa;
  fa.x = x; fa.src = src; fa.dst = dst; fa.wigner = wig; fa.out = out_a;
  fa.n_atoms = N; fa.n_edges = E; fa.channels = C;
  GatherRotateBwdParams<float> ba;
  ba.grad_out = go; ba.x = x; ba.src = src; ba.dst = dst; ba.wigner = wig; ba.grad_x = gx_a; ba.grad_wigner = gw_a;
  ba.src_csr = {sptr, sperm};
  ba.dst_csr = {dptr, nullptr};
  ba.n_atoms = N; ba.n_edges = E; ba.channels = C;
  RotateBackScatterFwdParams<float> fb;
  fb.msg = msg; fb.wigner_inv = wig; fb.dst = dst; fb.out = node_b; fb.dst_csr = {dptr, nullptr};
  fb.n_atoms = N; fb.n_edges = E; fb.channels = C;
  RotateBackScatterBwdParams<float> bb;
  bb.grad_out = gn; bb.msg = msg; bb.wigner_inv = wig; bb.dst = dst; bb.grad_msg = gm_b; bb.grad_wigner_inv = gw_b;
  bb.n_atoms = N; bb.n_edges = E; bb.channels = C;

  std::string times;
  char line[160];
  auto timed = [&](const char* name, auto&& launch) {
    std::snprintf(line, sizeof(line), "%s %.5f\n", name, median_ms(launch));
    times += line;
  };
  timed("gather_rotate_fwd", [&] { gather_rotate_fwd(fa, nullptr); });
  timed("gather_rotate_bwd_atomic", [&] { gather_rotate_bwd(ba, ScatterMode::kAtomic, nullptr); });
  timed("gather_rotate_bwd_deterministic", [&] { gather_rotate_bwd(ba, ScatterMode::kDeterministic, nullptr); });
  timed("rotate_back_scatter_fwd_atomic", [&] { rotate_back_scatter_fwd(fb, ScatterMode::kAtomic, nullptr); });
  timed("rotate_back_scatter_fwd_deterministic",
        [&] { rotate_back_scatter_fwd(fb, ScatterMode::kDeterministic, nullptr); });
  timed("rotate_back_scatter_bwd", [&] { rotate_back_scatter_bwd(bb, nullptr); });
  CUDA_CHECK(cudaDeviceSynchronize());
  // The last launches of each kind left their outputs (deterministic ones for the scatters' node sums).
  write_raw(dir + "/out_a.bin", out_a, E * 9 * 2 * C);
  write_raw(dir + "/gx_a.bin", gx_a, N * 9 * C);
  write_raw(dir + "/gw_a.bin", gw_a, E * 81);
  write_raw(dir + "/node_b.bin", node_b, N * 9 * C);
  write_raw(dir + "/gm_b.bin", gm_b, E * 9 * C);
  write_raw(dir + "/gw_b.bin", gw_b, E * 81);
  FILE* f = std::fopen((dir + "/times.txt").c_str(), "w");
  if (!f) return 1;
  std::fputs(times.c_str(), f);
  std::fclose(f);
  std::fputs(times.c_str(), stdout);
  for (void* p : {(void*)src, (void*)dst, (void*)dptr, (void*)sptr, (void*)sperm, (void*)x, (void*)wig, (void*)go,
                  (void*)msg, (void*)gn, (void*)out_a, (void*)gx_a, (void*)gw_a, (void*)node_b, (void*)gm_b,
                  (void*)gw_b})
    CUDA_CHECK(cudaFree(p));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 2 && std::strcmp(argv[1], "--from") == 0) return run_from(argv[2]);
  cudaDeviceProp prop{};
  CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  CUDA_CHECK(cudaMemcpyToSymbol(c_ltom, kLtoMHost, sizeof(kLtoMHost)));
  CUDA_CHECK(cudaMemcpyToSymbol(c_mtol, kMtoLHost, sizeof(kMtoLHost)));
  std::vector<Row> rows;
  for (auto [N, deg] : {std::pair<int64_t, int64_t>{2000, 50}, {2000, 75}, {20000, 50}}) run_case(N, deg, rows);

  std::string md;
  char line[512];
  std::snprintf(line, sizeof(line), "Device: %s (%d SMs, L2 %d MB); fp32, C = 128; median of 20 after 3 warm-up.\n\n",
                prop.name, prop.multiProcessorCount, prop.l2CacheSize >> 20);
  md += line;
  md += "| system (atoms × edges/atom) | kernel | min. MB | time ms | GB/s | memcpy GB/s (same bytes) | fraction of memcpy | note |\n";
  md += "|---|---|---:|---:|---:|---:|---:|---|\n";
  for (const Row& r : rows) {
    const double gbs = r.bytes / (r.ms * 1e6), mgbs = r.bytes / (r.memcpy_ms * 1e6);
    std::snprintf(line, sizeof(line), "| %s | %s | %.1f | %.3f | %.0f | %.0f | %.2f | %s |\n", r.sys.c_str(),
                  r.op.c_str(), r.bytes / 1e6, r.ms, gbs, mgbs, gbs / mgbs, r.note.c_str());
    md += line;
  }
  md += "\nFused over unfused speed-up: ";
  for (size_t i = 0; i + 1 < rows.size(); ++i) {
    if (rows[i + 1].op.find("unfused gather") != std::string::npos) {
      std::snprintf(line, sizeof(line), "%s gather_rotate %.2f×; ", rows[i].sys.c_str(), rows[i + 1].ms / rows[i].ms);
      md += line;
    }
    if (rows[i + 1].op.find("unfused permute") != std::string::npos) {
      std::snprintf(line, sizeof(line), "%s rotate_back_scatter (atomic) %.2f×; ", rows[i].sys.c_str(),
                    rows[i + 1].ms / rows[i - 1].ms);
      md += line;
    }
  }
  md += "\n";
  std::fputs(md.c_str(), stdout);
  if (argc > 1) {
    FILE* f = std::fopen(argv[1], "w");
    if (f) {
      std::fputs(md.c_str(), f);
      std::fclose(f);
    }
  }
  return 0;
}
