// The split-precision fp32 GEMM (../split_tf32_gemm_params.h) on Hopper's warpgroup MMA (wgmma, sm_90a only).
//
// Why a second kernel: the CUTLASS 2.x kernel (../split_tf32_gemm_kernel.cuh) issues Ampere's mma.sync, which on an
// H100 runs at well under half of the wgmma TF32 rate, three times per product (issue 14; the tile sweep in
// benchmarks/results/2026-12-06-h100-gemm-modes.md). CUTLASS has no Hopper version of its split ("FastF32") GEMM,
// so this is a small hand-written one on CuTe's wgmma atoms:
//   - a block of 256 threads (two warpgroups) computes a 128 x 128 tile of D, each warpgroup 64 x 128 with
//     m64n128k8 TF32 wgmma instructions reading both operands from shared memory (both K-major, as TF32 wgmma
//     requires: the input-gradient GEMM's row-major B is transposed on its way into shared memory);
//   - per 32-wide K step every thread loads its share of the fp32 A and B tiles from global memory into registers,
//     splits each value into a TF32 big part (rounded to nearest) and the rounded remainder, and stores both into
//     128-byte-swizzled shared memory; the next K step's loads are issued before this step's MMAs, so they are in
//     flight while the tensor cores work; two blocks per SM (64 KiB of shared memory each) overlap each other's
//     loads and MMAs;
//   - D += A_small B_big + A_big B_small + A_big B_big in fp32 (the small*small term is below fp32 rounding);
//   - the epilogue adds the bias and writes pairs of adjacent columns.
// Deterministic: a fixed order of operations, no split-K, no atomics.
#ifndef UMA_KERNELS_GEMM_HOPPER_SPLIT_TF32_WGMMA_KERNEL_CUH
#define UMA_KERNELS_GEMM_HOPPER_SPLIT_TF32_WGMMA_KERNEL_CUH

#include <cuda_runtime_api.h>

#include <cstdint>
#include <cute/atom/mma_atom.hpp>
#include <cute/tensor.hpp>

#include "kernels/gemm/split_tf32_gemm_params.h"

