// Can K1's A producer keep up? (docs/fused-edge-block.md, "K1 on the TMA host, the plan".) K1 would compute conv 1's
// A operand (gather + Wigner rotation + radial scale, rounded to TF32) inside the GEMM, in place of the gather_rotate
// kernel's [E, 9, 2C] message written to memory and read back by the GEMM. Its producer must make each A tile
// once per N tile of the GEMM, from node rows in L2. This bench runs that producer alone, with no tensor cores,
// exactly as a K1 producer warpgroup would (one CTA per SM, its tiles of 128 edges in turn, each K tile of 128 x 32
// written into shared memory, a barrier per K tile), and times it against what it would replace:
//   - the gather_rotate kernel that writes the message (the engine's form: radial scale, rounding);
//   - the conv-1 GEMM time it has to hide under (printed by the caller from tf32-tiles, not measured here).
// Two producers:
//   per-row   each K tile (M-row k, half h, 32 channels) loads the 1, 3 or 5 node rows of k's degree itself;
//   shared    K is ordered (half, channel chunk, M-row) and the producer makes all M-rows of the group from one load
//             of the node rows (W's columns permuted to match, free at load): x is read once per (edge, chunk, half).
// and N-tile repeats 5/4/2 (128-wide tiles for n = 640, 512, 256) or 3/2/1 (256-wide).
// Correctness: with repeats 1, every producer's A tiles are written to memory once and compared bit for bit with the
// gather_rotate kernel's message (same products, same order, same rounding).
//
// Build: nvcc -std=c++17 -O3 -arch=sm_90 -I src benchmarks/kernels/bench_k1_producer.cu -o bench_k1
// Usage: UMA_BENCH_EDGES=98200 ./bench_k1   (markdown table; exit 2 when a producer's A differs from the message;
//        UMA_K1_PROBE_TABLES=0: gather_rotate's and radial_gather's times only)
#include <cuda_runtime.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "bench_cuda.h"
#include "kernels/radial_gather/radial_gather_kernel.cuh"
#include "kernels/wigner/gather_rotate_fwd.cuh"

