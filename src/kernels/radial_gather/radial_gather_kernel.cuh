// uma::radial_gather_kernel — the radial MLP's last Linear and conv 1's gather + rotate in one pass
// (radial_gather_params.h). One CTA per 128 edges, 8 warps; warp w owns edges 16w..16w+15 of the tile.
// For each of the 12 column chunks of the scale (radial group rg = q / 2, half q % 2: 128 columns, one per channel):
//   1. the chunk's 128 rows of W (128 x K) come into shared memory by cp.async, the next chunk's while this one is
//      used (two buffers);
//   2. the warp multiplies its 16 hidden rows (A fragments, rounded to TF32, in registers for the whole tile) by them
//      with mma.sync m16n8k8 TF32: 16 n8 tiles x K/8 steps, fp32 accumulators; + bias;
//   3. each thread now holds the scale of its two edges (rows g and g + 8 of the warp's 16) at channels 8j + 2t and
//      8j + 2t + 1 (j < 16): exactly where it rotates the node rows (float2 loads of x from L2), multiplies and stores
//      the message rows of group rg, as gather_rotate_fwd does (same sums in the same order, then x scale, then the
//      TF32 rounding).
// The scale never touches memory. Shared memory: 2 x 128 x (K + 4) floats (row stride K + 4: the B fragment reads of
// a warp hit 32 different banks); registers: the A fragments (4 per K step) and 64 accumulators per thread, one CTA
// per SM.
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

constexpr int kTileEdges = 128;
constexpr int kWarps = 8;
constexpr int kThreads = kWarps * 32;
constexpr int kC = static_cast<int>(kRadialGatherChannels);  // columns per chunk: one half of one radial group
constexpr int kChunks = kRadialGroups * 2;
constexpr int kMaxKSteps = static_cast<int>(kRadialGatherMaxHidden) / 8;
constexpr int kLd = static_cast<int>(kRadialGatherMaxHidden) + 4;  // shared row stride of a W chunk, floats
constexpr int kNTiles = kC / 8;                                     // n8 tiles per chunk
constexpr size_t kSmemBytes = size_t(2) * kC * kLd * sizeof(float);
static_assert(kTileEdges == 16 * kWarps, "one m16 tile of edges per warp");

__device__ __forceinline__ uint32_t tf32_bits(float x) { return __float_as_uint(tf32_operand(x)); }

__device__ __forceinline__ void mma_tf32(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Rows [q * kC, q * kC + kC) of W into `buf` ([kC][kLd]) by cp.async, 16 bytes per copy; one commit group.
__device__ __forceinline__ void load_w_chunk(float* buf, const float* __restrict__ w, int64_t K, int q) {
  const int per_row = static_cast<int>(K / 4);
  const float* src = w + int64_t(q) * kC * K;
  for (int i = threadIdx.x; i < kC * per_row; i += kThreads) {
    const int n = i / per_row, c4 = i % per_row;
    const unsigned dst = static_cast<unsigned>(__cvta_generic_to_shared(buf + n * kLd + c4 * 4));
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(dst), "l"(src + int64_t(n) * K + c4 * 4));
  }
  asm volatile("cp.async.commit_group;");
}

// The message rows of radial group RG for the thread's two edges (slot 0: tile row g, slot 1: g + 8) and channels
// 8j + 2t, 8j + 2t + 1 of half `half`, scaled by r (the accumulators plus bias) and stored.
template <int RG>
__device__ __forceinline__ void rotate_scale_store(const RadialGatherParams& p, const float (&r)[kNTiles][4],
                                                   const int64_t (&edge)[2], const bool (&valid)[2],
                                                   const int64_t (&node)[2], int half, int t) {
  using namespace detail;
  // M-rows of the group: one for groups 0..2 (m = 0 rows of degree 0, 1, 2), two of one degree for 3..5.
  constexpr int kRows = RG < 3 ? 1 : 2;
  constexpr int kM0 = RG < 3 ? RG : RG == 3 ? 3 : RG == 4 ? 4 : 7;
  constexpr int kM1 = RG < 3 ? RG : RG == 3 ? 5 : RG == 4 ? 6 : 8;
  constexpr int kI0 = l_of_m(kM0), kI1 = l_of_m(kM1);
  constexpr int kB = block_begin(kI0), kE = block_end(kI0);
  static_assert(block_begin(kI1) == kB && block_end(kI1) == kE, "the group's rows share one degree");
  static_assert(radial_group_of_m(kM0) == RG && radial_group_of_m(kM1) == RG, "rows of radial group RG");
  const int64_t C = kC;
#pragma unroll
  for (int s = 0; s < 2; ++s) {
    if (!valid[s]) continue;
    const float* D = p.gather.wigner + edge[s] * kNumCoeffs * kNumCoeffs;
    float d0[kE - kB], d1[kE - kB];
#pragma unroll
    for (int j = kB; j < kE; ++j) {
      d0[j - kB] = __ldg(D + kI0 * kNumCoeffs + j);
      d1[j - kB] = __ldg(D + kI1 * kNumCoeffs + j);
    }
    const float* xn = p.gather.x + node[s] * kNumCoeffs * C;
    float* out0 = p.gather.out_groups.row(edge[s], kM0, 2 * C) + half * C;
    float* out1 = p.gather.out_groups.row(edge[s], kM1, 2 * C) + half * C;
#pragma unroll
    for (int j = 0; j < kNTiles; ++j) {
      const int c = 8 * j + 2 * t;
      float2 xr[kE - kB];
#pragma unroll
      for (int l = kB; l < kE; ++l) xr[l - kB] = __ldg(reinterpret_cast<const float2*>(xn + l * C + c));
      const float ra = r[j][2 * s], rb = r[j][2 * s + 1];
      float2 y0 = make_float2(0.f, 0.f), y1 = make_float2(0.f, 0.f);
#pragma unroll
      for (int l = 0; l < kE - kB; ++l) {  // gather_rotate_fwd's sum: block entries in order, fma from zero
        y0.x = fmaf(d0[l], xr[l].x, y0.x);
        y0.y = fmaf(d0[l], xr[l].y, y0.y);
        if (kRows == 2) {
          y1.x = fmaf(d1[l], xr[l].x, y1.x);
          y1.y = fmaf(d1[l], xr[l].y, y1.y);
        }
      }
      const bool rnd = p.gather.round_tf32;
      __stcs(reinterpret_cast<float2*>(out0 + c),
             make_float2(tf32_operand_if(rnd, y0.x * ra), tf32_operand_if(rnd, y0.y * rb)));
      if (kRows == 2)
        __stcs(reinterpret_cast<float2*>(out1 + c),
               make_float2(tf32_operand_if(rnd, y1.x * ra), tf32_operand_if(rnd, y1.y * rb)));
    }
  }
}

}  // namespace radial_gather_detail

