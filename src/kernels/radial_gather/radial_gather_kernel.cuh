// uma::radial_gather_kernel — the radial MLP's last Linear and conv 1's gather + rotate in one pass
// (radial_gather_params.h). One CTA per 64 edges, 4 warps; warp w owns edges 16w..16w+15 of the tile (one m16 tile
// of the tensor cores), two CTAs per SM so that one's tensor-core phase overlaps the other's gather.
// The scale's columns are taken 96 at a time: chunk (half h, channel block cb of 16) holds, for each of the 6 radial
// groups, the 16 columns of channels cb..cb+15 of half h. Per chunk:
//   1. its 96 rows of W (96 x K) come into shared memory by cp.async, the next chunk's while this one is used, and
//      are rounded to TF32 there once;
//   2. the warp multiplies its 16 hidden rows (TF32 A fragments, in registers for the whole tile) by them with
//      mma.sync m16n8k8 TF32: 12 n8 tiles x K/8 steps, fp32 accumulators; + bias;
//   3. each thread then holds, for its two edges (rows g and g + 8) and channels c = cb + 8jj + 2t, +1 (jj < 2), the
//      scale of all six radial groups: it loads the 9 node rows at c (float2, from L2) once, rotates them with the
//      edge's 35 Wigner entries (kept in shared memory for the tile), and stores all 9 message rows, scaled and
//      rounded as gather_rotate_fwd does (same sums in the same order, then x scale, then the TF32 rounding).
// So every node row is read once per edge and half, as by gather_rotate, and the scale never touches memory.
// The first form (128-edge CTAs, one radial group per chunk: 22 node-row reads per edge and half, one CTA per SM with
// its tensor-core and gather phases in turn) took 1.36 ms at E = 98 200 on an H100 against gather_rotate's 0.59
// (benchmarks/results/2026-12-07-h100-radial-gather.md).
#ifndef UMA_KERNELS_RADIAL_GATHER_KERNEL_CUH
#define UMA_KERNELS_RADIAL_GATHER_KERNEL_CUH

#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/tf32_operand.cuh"
#include "kernels/wigner/wigner_common.cuh"
#include "radial_gather_params.h"

