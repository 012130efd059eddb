// The split-precision fp32 GEMM (../split_tf32_gemm_params.h) on Hopper's warpgroup MMA (wgmma, sm_90a only).
//
// Why a second kernel: the CUTLASS 2.x kernel (../split_tf32_gemm_kernel.cuh) issues Ampere's mma.sync, which on an
// H100 runs at well under half of the wgmma TF32 rate, three times per product (issue 14; the tile sweep in
// benchmarks/results/2026-12-06-h100-gemm-modes.md). CUTLASS has no Hopper version of its split ("FastF32") GEMM,
// so this is a small hand-written one on CuTe's wgmma atoms. One block of 256 threads (two warpgroups) per SM
// computes a 128 x 128 tile of D, each warpgroup 64 x 128 with m64n128k8 TF32 wgmma, A from registers and B from
// shared memory (K-major, as TF32 wgmma requires). Per 32-wide K step:
//   1. every thread copies its share of the fp32 A and B tiles into a staging ring with cp.async, two steps ahead;
//   2. A: each thread reads its MMA fragment of the step from staging (rows padded to 36 floats: no bank
//      conflicts) and splits it in registers into a TF32 big part (rounded to nearest) and the rounded remainder;
//   3. B: while the tensor cores run step k's MMAs (wgmma is asynchronous), each thread splits its own staged B
//      values of step k + 1 into the other of two 128-byte-swizzled big/small buffers (the input-gradient GEMM's
//      row-major B is transposed on the way: a warp's stores hit 32 different banks);
//   4. D accumulates A_big B_big + A_big B_small + A_small B_big (the small*small term is below fp32 rounding).
// A in registers: it halves the shared-memory traffic of the three products (the time did not change; see below).
// Accuracy: wgmma adds into its fp32 accumulator with truncation, not rounding (measured: relative errors grew
// with K to 1.8e-6 at K = 640 when all K steps went into one accumulator). So each K step's 12 MMAs go into a
// fresh partial accumulator, which is then added to the result with an fp32 (rounded) add, as the FP8 GEMMs that
// "promote" to CUDA cores do: the truncation then acts on one K step's partial sum only (measured: 1.4-2.2e-7).
// Speed (H100, benchmarks/results/2026-12-06-h100-wgmma-split.md): the 18 GEMMs of one layer at carbon 2000 in
// 10.1 ms, against 7.3 ms for the mma.sync kernel, so it is not the default. Moving A out of shared memory changed
// nothing (10.1 ms either way): not shared-memory bandwidth. The suspect is the drain at every K step (the partial
// sum must be complete before its rounded add; one block per SM at 226-232 registers has nothing to run
// meanwhile); the next version would alternate two partial accumulators, or run one warpgroup per block.
// The epilogue adds the bias and writes pairs of adjacent columns. Deterministic: a fixed order of operations,
// no split-K, no atomics. Shared memory: 3 x 34 KiB staging + 2 x 32 KiB big/small B buffers + 1 KiB alignment.
#ifndef UMA_KERNELS_GEMM_HOPPER_SPLIT_TF32_WGMMA_KERNEL_CUH
#define UMA_KERNELS_GEMM_HOPPER_SPLIT_TF32_WGMMA_KERNEL_CUH

#include <cuda_runtime_api.h>

#include <cstdint>
#include <type_traits>
#include <cute/atom/mma_atom.hpp>
#include <cute/tensor.hpp>

#include "kernels/gemm/split_tf32_gemm_params.h"
#include "wgmma_common.cuh"