namespace {

using namespace uma::kernels;
using uma::kernels::detail::l_of_m;
using uma::kernels::detail::radial_group_of_m;
using uma::kernels::detail::block_begin;
using uma::kernels::detail::block_end;

#define CHECK(expr) UMA_BENCH_CHECK(expr)
using uma_bench::upload;

constexpr int kC = 128;          // sphere channels
constexpr int kTileEdges = 128;  // GEMM tile rows
constexpr int kChunk = 32;       // GEMM K tile (fp32 elements)
constexpr int kLanesPerEdge = kChunk / 4;  // float4 per lane

struct ProbeParams {
  const float* x;        // [N, 9, C]
  const int64_t* src;    // [E]
  const int64_t* dst;    // [E]
  const float* wigner;   // [E, 9, 9]
  const float* radial;   // [E, 6, 2C]
  int64_t n_edges;
  int reps;              // N tiles: the producer runs this many times per edge tile
  float* check_out;      // [E, 9, 2C] M-ordered, written on the first rep when non-null (correctness)
  float* sink;           // one value per CTA, so the shared-memory stores are not dead
};

// One A element group: 4 channels of M-row k, half h, edge e, from node rows xr (L order, this lane's 4 channels).
__device__ __forceinline__ float4 produce(const float* __restrict__ D, int k, const float4 (&xr)[kNumCoeffs],
                                          float4 r) {
  const int i = l_of_m(k);
  float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
#pragma unroll
  for (int j = block_begin(i); j < block_end(i); ++j) {
    const float d = __ldg(D + i * kNumCoeffs + j);
    acc.x = fmaf(d, xr[j].x, acc.x);
    acc.y = fmaf(d, xr[j].y, acc.y);
    acc.z = fmaf(d, xr[j].z, acc.z);
    acc.w = fmaf(d, xr[j].w, acc.w);
  }
  return make_float4(tf32_operand(acc.x * r.x), tf32_operand(acc.y * r.y), tf32_operand(acc.z * r.z),
                     tf32_operand(acc.w * r.w));
}

// Rows of group G in M order, and which L rows (node rows) the group reads.
template <int G>
__device__ constexpr bool group_reads(int j) {
  return G == 0 ? true : G == 1 ? j >= 1 : j >= 4;
}

// The node rows (L order) of edge e's half h at channels c..c+3 that reads(j) asks for; zeros for the others.
template <typename Reads>
__device__ __forceinline__ void load_node_rows(const ProbeParams& p, int64_t e, int h, int c, Reads reads,
                                               float4 (&xr)[kNumCoeffs]) {
  const int64_t node = h == 0 ? __ldg(p.src + e) : __ldg(p.dst + e);
  const float* xn = p.x + node * kNumCoeffs * kC + c;
#pragma unroll
  for (int j = 0; j < kNumCoeffs; ++j)
    xr[j] = reads(j) ? __ldg(reinterpret_cast<const float4*>(xn + j * kC)) : make_float4(0.f, 0.f, 0.f, 0.f);
}

// One A value group: M-row m of edge e (tile row `row`), half h, channels c..c+3, made from the node rows xr, stored
// into the stage's tile (the swizzle of the real layout is a permutation of these addresses: same bank traffic) and,
// where `check`, into the check buffer.
__device__ __forceinline__ void produce_into(const ProbeParams& p, int64_t e, int row, int m, int h, int c, int lane_c,
                                             const float4 (&xr)[kNumCoeffs], float4* tile, bool check) {
  const float4 r = __ldg(reinterpret_cast<const float4*>(
      p.radial + (e * kRadialGroups + radial_group_of_m(m)) * 2 * kC + h * kC + c));
  const float4 a = produce(p.wigner + e * kNumCoeffs * kNumCoeffs, m, xr, r);
  tile[row * kLanesPerEdge + (lane_c ^ (row % 8))] = a;
  if (check) *reinterpret_cast<float4*>(p.check_out + (e * kNumCoeffs + m) * 2 * kC + h * kC + c) = a;
}

// The producer. kShared: all of the group's M-rows per load of the node rows (else each row loads its own).
template <int G, bool kShared, int kUnroll>
__global__ void __launch_bounds__(128, 1) k1_producer(const ProbeParams p) {
  constexpr int kRows = m_group_rows(G);
  constexpr int kFirst = m_group_first_row(G);
  // Two stages of the group's A tiles (kShared writes kRows tiles per step): 2 x kRows x 16 KB.
  extern __shared__ float4 smem[];
  constexpr int kTileF4 = kTileEdges * kChunk / 4;
  const int t = threadIdx.x;
  const int lane_c = t % kLanesPerEdge;  // which float4 of the 32-channel chunk
  const int edge_in_pass = t / kLanesPerEdge;  // 16 edges per pass of 128 threads
  float acc_sink = 0.f;
  int stage = 0;
  const int64_t n_tiles = (p.n_edges + kTileEdges - 1) / kTileEdges;
  for (int64_t tile = blockIdx.x; tile < n_tiles; tile += gridDim.x) {
    for (int rep = 0; rep < p.reps; ++rep) {
      for (int h = 0; h < 2; ++h) {
        for (int c0 = 0; c0 < kC; c0 += kChunk) {
          if (kShared) {
#pragma unroll kUnroll
            for (int pass = 0; pass < kTileEdges / 16; ++pass) {
              const int row = pass * 16 + edge_in_pass;
              const int64_t e = tile * kTileEdges + row;
              if (e >= p.n_edges) continue;
              float4 xr[kNumCoeffs];
              load_node_rows(p, e, h, c0 + lane_c * 4, [](int j) { return group_reads<G>(j); }, xr);
#pragma unroll
              for (int k = 0; k < kRows; ++k)
                produce_into(p, e, row, kFirst + k, h, c0 + lane_c * 4, lane_c, xr,
                             smem + (stage * kRows + k) * kTileF4, p.check_out && rep == 0);
            }
            asm volatile("bar.sync 1, 128;");  // the stage is complete: the real kernel arrives on its barrier here
            stage ^= 1;
          } else {
#pragma unroll
            for (int k = 0; k < kRows; ++k) {
              const int i = l_of_m(kFirst + k);
#pragma unroll kUnroll
              for (int pass = 0; pass < kTileEdges / 16; ++pass) {
                const int row = pass * 16 + edge_in_pass;
                const int64_t e = tile * kTileEdges + row;
                if (e >= p.n_edges) continue;
                float4 xr[kNumCoeffs];
                load_node_rows(p, e, h, c0 + lane_c * 4, [i](int j) { return j >= block_begin(i) && j < block_end(i); },
                               xr);
                produce_into(p, e, row, kFirst + k, h, c0 + lane_c * 4, lane_c, xr, smem + stage * kTileF4,
                             p.check_out && rep == 0);
              }
              asm volatile("bar.sync 1, 128;");
              stage ^= 1;
            }
          }
          acc_sink += reinterpret_cast<const float*>(smem)[(t * 37) % (kTileF4 * 4)];
        }
      }
    }
  }
  if (p.sink) p.sink[blockIdx.x * blockDim.x + t] = acc_sink;
}

template <int G, bool kShared, int kUnroll>
float time_producer(ProbeParams p, int sms, int iters) {
  const int smem = 2 * (kShared ? m_group_rows(G) : 1) * kTileEdges * kChunk * 4;
  auto kern = k1_producer<G, kShared, kUnroll>;
  CHECK(cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
  kern<<<sms, 128, smem>>>(p);  // warm-up
  CHECK(cudaGetLastError());
  cudaEvent_t a, b;
  CHECK(cudaEventCreate(&a));
  CHECK(cudaEventCreate(&b));
  CHECK(cudaEventRecord(a));
  for (int i = 0; i < iters; ++i) kern<<<sms, 128, smem>>>(p);
  CHECK(cudaEventRecord(b));
  CHECK(cudaEventSynchronize(b));
  float ms = 0;
  CHECK(cudaEventElapsedTime(&ms, a, b));
  return ms / iters;
}

}  // namespace

int main() {
  const char* env_e = std::getenv("UMA_BENCH_EDGES");
  const int64_t E = env_e ? std::atoll(env_e) : 98200;
  const int64_t N = 2000;
  std::mt19937 rng(7);
  std::normal_distribution<float> g(0.f, 1.f);
  std::uniform_int_distribution<int64_t> node(0, N - 1);
  std::vector<float> x(N * kNumCoeffs * kC), w(E * 81, 0.f), rad(E * kRadialGroups * 2 * kC);
  std::vector<int64_t> src(E), dst(E);
  for (auto& v : x) v = g(rng);
  for (auto& v : rad) v = g(rng);
  for (int64_t e = 0; e < E; ++e) {
    dst[e] = e * N / E;  // CSR-like target order, as the engine's graphs come
    src[e] = node(rng);
    for (int i = 0; i < kNumCoeffs; ++i)
      for (int j = 0; j < kNumCoeffs; ++j)
        if (uma::kernels::detail::degree_of(i) == uma::kernels::detail::degree_of(j)) w[e * 81 + i * 9 + j] = g(rng);
  }
  int dev = 0, sms = 0;
  CHECK(cudaGetDevice(&dev));
  CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
  float* d_x = upload(x);
  float* d_w = upload(w);
  float* d_rad = upload(rad);
  int64_t* d_src = upload(src);
  int64_t* d_dst = upload(dst);
  const size_t msg_n = size_t(E) * kNumCoeffs * 2 * kC;
  float *d_msg = nullptr, *d_check = nullptr, *d_sink = nullptr;
  CHECK(cudaMalloc(&d_msg, msg_n * 4));
  CHECK(cudaMalloc(&d_check, msg_n * 4));
  CHECK(cudaMalloc(&d_sink, size_t(sms) * 128 * 4));

  // The kernel K1 replaces, as the engine runs it (radial scale, rounded output).
  GatherRotateFwdParams<float> gp;
  gp.x = d_x;
  gp.src = d_src;
  gp.dst = d_dst;
  gp.wigner = d_w;
  gp.out_groups = dense_m_groups(d_msg, 2 * kC);
  gp.n_atoms = N;
  gp.n_edges = E;
  gp.channels = kC;
  gp.radial = d_rad;
  gp.round_tf32 = true;
  const int gr_blocks = sms * 16;
  auto gr = gather_rotate_fwd_kernel<float, 4>;
  gr<<<gr_blocks, detail::kThreadsPerBlock>>>(gp);
  CHECK(cudaGetLastError());
  const int iters = 20;
  cudaEvent_t a, b;
  CHECK(cudaEventCreate(&a));
  CHECK(cudaEventCreate(&b));
  CHECK(cudaEventRecord(a));
  for (int i = 0; i < iters; ++i) gr<<<gr_blocks, detail::kThreadsPerBlock>>>(gp);
  CHECK(cudaEventRecord(b));
  CHECK(cudaEventSynchronize(b));
  float gr_ms = 0;
  CHECK(cudaEventElapsedTime(&gr_ms, a, b));
  gr_ms /= iters;
  std::vector<float> msg(msg_n);
  CHECK(cudaMemcpy(msg.data(), d_msg, msg_n * 4, cudaMemcpyDeviceToHost));

  // radial_gather (kernels/radial_gather/): the radial MLP's last Linear (hidden 128 -> 1536, mma.sync TF32) and the
  // same gather in one kernel, the scale never in memory: what it costs against gather_rotate alone, which also
  // needs the Linear's GEMM before it (its output written, then read here: 2 x 1536 floats per edge).
  float rg_ms = 0;
  {
    std::vector<float> hid(E * 128), wl(1536 * 128), bl(1536);
    for (auto& v : hid) v = g(rng);
    for (auto& v : wl) v = g(rng) * 0.1f;
    for (auto& v : bl) v = g(rng);
    float *d_h = upload(hid), *d_wl = upload(wl), *d_bl = upload(bl);
    RadialGatherParams rp;
    rp.gather = gp;
    rp.gather.radial = nullptr;
    rp.hidden = d_h;
    rp.hidden_dim = 128;
    rp.weight = d_wl;
    rp.bias = d_bl;
    using radial_gather_detail::kSmemBytes;
    CHECK(cudaFuncSetAttribute(radial_gather_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(kSmemBytes)));
    CHECK(cudaFuncSetAttribute(radial_gather_kernel, cudaFuncAttributePreferredSharedMemoryCarveout,
                               int(cudaSharedmemCarveoutMaxShared)));
    int resident = 0;
    CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&resident, radial_gather_kernel, radial_gather_detail::kThreads,
                                                        kSmemBytes));
    std::printf("radial_gather: %d CTAs of %d threads resident per SM (%zu bytes of shared memory each)\n", resident,
                radial_gather_detail::kThreads, kSmemBytes);
    const unsigned blocks = unsigned((E + radial_gather_detail::kTileEdges - 1) / radial_gather_detail::kTileEdges);
    radial_gather_kernel<<<blocks, radial_gather_detail::kThreads, kSmemBytes>>>(rp);
    CHECK(cudaGetLastError());
    CHECK(cudaEventRecord(a));
    for (int i = 0; i < iters; ++i) radial_gather_kernel<<<blocks, radial_gather_detail::kThreads, kSmemBytes>>>(rp);
    CHECK(cudaEventRecord(b));
    CHECK(cudaEventSynchronize(b));
    CHECK(cudaEventElapsedTime(&rg_ms, a, b));
    rg_ms /= iters;
    CHECK(cudaFree(d_h));
    CHECK(cudaFree(d_wl));
    CHECK(cudaFree(d_bl));
  }

  ProbeParams p{d_x, d_src, d_dst, d_w, d_rad, E, 1, nullptr, d_sink};
  std::printf("K1 producer probe: E = %lld edges, N = %lld atoms, C = %d, %d SMs, one 128-thread CTA per SM\n\n",
              (long long)E, (long long)N, kC, sms);
  std::printf("gather_rotate_fwd (radial, rounded; what K1 removes, with the GEMM's read of its output): %.3f ms\n",
              gr_ms);
  std::printf("radial_gather (the radial Linear 128 -> 1536 + the same gather, the scale never stored): %.3f ms "
              "(replaces gather_rotate_fwd + the Linear's GEMM, ~0.27 ms at E = 98 200)\n\n", rg_ms);
  // UMA_K1_PROBE_TABLES=0: the two timings above only (radial_gather's probe runs, Nsight Compute).
  const char* tables = std::getenv("UMA_K1_PROBE_TABLES");
  if (tables && std::string(tables) == "0") return 0;
  // Correctness: every producer with one rep writes its A tiles; they must equal the message bit for bit.
  int bad = 0;
  auto check = [&](const char* name, auto launch) {
    CHECK(cudaMemset(d_check, 0xff, msg_n * 4));
    ProbeParams q = p;
    q.check_out = d_check;
    q.reps = 1;
    launch(q);
    CHECK(cudaDeviceSynchronize());
    std::vector<float> got(msg_n);
    CHECK(cudaMemcpy(got.data(), d_check, msg_n * 4, cudaMemcpyDeviceToHost));
    int64_t diff = 0;
    for (size_t i = 0; i < msg_n; ++i)
      if (std::memcmp(&got[i], &msg[i], 4) != 0) ++diff;
    std::printf("check %-8s: %lld of %zu A values differ from the message\n", name, (long long)diff, msg_n);
    if (diff) bad = 1;
  };
  auto launch_all = [&](auto shared_tag) {
    constexpr bool kS = decltype(shared_tag)::value;
    return [=](ProbeParams q) {
      for (int gi = 0; gi < 3; ++gi) {
        const int smem0 = 2 * (kS ? 3 : 1) * kTileEdges * kChunk * 4;
        const int smem1 = 2 * (kS ? 4 : 1) * kTileEdges * kChunk * 4;
        const int smem2 = 2 * (kS ? 2 : 1) * kTileEdges * kChunk * 4;
        CHECK(cudaFuncSetAttribute(k1_producer<0, kS, 1>, cudaFuncAttributeMaxDynamicSharedMemorySize, smem0));
        CHECK(cudaFuncSetAttribute(k1_producer<1, kS, 1>, cudaFuncAttributeMaxDynamicSharedMemorySize, smem1));
        CHECK(cudaFuncSetAttribute(k1_producer<2, kS, 1>, cudaFuncAttributeMaxDynamicSharedMemorySize, smem2));
        if (gi == 0) k1_producer<0, kS, 1><<<sms, 128, smem0>>>(q);
        if (gi == 1) k1_producer<1, kS, 1><<<sms, 128, smem1>>>(q);
        if (gi == 2) k1_producer<2, kS, 1><<<sms, 128, smem2>>>(q);
        CHECK(cudaGetLastError());
      }
    };
  };
  check("per-row", launch_all(std::false_type{}));
  check("shared", launch_all(std::true_type{}));

  std::printf("\n| producer | N tiles (m0, m1, m2) | m0 ms | m1 ms | m2 ms | conv 1 total ms |\n|---|---|---:|---:|---:|---:|\n");
  const int reps128[3] = {5, 4, 2}, reps256[3] = {3, 2, 1};
  auto row = [&](const char* name, auto t0, auto t1, auto t2) {
    for (int wide = 0; wide < 2; ++wide) {
      const int* r = wide ? reps256 : reps128;
      float ms[3];
      ProbeParams q = p;
      q.reps = r[0];
      ms[0] = t0(q);
      q.reps = r[1];
      ms[1] = t1(q);
      q.reps = r[2];
      ms[2] = t2(q);
      std::printf("| %s | %d, %d, %d (%s-wide) | %.3f | %.3f | %.3f | %.3f |\n", name, r[0], r[1], r[2],
                  wide ? "256" : "128", ms[0], ms[1], ms[2], ms[0] + ms[1] + ms[2]);
    }
  };
#define UMA_K1_ROW(name, S, U)                                                    \
  row(name, [&](ProbeParams q) { return time_producer<0, S, U>(q, sms, iters); }, \
      [&](ProbeParams q) { return time_producer<1, S, U>(q, sms, iters); },       \
      [&](ProbeParams q) { return time_producer<2, S, U>(q, sms, iters); })
  UMA_K1_ROW("per-row, 16 edges per load round", false, 1);
  UMA_K1_ROW("per-row, 64 edges per load round", false, 4);
  UMA_K1_ROW("shared, 16 edges per load round", true, 1);
  UMA_K1_ROW("shared, 32 edges per load round", true, 2);
  UMA_K1_ROW("shared, 64 edges per load round", true, 4);
#undef UMA_K1_ROW
  std::printf("\nK1 pays only if its producer's conv 1 total stays under the conv-1 GEMMs' time (tf32-tiles: ~0.78 ms "
              "at 128-wide tiles for E = 98 200), which it must hide under, and well under GEMMs + gather_rotate.\n");
  return bad ? 2 : 0;
}