namespace uma {
namespace kernels {
namespace radial_gather_detail {

constexpr int kTileEdges = 64;
constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;
constexpr int kMinBlocks = 2;  // CTAs per SM asked of the compiler (registers) and planned for (shared memory)
constexpr int kC = static_cast<int>(kRadialGatherChannels);
constexpr int kBlock = 16;                       // channels per chunk and radial group
constexpr int kChunkCols = kRadialGroups * kBlock;  // 96 columns of the scale per chunk
constexpr int kChunks = 2 * (kC / kBlock);          // (half, channel block)
constexpr int kNTiles = kChunkCols / 8;             // 12 n8 tiles: tile j is group j / 2, channels cb + 8 (j % 2)
constexpr int kMaxKSteps = static_cast<int>(kRadialGatherMaxHidden) / 8;
// Shared row stride of a W chunk, floats: 8 mod 32, so that the 8-byte B fragment reads of a half-warp (rows g,
// columns 2t, 2t + 1) hit 16 different bank pairs.
constexpr int kLd = static_cast<int>(kRadialGatherMaxHidden) + 8;
constexpr int kWFloats = kChunkCols * kLd;                          // one W buffer
constexpr int kDFloats = kTileEdges * kWignerNnz;                   // the tile's Wigner block entries
constexpr size_t kSmemBytes = (size_t(2) * kWFloats + kDFloats) * sizeof(float);
static_assert(kTileEdges == 16 * kWarps, "one m16 tile of edges per warp");
static_assert(kBlock == 16 && kC % kBlock == 0, "two n8 tiles per radial group and chunk");
static_assert(kMinBlocks * (kSmemBytes + 1024) <= 228 * 1024, "two CTAs' shared memory per SM");

__device__ __forceinline__ uint32_t tf32_bits(float x) { return __float_as_uint(tf32_operand(x)); }

__device__ __forceinline__ void mma_tf32(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Row n of chunk q's W block: W row (group n / 16) * 2C + half * C + cb + n % 16, for q = half * (C / 16) + cb / 16.
__device__ __forceinline__ int64_t w_row(int q, int n) {
  const int half = q / (kC / kBlock), cb = (q % (kC / kBlock)) * kBlock;
  return int64_t(n / kBlock) * 2 * kC + half * kC + cb + n % kBlock;
}

// Chunk q's 96 rows of W into `buf` ([96][kLd]) by cp.async, 16 bytes per copy; one commit group.
__device__ __forceinline__ void load_w_chunk(float* buf, const float* __restrict__ w, int64_t K, int q) {
  const int per_row = static_cast<int>(K / 4);
  for (int i = threadIdx.x; i < kChunkCols * per_row; i += kThreads) {
    const int n = i / per_row, c4 = i % per_row;
    const unsigned dst = static_cast<unsigned>(__cvta_generic_to_shared(buf + n * kLd + c4 * 4));
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(dst), "l"(w + w_row(q, n) * K + c4 * 4));
  }
  asm volatile("cp.async.commit_group;");
}

// The same thread's copies of a landed chunk rounded to TF32 in place (once per value, not once per MMA that reads
// it; values already TF32, as the engine keeps its GEMM weights, stay as they are).
__device__ __forceinline__ void round_w_chunk(float* buf, int64_t K) {
  const int per_row = static_cast<int>(K / 4);
  for (int i = threadIdx.x; i < kChunkCols * per_row; i += kThreads) {
    float4* v = reinterpret_cast<float4*>(buf + (i / per_row) * kLd + (i % per_row) * 4);
    const float4 x = *v;
    *v = make_float4(tf32_operand(x.x), tf32_operand(x.y), tf32_operand(x.z), tf32_operand(x.w));
  }
}

// The 9 message rows of one edge at channels c, c + 1 of `half`: node rows xn (L order) rotated with the edge's block
// entries d (compact numbering, wigner_common.cuh), each M-row scaled by its radial group's scale (ra, rb per group:
// channel c, c + 1), rounded where asked, stored.
__device__ __forceinline__ void rotate_scale_store(const RadialGatherParams& p, int64_t e, int half, int c,
                                                   const float* d, const float2 (&x)[kNumCoeffs],
                                                   const float (&ra)[kRadialGroups], const float (&rb)[kRadialGroups]) {
  using namespace detail;
  float2 y[kNumCoeffs];
#pragma unroll
  for (int i = 0; i < kNumCoeffs; ++i) {  // gather_rotate_fwd's block_matvec: entries in order, fma from zero
    y[i] = make_float2(0.f, 0.f);
#pragma unroll
    for (int j = block_begin(i); j < block_end(i); ++j) {
      const float w = d[nnz_index(i, j)];
      y[i].x = fmaf(w, x[j].x, y[i].x);
      y[i].y = fmaf(w, x[j].y, y[i].y);
    }
  }
  const bool rnd = p.gather.round_tf32;
#pragma unroll
  for (int m = 0; m < kNumCoeffs; ++m) {
    const int rg = radial_group_of_m(m);
    const float2 v = y[l_of_m(m)];
    float* out = p.gather.out_groups.row(e, m, 2 * kC) + half * kC + c;
    __stcs(reinterpret_cast<float2*>(out),
           make_float2(tf32_operand_if(rnd, v.x * ra[rg]), tf32_operand_if(rnd, v.y * rb[rg])));
  }
}

}  // namespace radial_gather_detail

__global__ void __launch_bounds__(radial_gather_detail::kThreads, radial_gather_detail::kMinBlocks)
    radial_gather_kernel(const RadialGatherParams p) {
  using namespace radial_gather_detail;
  using detail::nnz_col;
  using detail::nnz_row;
  extern __shared__ float4 radial_gather_smem4[];
  float* smem = reinterpret_cast<float*>(radial_gather_smem4);
  float* dsm = smem + 2 * kWFloats;  // [kTileEdges][35] the tile's Wigner block entries
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
  const int64_t E = p.gather.n_edges, K = p.hidden_dim;
  const int ksteps = static_cast<int>(K / 8);
  const int64_t tile0 = int64_t(blockIdx.x) * kTileEdges;
  const int local[2] = {16 * warp + g, 16 * warp + g + 8};
  const int64_t edge[2] = {tile0 + local[0], tile0 + local[1]};
  const bool valid[2] = {edge[0] < E, edge[1] < E};

  load_w_chunk(smem, p.weight, K, 0);  // chunk 0 on its way while the rest of the tile loads
  for (int i = threadIdx.x; i < kDFloats; i += kThreads) {
    const int64_t e = tile0 + i / kWignerNnz;
    const int n = i % kWignerNnz;
    dsm[i] = e < E ? __ldg(p.gather.wigner + e * kNumCoeffs * kNumCoeffs + nnz_row(n) * kNumCoeffs + nnz_col(n)) : 0.f;
  }
  // The warp's 16 hidden rows as TF32 A fragments for every K step. Within each step of 8, the MMA's k = t and
  // k = t + 4 are taken from columns 2t and 2t + 1, for A and B alike (the same products, grouped otherwise), so that
  // each thread reads its two B values as one 8-byte word (a0: row g, a1: row g + 8; a2, a3: the odd column).
  uint32_t a[kMaxKSteps][4];
#pragma unroll
  for (int kk = 0; kk < kMaxKSteps; ++kk) {
    if (kk < ksteps) {
      const float2 h0 = valid[0] ? __ldg(reinterpret_cast<const float2*>(p.hidden + edge[0] * K + 8 * kk + 2 * t))
                                 : make_float2(0.f, 0.f);
      const float2 h1 = valid[1] ? __ldg(reinterpret_cast<const float2*>(p.hidden + edge[1] * K + 8 * kk + 2 * t))
                                 : make_float2(0.f, 0.f);
      a[kk][0] = tf32_bits(h0.x);
      a[kk][1] = tf32_bits(h1.x);
      a[kk][2] = tf32_bits(h0.y);
      a[kk][3] = tf32_bits(h1.y);
    }
  }
  int64_t src[2], dst[2];
#pragma unroll
  for (int s = 0; s < 2; ++s) {
    src[s] = valid[s] ? __ldg(p.gather.src + edge[s]) : 0;
    dst[s] = valid[s] ? __ldg(p.gather.dst + edge[s]) : 0;
  }

#pragma unroll 1
  for (int q = 0; q < kChunks; ++q) {
    const float* w = smem + (q % 2) * kWFloats;
    if (q + 1 < kChunks) {
      load_w_chunk(smem + ((q + 1) % 2) * kWFloats, p.weight, K, q + 1);
      asm volatile("cp.async.wait_group 1;");
    } else {
      asm volatile("cp.async.wait_group 0;");
    }
    round_w_chunk(smem + (q % 2) * kWFloats, K);
    __syncthreads();  // chunk q (and, the first time, the Wigner entries) in shared memory for every thread

    float r[kNTiles][4];
#pragma unroll
    for (int j = 0; j < kNTiles; ++j) r[j][0] = r[j][1] = r[j][2] = r[j][3] = 0.f;
#pragma unroll
    for (int kk = 0; kk < kMaxKSteps; ++kk) {
      if (kk < ksteps) {
#pragma unroll
        for (int j = 0; j < kNTiles; ++j) {
          // B[k][n] = W[n][k]: b0 (k = t) and b1 (k = t + 4) from columns 2t and 2t + 1 (above), rounded already.
          const float2 b = *reinterpret_cast<const float2*>(w + (8 * j + g) * kLd + 8 * kk + 2 * t);
          mma_tf32(r[j], a[kk], __float_as_uint(b.x), __float_as_uint(b.y));
        }
      }
    }
    __syncthreads();  // every warp is done with this buffer: the next iteration may refill it

    const int half = q / (kC / kBlock), cb = (q % (kC / kBlock)) * kBlock;
    if (p.bias) {
#pragma unroll
      for (int j = 0; j < kNTiles; ++j) {
        const float2 b = __ldg(reinterpret_cast<const float2*>(p.bias + w_row(q, 8 * j) + 2 * t));
        r[j][0] += b.x;
        r[j][1] += b.y;
        r[j][2] += b.x;
        r[j][3] += b.y;
      }
    }
#pragma unroll
    for (int s = 0; s < 2; ++s) {
      if (!valid[s]) continue;
      const int64_t node = half ? dst[s] : src[s];
      const float* xn = p.gather.x + node * kNumCoeffs * kC;
      // Both channel pairs' node rows first (18 independent loads in flight), then rotate and store.
      float2 x[2][kNumCoeffs];
#pragma unroll
      for (int jj = 0; jj < 2; ++jj)
#pragma unroll
        for (int l = 0; l < kNumCoeffs; ++l)
          x[jj][l] = __ldg(reinterpret_cast<const float2*>(xn + l * kC + cb + 8 * jj + 2 * t));
      const float* d = dsm + local[s] * kWignerNnz;
#pragma unroll
      for (int jj = 0; jj < 2; ++jj) {
        float ra[kRadialGroups], rb[kRadialGroups];
#pragma unroll
        for (int rg = 0; rg < kRadialGroups; ++rg) {
          ra[rg] = r[2 * rg + jj][2 * s];
          rb[rg] = r[2 * rg + jj][2 * s + 1];
        }
        rotate_scale_store(p, edge[s], half, cb + 8 * jj + 2 * t, d, x[jj], ra, rb);
      }
    }
  }
}

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_RADIAL_GATHER_KERNEL_CUH