namespace uma {
namespace kernels {
namespace hopper {

struct WgmmaTile {
  static constexpr int kM = 128, kN = 128, kK = 32, kThreads = 256;
  using Atom = cute::SM90_64x128x8_F32TF32TF32_RS_TN<>;
  using TiledMma = decltype(cute::make_tiled_mma(Atom{}, cute::Layout<cute::Shape<cute::_2, cute::_1, cute::_1>>{}));
  // 8 rows x 32 TF32 values (128 bytes) per swizzle atom; kK = 32 is one atom wide.
  using SmemAtom = cute::GMMA::Layout_K_SW128_Atom<cute::tfloat32_t>;
  // A's staging rows padded from 32 to 36 floats: a fragment read (8 rows x 4 columns per warp) hits 32 banks.
  static constexpr int kStageRowA = kK + 4;
  using StageA = cute::Layout<cute::Shape<cute::Int<kM>, cute::Int<kK>>, cute::Stride<cute::Int<kStageRowA>, cute::_1>>;
  using SmemB = decltype(cute::tile_to_shape(SmemAtom{}, cute::Shape<cute::Int<kN>, cute::Int<kK>>{}));
  static constexpr int kStages = 3;                            // fp32 staging ring (cp.async, two steps ahead)
  static constexpr int kStageFloats = kM * kStageRowA + kN * kK;  // one step's A and B tiles
  static constexpr int kBufferFloats = 2 * kN * kK;               // one step's big and small parts of B
  // plus 1 KiB to align the swizzle pattern (it acts on address bits 4-9)
  static constexpr int kSharedBytes = (kStages * kStageFloats + 2 * kBufferFloats) * 4 + 1024;
};

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

template <GemmBLayout BLayout>
__global__ void __launch_bounds__(WgmmaTile::kThreads, 1) split_tf32_wgmma_kernel(SplitTf32GemmParams p) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  using namespace cute;
  using T = WgmmaTile;
  constexpr int kM = T::kM, kN = T::kN, kK = T::kK;
  extern __shared__ char smem_raw[];
  float* smem = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(smem_raw) + 1023) & ~uintptr_t(1023));
  float* buffers = smem;                         // [2] x {B big, B small}, 1 KiB aligned
  float* staging = smem + 2 * T::kBufferFloats;  // [kStages] x {A [kM][kStageRowA], B [kN][kK] or [kK][kN]}

  const int tid = threadIdx.x;
  // Consecutive blocks take the N tiles of one row block: its A rows are read from memory once and then from L2.
  const int n_tiles = static_cast<int>((p.n + kN - 1) / kN);
  const int64_t m0 = static_cast<int64_t>(blockIdx.x / n_tiles) * kM;
  const int64_t n0 = static_cast<int64_t>(blockIdx.x % n_tiles) * kN;
  const int k_tiles = static_cast<int>((p.k + kK - 1) / kK);

  // B: the thread that copies a chunk is the one that splits it (no barrier between the copy's wait and the split);
  // A is read as MMA fragments, across threads, after the barrier that ends the previous step.
  auto stage_a = [&](int s) { return staging + s * T::kStageFloats; };
  auto stage_b = [&](int s) { return staging + s * T::kStageFloats + kM * T::kStageRowA; };
  auto copy_step = [&](int kt) {
    if (kt < k_tiles) {
      const int s = kt % T::kStages;
      stage_tile_128x128x32<BLayout, T::kStageRowA>(p, stage_a(s), stage_b(s), m0, n0, static_cast<int64_t>(kt) * kK,
                                                    tid);
    }
    asm volatile("cp.async.commit_group;" ::: "memory");  // an empty group past the end keeps the count uniform
  };
  auto split_step = [&](int kt) {  // B of step kt: staging -> big/small buffer kt & 1
    float* b_big = buffers + (kt & 1) * T::kBufferFloats;
    float* b_small = b_big + kN * kK;
    convert_b_tile_128x32<BLayout>(stage_b(kt % T::kStages), tid, [&](auto x, int offset) {
      if constexpr (std::is_same_v<decltype(x), float4>) {
        float4 big, small;
        split4(x, big, small);
        *reinterpret_cast<float4*>(b_big + offset) = big;
        *reinterpret_cast<float4*>(b_small + offset) = small;
      } else {
        split(x, b_big[offset], b_small[offset]);
      }
    });
    // Generic-proxy stores must be made visible to the async proxy that wgmma reads shared memory through.
    asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
  };