namespace uma {
namespace kernels {
namespace hopper {

struct WgmmaTile {
  static constexpr int kM = 128, kN = 128, kK = 32, kThreads = 256;
  using Atom = cute::SM90_64x128x8_F32TF32TF32_SS_TN<>;
  using TiledMma = decltype(cute::make_tiled_mma(Atom{}, cute::Layout<cute::Shape<cute::_2, cute::_1, cute::_1>>{}));
  // 8 rows x 32 TF32 values (128 bytes) per swizzle atom; kK = 32 is one atom wide.
  using SmemAtom = cute::GMMA::Layout_K_SW128_Atom<cute::tfloat32_t>;
  using SmemA = decltype(cute::tile_to_shape(SmemAtom{}, cute::Shape<cute::Int<kM>, cute::Int<kK>>{}));
  using SmemB = decltype(cute::tile_to_shape(SmemAtom{}, cute::Shape<cute::Int<kN>, cute::Int<kK>>{}));
  // big and small parts of both operands, plus 1 KiB to align the swizzle pattern (it acts on address bits 4-9)
  static constexpr int kSharedBytes = 2 * (kM + kN) * kK * 4 + 1024;
};

// Offset (in floats) of row r, column c of a [rows][32] K-major tile in the swizzled layout above: 16-byte chunks
// of each 128-byte row XORed with the row's index within its group of 8 (CuTe's Swizzle<3,4,3> on byte addresses;
// compared with CuTe's layout at every offset of the tile when written; a wrong offset would put the GPU tests'
// errors at O(1), not 1e-7).
__device__ __forceinline__ int swizzled(int r, int c) { return r * 32 + (c ^ ((r & 7) << 2)); }

__device__ __forceinline__ float tf32_round(float x) {
  uint32_t u;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(u) : "f"(x));
  return __uint_as_float(u);
}

// x = big + small, both TF32 (the hardware reads only a TF32's top 19 bits, so both are rounded here, not truncated
// there).
__device__ __forceinline__ void split(float x, float& big, float& small) {
  big = tf32_round(x);
  small = tf32_round(x - big);
}

__device__ __forceinline__ void split4(const float4& x, float4& big, float4& small) {
  split(x.x, big.x, small.x);
  split(x.y, big.y, small.y);
  split(x.z, big.z, small.z);
  split(x.w, big.w, small.w);
}

__device__ __forceinline__ float4 load4(const float* p, bool ok) {
  return ok ? __ldg(reinterpret_cast<const float4*>(p)) : make_float4(0.f, 0.f, 0.f, 0.f);
}

template <GemmBLayout BLayout>
__global__ void __launch_bounds__(WgmmaTile::kThreads, 2) split_tf32_wgmma_kernel(SplitTf32GemmParams p) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  using namespace cute;
  using T = WgmmaTile;
  constexpr int kM = T::kM, kN = T::kN, kK = T::kK;
  extern __shared__ char smem_raw[];
  float* smem = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(smem_raw) + 1023) & ~uintptr_t(1023));
  float* a_big = smem;
  float* a_small = a_big + kM * kK;
  float* b_big = a_small + kM * kK;
  float* b_small = b_big + kN * kK;

  const int tid = threadIdx.x;
  // Consecutive blocks take the N tiles of one row block: its A rows are read from memory once and then from L2.
  const int n_tiles = static_cast<int>((p.n + kN - 1) / kN);
  const int64_t m0 = static_cast<int64_t>(blockIdx.x / n_tiles) * kM;
  const int64_t n0 = static_cast<int64_t>(blockIdx.x % n_tiles) * kN;
  const int k_tiles = static_cast<int>((p.k + kK - 1) / kK);

  // Loads: A (and B as weight rows) row (tid / 8) + 32 i, floats 4 (tid % 8) .. +3 of the K step: a warp reads
  // four 128-byte row segments. Row-major B: k row tid % 32, n columns 4 ((tid / 32) + 8 i) .. +3, so that a
  // warp's transposed stores into shared memory hit 32 different banks.
  float4 ra[4], rb[4];
  auto load = [&](int kt) {
    const int64_t k0 = static_cast<int64_t>(kt) * kK;
    const int c = (tid & 7) * 4;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int64_t row = m0 + (tid >> 3) + 32 * i;
      ra[i] = load4(p.a + row * p.lda + k0 + c, row < p.m && k0 + c < p.k);
    }
    if constexpr (BLayout == GemmBLayout::kWeightRows) {
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const int64_t row = n0 + (tid >> 3) + 32 * i;
        rb[i] = load4(p.b + row * p.ldb + k0 + c, row < p.n && k0 + c < p.k);
      }
    } else {
      const int64_t kr = k0 + (tid & 31);
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const int64_t col = n0 + 4 * ((tid >> 5) + 8 * i);
        rb[i] = load4(p.b + kr * p.ldb + col, kr < p.k && col < p.n);
      }
    }
  };
  auto store = [&]() {
    const int c = (tid & 7) * 4;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int r = (tid >> 3) + 32 * i;
      float4 big, small;
      split4(ra[i], big, small);
      *reinterpret_cast<float4*>(a_big + swizzled(r, c)) = big;
      *reinterpret_cast<float4*>(a_small + swizzled(r, c)) = small;
    }
    if constexpr (BLayout == GemmBLayout::kWeightRows) {
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const int r = (tid >> 3) + 32 * i;
        float4 big, small;
        split4(rb[i], big, small);
        *reinterpret_cast<float4*>(b_big + swizzled(r, c)) = big;
        *reinterpret_cast<float4*>(b_small + swizzled(r, c)) = small;
      }
    } else {
      const int kr = tid & 31;
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const int col = 4 * ((tid >> 5) + 8 * i);
        const float v[4] = {rb[i].x, rb[i].y, rb[i].z, rb[i].w};
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          float big, small;
          split(v[j], big, small);
          b_big[swizzled(col + j, kr)] = big;
          b_small[swizzled(col + j, kr)] = small;
        }
      }
    }
  };

  typename T::TiledMma mma;
  auto thr = mma.get_thread_slice(tid);
  auto tile = [](float* s, auto layout) { return make_tensor(make_smem_ptr(reinterpret_cast<tfloat32_t*>(s)), layout); };
  Tensor fa_big = thr.make_fragment_A(thr.partition_A(tile(a_big, typename T::SmemA{})));
  Tensor fa_small = thr.make_fragment_A(thr.partition_A(tile(a_small, typename T::SmemA{})));
  Tensor fb_big = thr.make_fragment_B(thr.partition_B(tile(b_big, typename T::SmemB{})));
  Tensor fb_small = thr.make_fragment_B(thr.partition_B(tile(b_small, typename T::SmemB{})));
  Tensor acc = partition_fragment_C(mma, Shape<Int<kM>, Int<kN>>{});
  clear(acc);
  mma.accumulate_ = GMMA::ScaleOut::One;

  load(0);
  for (int kt = 0; kt < k_tiles; ++kt) {
    __syncthreads();  // both warpgroups' MMAs of the previous step have finished reading shared memory
    store();
    // Generic-proxy stores must be made visible to the async proxy that wgmma reads shared memory through.
    asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
    __syncthreads();
    if (kt + 1 < k_tiles) load(kt + 1);  // in flight during the MMAs
    warpgroup_fence_operand(acc);
    warpgroup_arrive();
    gemm(mma, fa_small, fb_big, acc);
    gemm(mma, fa_big, fb_small, acc);
    gemm(mma, fa_big, fb_big, acc);
    warpgroup_commit_batch();
    warpgroup_wait<0>();
    warpgroup_fence_operand(acc);
  }

  // Accumulator values 2j and 2j + 1 are adjacent columns of one row (m64nNk8's layout); n is a multiple of 4, so
  // an even column inside n has its neighbour inside too.
  Tensor coord = thr.partition_C(make_identity_tensor(Shape<Int<kM>, Int<kN>>{}));
#pragma unroll
  for (int i = 0; i < size(acc); i += 2) {
    const int64_t row = m0 + get<0>(coord(i));
    const int64_t col = n0 + get<1>(coord(i));
    if (row < p.m && col < p.n) {
      float2 v = make_float2(acc(i), acc(i + 1));
      if (p.bias) {
        v.x += p.bias[col];
        v.y += p.bias[col + 1];
      }
      *reinterpret_cast<float2*>(p.d + row * p.ldd + col) = v;
    }
  }
#endif
}

}  // namespace hopper
}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_GEMM_HOPPER_SPLIT_TF32_WGMMA_KERNEL_CUH
