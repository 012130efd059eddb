// Device helpers shared by the hand-written Hopper wgmma GEMMs (split_tf32_wgmma_kernel.cuh, tf32_rs_wgmma_kernel.cuh):
// the 128-byte swizzle of a K-major TF32 tile, TF32 rounding, 16-byte cp.async copies, the staging of a tile and
// the epilogue.
#ifndef UMA_KERNELS_GEMM_HOPPER_WGMMA_COMMON_CUH
#define UMA_KERNELS_GEMM_HOPPER_WGMMA_COMMON_CUH

#include <cuda_runtime_api.h>

#include <cstdint>
#include <cute/tensor.hpp>

#include "kernels/gemm/split_tf32_gemm_params.h"
#include "kernels/tf32_operand.cuh"

namespace uma {
namespace kernels {
namespace hopper {

// Offset (in floats) of row r, column c of a [rows][32] K-major TF32 tile in wgmma's 128-byte-swizzled layout
// (CuTe's GMMA::Layout_K_SW128_Atom<tfloat32_t>, the kernels' SmemB): 16-byte chunks
// of each 128-byte row XORed with the row's index within its group of 8 (CuTe's Swizzle<3,4,3> on byte addresses;
// compared with CuTe's layout at every offset of the tile when written; a wrong offset would put the GPU tests'
// errors at O(1), not 1e-7).
__device__ __forceinline__ int swizzled(int r, int c) { return r * 32 + (c ^ ((r & 7) << 2)); }

// fp32 -> TF32 rounded to nearest, ties away from zero (cvt.rna; kernels/tf32_operand.cuh, whose store-side rounding
// this is, and kernels/gemm/tf32_round.h, the host's twin). The tensor cores read only a TF32's top 19 bits, so a
// value that is not already TF32 is truncated there: rounding it first is what keeps a TF32 product unbiased.
__device__ __forceinline__ float tf32_round(float x) { return tf32_operand(x); }

__device__ __forceinline__ float4 tf32_round4(const float4& x) {
  return make_float4(tf32_round(x.x), tf32_round(x.y), tf32_round(x.z), tf32_round(x.w));
}

// 16 bytes global -> shared without registers; zero-filled when !ok (nothing is read then).
__device__ __forceinline__ void copy16(float* dst, const float* src, bool ok) {
  const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(dst));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(s), "l"(src), "r"(ok ? 16 : 0) : "memory");
}

// The staging of one K step of a 128 x 128 x 32 tile by 256 threads: this thread's share of the fp32 A tile (rows
// (tid / 8) + 32 i, floats 4 (tid % 8) .. +3, into rows padded to kStageRowA floats) and of the B tile (weight rows
// the same way into [128][32]; row-major B: k row tid % 32, n columns 4 ((tid / 32) + 8 i) .. +3, into [32][128]),
// with cp.async; out-of-range chunks are zero-filled. A warp reads four 128-byte row segments.
template <GemmBLayout BLayout, int kStageRowA>
__device__ __forceinline__ void stage_tile_128x128x32(const SplitTf32GemmParams& p, float* stage_a, float* stage_b,
                                                      int64_t m0, int64_t n0, int64_t k0, int tid) {
  constexpr int kK = 32, kN = 128;
  const int c4 = (tid & 7) * 4;
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int r = (tid >> 3) + 32 * i;
    const bool ok = m0 + r < p.m && k0 + c4 < p.k;
    copy16(stage_a + r * kStageRowA + c4, ok ? p.a + (m0 + r) * p.lda + k0 + c4 : p.a, ok);
  }
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    if constexpr (BLayout == GemmBLayout::kWeightRows) {
      const int r = (tid >> 3) + 32 * i;
      const bool ok = n0 + r < p.n && k0 + c4 < p.k;
      copy16(stage_b + r * kK + c4, ok ? p.b + (n0 + r) * p.ldb + k0 + c4 : p.b, ok);
    } else {
      const int kr = tid & 31, col = 4 * ((tid >> 5) + 8 * i);
      const bool ok = k0 + kr < p.k && n0 + col < p.n;
      copy16(stage_b + kr * kN + col, ok ? p.b + (k0 + kr) * p.ldb + n0 + col : p.b, ok);
    }
  }
}

// The B tile of one K step from staging (as stage_tile_128x128x32 put it, read by the thread that copied it: no
// barrier needed after its own cp.async wait) into wgmma's swizzled K-major layout [128][32], converted on the way
// by `convert(float x, int offset)`, which stores what it makes of x at `offset` of the swizzled tile. Row-major B
// is transposed on the way: a warp's stores hit 32 different banks.
template <GemmBLayout BLayout, typename Convert>
__device__ __forceinline__ void convert_b_tile_128x32(const float* stage_b, int tid, Convert&& convert) {
  constexpr int kK = 32, kN = 128;
  const int c4 = (tid & 7) * 4;
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    if constexpr (BLayout == GemmBLayout::kWeightRows) {
      const int r = (tid >> 3) + 32 * i;
      const float4 x = *reinterpret_cast<const float4*>(stage_b + r * kK + c4);
      convert(x, swizzled(r, c4));  // four adjacent floats: one 16-byte chunk of the swizzled row
    } else {
      const int kr = tid & 31, col = 4 * ((tid >> 5) + 8 * i);
      const float4 x = *reinterpret_cast<const float4*>(stage_b + kr * kN + col);
      const float v[4] = {x.x, x.y, x.z, x.w};
#pragma unroll
      for (int j = 0; j < 4; ++j) convert(v[j], swizzled(col + j, kr));
    }
  }
}

// The epilogue of both kernels: D = acc (+ bias), `coord` the accumulator's (row, column) in the tile (the MMA's
// partition of an identity tensor). Accumulator values 2j and 2j + 1 are adjacent columns of one row (m64nNk8's
// layout); n is a multiple of 4, so an even column inside n has its neighbour inside too: one float2 store each.
template <typename Acc, typename Coord>
__device__ __forceinline__ void store_tile(const Acc& acc, const Coord& coord, const SplitTf32GemmParams& p,
                                           int64_t m0, int64_t n0) {
#pragma unroll
  for (int i = 0; i < cute::size(acc); i += 2) {
    const int64_t row = m0 + cute::get<0>(coord(i));
    const int64_t col = n0 + cute::get<1>(coord(i));
    if (row < p.m && col < p.n) {
      float2 v = make_float2(acc(i), acc(i + 1));
      if (p.bias) {
        v.x += p.bias[col];
        v.y += p.bias[col + 1];
      }
      *reinterpret_cast<float2*>(p.d + row * p.ldd + col) = v;
    }
  }
}

}  // namespace hopper
}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_GEMM_HOPPER_WGMMA_COMMON_CUH