  typename T::TiledMma mma;
  auto thr = mma.get_thread_slice(tid);
  auto staged_a = [&](int kt) {  // this thread's A fragment of step kt in staging (MMA, MMA_M, MMA_K)
    return thr.partition_A(
        make_tensor(make_smem_ptr(reinterpret_cast<tfloat32_t*>(stage_a(kt % T::kStages))), typename T::StageA{}));
  };
  auto frag_b = [&](float* s) {
    return thr.make_fragment_B(thr.partition_B(make_tensor(make_smem_ptr(reinterpret_cast<tfloat32_t*>(s)),
                                                           typename T::SmemB{})));
  };
  Tensor a_big = thr.make_fragment_A(staged_a(0));  // registers
  Tensor a_small = thr.make_fragment_A(staged_a(0));
  auto split_a = [&](int kt) {
    Tensor staged = staged_a(kt);
    auto big = recast<float>(a_big), small = recast<float>(a_small);
#pragma unroll
    for (int i = 0; i < size(staged); ++i) split(reinterpret_cast<const float&>(staged(i)), big(i), small(i));
  };
  // The partial sum of one K step: big*big first (it starts from zero), then the two small terms.
  auto mma_step = [&](int buffer, auto& part) {
    float* b_big = buffers + buffer * T::kBufferFloats;
    auto fb_big = frag_b(b_big), fb_small = frag_b(b_big + kN * kK);
    warpgroup_fence_operand(a_big);
    warpgroup_fence_operand(a_small);
    warpgroup_fence_operand(part);
    warpgroup_arrive();
    mma.accumulate_ = GMMA::ScaleOut::Zero;
#pragma unroll
    for (int kb = 0; kb < size<2>(a_big); ++kb) {
      gemm(mma, a_big(_, _, kb), fb_big(_, _, kb), part);
      mma.accumulate_ = GMMA::ScaleOut::One;
    }
#pragma unroll
    for (int kb = 0; kb < size<2>(a_big); ++kb) {
      gemm(mma, a_big(_, _, kb), fb_small(_, _, kb), part);
      gemm(mma, a_small(_, _, kb), fb_big(_, _, kb), part);
    }
    warpgroup_commit_batch();
  };

  Tensor acc = partition_fragment_C(mma, Shape<Int<kM>, Int<kN>>{});
  Tensor part = partition_fragment_C(mma, Shape<Int<kM>, Int<kN>>{});
  clear(acc);

  copy_step(0);
  copy_step(1);
  asm volatile("cp.async.wait_group 1;" ::: "memory");  // this thread's copies of step 0 have landed
  split_step(0);
  __syncthreads();  // everyone's copies of step 0 (A fragments cross threads) and B buffer 0 are complete
  for (int kt = 0; kt < k_tiles; ++kt) {
    copy_step(kt + 2);
    split_a(kt);
    mma_step(kt & 1, part);  // asynchronous: the tensor cores work while this thread splits the next B
    if (kt + 1 < k_tiles) {
      asm volatile("cp.async.wait_group 1;" ::: "memory");  // step kt + 1 has landed (kt + 2 may be in flight)
      split_step(kt + 1);  // the other buffer: its last readers (step kt - 1's MMAs) finished before the barrier
    }
    warpgroup_wait<0>();
    warpgroup_fence_operand(part);
    warpgroup_fence_operand(a_big);  // the next step's split_a must not move above the wait
    warpgroup_fence_operand(a_small);
#pragma unroll
    for (int i = 0; i < size(acc); ++i) acc(i) += part(i);  // rounded fp32 add (see the header comment)
    // Both warpgroups are done with B buffer kt & 1 and A's registers; B buffer (kt + 1) & 1 and every
    // thread's staged copies of step kt + 1 are complete.
    __syncthreads();
  }

  store_tile(acc, thr.partition_C(make_identity_tensor(Shape<Int<kM>, Int<kN>>{})), p, m0, n0);
#endif
}

}  // namespace hopper
}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_GEMM_HOPPER_SPLIT_TF32_WGMMA_KERNEL_CUH