__global__ void __launch_bounds__(radial_gather_detail::kThreads, 1) radial_gather_kernel(const RadialGatherParams p) {
  using namespace radial_gather_detail;
  extern __shared__ float4 radial_gather_smem4[];
  float* smem = reinterpret_cast<float*>(radial_gather_smem4);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
  const int64_t E = p.gather.n_edges, K = p.hidden_dim;
  const int ksteps = static_cast<int>(K / 8);
  const int64_t first = int64_t(blockIdx.x) * kTileEdges + 16 * warp + g;
  const int64_t edge[2] = {first, first + 8};
  const bool valid[2] = {edge[0] < E, edge[1] < E};

  load_w_chunk(smem, p.weight, K, 0);  // chunk 0 on its way while the A fragments load

  // The warp's 16 hidden rows as TF32 A fragments for every K step (a0: row g, col t; a1: row g + 8; a2, a3: col + 4).
  uint32_t a[kMaxKSteps][4];
#pragma unroll
  for (int kk = 0; kk < kMaxKSteps; ++kk) {
    if (kk < ksteps) {
      const float* h0 = p.hidden + edge[0] * K + 8 * kk + t;
      const float* h1 = p.hidden + edge[1] * K + 8 * kk + t;
      a[kk][0] = valid[0] ? tf32_bits(__ldg(h0)) : 0u;
      a[kk][1] = valid[1] ? tf32_bits(__ldg(h1)) : 0u;
      a[kk][2] = valid[0] ? tf32_bits(__ldg(h0 + 4)) : 0u;
      a[kk][3] = valid[1] ? tf32_bits(__ldg(h1 + 4)) : 0u;
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
    const float* w = smem + (q % 2) * kC * kLd;
    if (q + 1 < kChunks) {
      load_w_chunk(smem + ((q + 1) % 2) * kC * kLd, p.weight, K, q + 1);
      asm volatile("cp.async.wait_group 1;");
    } else {
      asm volatile("cp.async.wait_group 0;");
    }
    __syncthreads();  // chunk q is in shared memory for every thread

    float r[kNTiles][4];
#pragma unroll
    for (int j = 0; j < kNTiles; ++j) r[j][0] = r[j][1] = r[j][2] = r[j][3] = 0.f;
#pragma unroll
    for (int kk = 0; kk < kMaxKSteps; ++kk) {
      if (kk < ksteps) {
#pragma unroll
        for (int j = 0; j < kNTiles; ++j) {
          const float* b = w + (8 * j + g) * kLd + 8 * kk + t;  // B[k][n] = W[n][k]: b0 (k = t), b1 (k = t + 4)
          mma_tf32(r[j], a[kk], tf32_bits(b[0]), tf32_bits(b[4]));
        }
      }
    }
    __syncthreads();  // every warp is done with this buffer: the next iteration may refill it
    if (p.bias) {
#pragma unroll
      for (int j = 0; j < kNTiles; ++j) {
        const float2 b = __ldg(reinterpret_cast<const float2*>(p.bias + q * kC + 8 * j + 2 * t));
        r[j][0] += b.x;
        r[j][1] += b.y;
        r[j][2] += b.x;
        r[j][3] += b.y;
      }
    }
    const int half = q % 2;
    const int64_t node[2] = {half ? dst[0] : src[0], half ? dst[1] : src[1]};
    switch (q / 2) {
      case 0: rotate_scale_store<0>(p, r, edge, valid, node, half, t); break;
      case 1: rotate_scale_store<1>(p, r, edge, valid, node, half, t); break;
      case 2: rotate_scale_store<2>(p, r, edge, valid, node, half, t); break;
      case 3: rotate_scale_store<3>(p, r, edge, valid, node, half, t); break;
      case 4: rotate_scale_store<4>(p, r, edge, valid, node, half, t); break;
      default: rotate_scale_store<5>(p, r, edge, valid, node, half, t); break;
    }
  }
}

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_RADIAL_GATHER_KERNEL_CUH
