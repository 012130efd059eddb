// A plain TF32 GEMM D = A op(B) + bias on Hopper's warpgroup MMA (wgmma, sm_90a only) that ROUNDS its operands to
// TF32 (cvt.rna) before the tensor cores see them, with A in registers: the "RS" form.
//
// Why: the CUTLASS TMA GEMM (tf32_tma_gemm_kernel.cuh) is faster than cuBLAS, but its tensor cores read the fp32
// operands as TMA put them in shared memory, truncated to TF32; truncation shrinks every product the same way, and
// the engine's TF32 error grew from 1.5e-3 to 2-7e-3 eV/atom (benchmarks/results/2026-12-06-h100-tf32-tma-gemm.md).
// Here every operand passes through registers on its way to the tensor cores, where rounding is one instruction:
//   - A: staged by cp.async into padded rows, read as this thread's RS fragment and rounded in registers. This is
//     the form the fused edge-block kernels need (docs/fused-edge-block.md): their A operand is computed in
//     registers (gather + rotate for K1, the gate for K2) instead of read, and this kernel is their host;
//   - B: staged by cp.async, rounded into wgmma's swizzled K-major layout by the thread that copied it (row-major B,
//     the input gradient's W, transposed on the way).
// One block of 256 threads (two warpgroups, 64 x 128 each, m64n128k8 TF32 wgmma) per 128 x 128 tile of D, K steps of
// 32. The pipeline keeps one step's MMAs in flight while the next step is prepared:
//   step kt:  issue the MMAs of kt (B buffer kt & 1, A registers kt & 1) | cp.async the tiles of kt + 2 |
//             wait for the MMAs of kt - 1 | barrier | round B of kt + 1 into buffer (kt + 1) & 1 and A of kt + 1 into
//             registers (kt + 1) & 1 | barrier
// (the first barrier: no warpgroup still reads buffer (kt + 1) & 1, everyone's copies of kt + 1 have landed; the
// second: buffer (kt + 1) & 1 is complete before anyone's MMAs read it). Unlike the split kernel
// (split_tf32_wgmma_kernel.cuh) nothing drains the tensor pipe per step: all K steps accumulate into one fp32
// accumulator (wgmma's truncating adds cost ~1e-6 relative at K = 768, far below TF32's own 2^-11 per product).
// With kGated, A is not read as it is but made from conv 1's output by the edge gate (kernels/edge_gate/; K2's
// prologue, edge_block/gate_conv2_params.h): each K step of 32 lies in one row of degree l of the m-group, so the
// thread stages the matching 128 x 32 tile of the l-th gate logits beside A (same padded layout, so the same
// fragment partition finds them) and makes a = x sigma(g), or silu(x) for the l = 0 row, before rounding.
// Deterministic: a fixed order of operations, no split-K, no atomics. Shared memory (the product's 3 stages): 3 x 34
// KiB staging (+ 3 x 18 KiB gate logits) + 2 x 16 KiB rounded B + 1 KiB alignment.
// Measured (H100, 2026-12-07; benchmarks/results/2026-12-07-h100-rs-gemm-k2.md): rounds as designed (7e-7 of sum
// |a||b| from the rounded operands' exact product), but one layer's 18 GEMMs take 10.15 ms against cuBLAS's 3.40: the
// feeding, not the tensor cores, limits it. The stage count and a pre-rounded B (kBRounded, below) are the first
// levers, written and not yet measured.
#ifndef UMA_KERNELS_GEMM_HOPPER_TF32_RS_WGMMA_KERNEL_CUH
#define UMA_KERNELS_GEMM_HOPPER_TF32_RS_WGMMA_KERNEL_CUH

#include <cuda_runtime_api.h>

#include <cstdint>
#include <cute/atom/mma_atom.hpp>
#include <cute/tensor.hpp>
#include <type_traits>

#include "kernels/device_math.cuh"
#include "kernels/gemm/split_tf32_gemm_params.h"
#include "tf32_rs_wgmma_launch.h"
#include "wgmma_common.cuh"

namespace uma {
namespace kernels {
namespace hopper {

// Degree of row r of m-group g (edge_gate_params.h): m = 0 rows l = 0, 1, 2; m = 1 rows (l1, l2) of +m then -m;
// m = 2 rows l2 of +m and -m.
__device__ __forceinline__ int gate_degree(int group, int row) {
  return group == 0 ? row : group == 1 ? 1 + (row & 1) : 2;
}

template <bool kGated, int kStageCount = 3>
struct Tf32RsTile {
  static constexpr int kM = 128, kN = 128, kK = 32, kThreads = 256;
  using Atom = cute::SM90_64x128x8_F32TF32TF32_RS_TN<>;
  using TiledMma = decltype(cute::make_tiled_mma(Atom{}, cute::Layout<cute::Shape<cute::_2, cute::_1, cute::_1>>{}));
  using SmemAtom = cute::GMMA::Layout_K_SW128_Atom<cute::tfloat32_t>;
  static constexpr int kStageRowA = kK + 4;  // padded: a fragment read (8 rows x 4 columns per warp) hits 32 banks
  using StageA = cute::Layout<cute::Shape<cute::Int<kM>, cute::Int<kK>>, cute::Stride<cute::Int<kStageRowA>, cute::_1>>;
  using SmemB = decltype(cute::tile_to_shape(SmemAtom{}, cute::Shape<cute::Int<kN>, cute::Int<kK>>{}));
  static constexpr int kStages = kStageCount;  // fp32 staging ring (cp.async, kStages - 1 steps ahead)
  static_assert(kStages >= 3, "a stage is refilled one step after its last read: three at least");
  // One step's A and B tiles, and with kGated the gate logits tile laid out as A's.
  static constexpr int kStageFloats = (kGated ? 2 : 1) * kM * kStageRowA + kN * kK;
  static constexpr int kBufferFloats = kN * kK;  // one step's rounded B
  static constexpr int kSharedBytes = (kStages * kStageFloats + 2 * kBufferFloats) * 4 + 1024;
};

// kBRounded: B (weight rows) is TF32 already (rounded once, at load), so it is copied straight into wgmma's swizzled
// layout in the staging ring and read there: no rounding pass, no second barrier per step. A stage then holds B until
// the MMAs of its step are done, one step later than A, so the copies run kStages - 2 steps ahead instead of
// kStages - 1. (An experiment of the one-layer bench so far: bench_split_tf32_gemm.cu -DUMA_RS_B_ROUNDED.)
template <GemmBLayout BLayout, bool kGated, int kStageCount = 3, bool kBRounded = false>
__global__ void __launch_bounds__(256, 1) tf32_rs_wgmma_kernel(SplitTf32GemmParams p, GateOperand gate) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  using namespace cute;
  using T = Tf32RsTile<kGated, kStageCount>;
  static_assert(!kBRounded || (BLayout == GemmBLayout::kWeightRows && kStageCount >= 4),
                "pre-rounded B: weight rows, and a ring of four stages at least");
  constexpr int kAhead = kBRounded ? T::kStages - 2 : T::kStages - 1;  // how many steps ahead the copies run
  constexpr int kM = T::kM, kN = T::kN, kK = T::kK;
  extern __shared__ char smem_raw[];
  float* smem = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(smem_raw) + 1023) & ~uintptr_t(1023));
  float* buffers = smem;                         // [2] rounded B tiles, 1 KiB aligned (the swizzle's period)
  float* staging = smem + 2 * T::kBufferFloats;  // [kStages] x {A [kM][kStageRowA], B [kN][kK] or [kK][kN]}

  const int tid = threadIdx.x;
  // Consecutive blocks take the N tiles of one row block: its A rows are read from memory once and then from L2.
  const int n_tiles = static_cast<int>((p.n + kN - 1) / kN);
  const int64_t m0 = static_cast<int64_t>(blockIdx.x / n_tiles) * kM;
  const int64_t n0 = static_cast<int64_t>(blockIdx.x % n_tiles) * kN;
  const int k_tiles = static_cast<int>((p.k + kK - 1) / kK);

  auto stage_a = [&](int kt) { return staging + (kt % T::kStages) * T::kStageFloats; };
  auto stage_b = [&](int kt) { return stage_a(kt) + kM * T::kStageRowA; };
  auto stage_g = [&](int kt) { return stage_b(kt) + kN * kK; };  // kGated only
  // The degree of step kt's row of the m-group (kGated: one K step lies in one row, channels % kK == 0).
  auto degree = [&](int kt) { return gate_degree(gate.group, kt * kK / gate.channels); };
  auto copy_step = [&](int kt) {
    if (kt < k_tiles) {
      const int64_t k0 = static_cast<int64_t>(kt) * kK;
      if constexpr (kBRounded) {  // A as usual; B straight into the swizzled layout (16-byte chunks stay whole)
        const int c4 = (tid & 7) * 4;
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          const int r = (tid >> 3) + 32 * i;
          const bool a_ok = m0 + r < p.m && k0 + c4 < p.k, b_ok = n0 + r < p.n && k0 + c4 < p.k;
          copy16(stage_a(kt) + r * T::kStageRowA + c4, a_ok ? p.a + (m0 + r) * p.lda + k0 + c4 : p.a, a_ok);
          copy16(stage_b(kt) + swizzled(r, c4), b_ok ? p.b + (n0 + r) * p.ldb + k0 + c4 : p.b, b_ok);
        }
      } else {
        stage_tile_128x128x32<BLayout, T::kStageRowA>(p, stage_a(kt), stage_b(kt), m0, n0, k0, tid);
      }
      if constexpr (kGated) {
        const int l = degree(kt);
        if (l > 0) {  // the l = 0 row of m = 0 is gated by itself (SiLU)
          const int c4 = (tid & 7) * 4;
          const int64_t col = (l - 1) * static_cast<int64_t>(gate.channels) + k0 % gate.channels + c4;
#pragma unroll
          for (int i = 0; i < 4; ++i) {
            const int r = (tid >> 3) + 32 * i;
            const bool ok = m0 + r < p.m;
            copy16(stage_g(kt) + r * T::kStageRowA + c4, ok ? gate.logits + (m0 + r) * gate.ld + col : gate.logits, ok);
          }
        }
      }
    }
    asm volatile("cp.async.commit_group;" ::: "memory");  // an empty group past the end keeps the count uniform
  };
  auto round_b = [&](int kt) {  // B of step kt: staging -> rounded buffer kt & 1
    float* b = buffers + (kt & 1) * T::kBufferFloats;
    convert_b_tile_128x32<BLayout>(stage_b(kt), tid, [&](auto x, int offset) {
      if constexpr (std::is_same_v<decltype(x), float4>)
        *reinterpret_cast<float4*>(b + offset) = tf32_round4(x);
      else
        b[offset] = tf32_round(x);
    });
    // Generic-proxy stores must be made visible to the async proxy that wgmma reads shared memory through.
    asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
  };

  typename T::TiledMma mma;
  auto thr = mma.get_thread_slice(tid);
  auto staged_a = [&](int kt) {  // this thread's A fragment of step kt in staging (MMA, MMA_M, MMA_K)
    return thr.partition_A(make_tensor(make_smem_ptr(reinterpret_cast<tfloat32_t*>(stage_a(kt))), typename T::StageA{}));
  };
  auto frag_b = [&](int kt) {
    float* b = kBRounded ? stage_b(kt) : buffers + (kt & 1) * T::kBufferFloats;
    return thr.make_fragment_B(
        thr.partition_B(make_tensor(make_smem_ptr(reinterpret_cast<tfloat32_t*>(b)), typename T::SmemB{})));
  };
  // Two register sets for A: the MMAs of step kt read one while the other is filled for kt + 1.
  Tensor a0 = thr.make_fragment_A(staged_a(0));
  Tensor a1 = thr.make_fragment_A(staged_a(0));
  auto load_a = [&](int kt, auto& a) {
    Tensor staged = staged_a(kt);
    auto r = recast<float>(a);
    if constexpr (kGated) {
      // The gate logits' fragment: the same partition of a tile laid out as A's.
      Tensor logits = thr.partition_A(
          make_tensor(make_smem_ptr(reinterpret_cast<tfloat32_t*>(stage_g(kt))), typename T::StageA{}));
      if (degree(kt) == 0) {
#pragma unroll
        for (int i = 0; i < size(staged); ++i) {
          const float x = reinterpret_cast<const float&>(staged(i));
          r(i) = tf32_round(x * sigmoid_of(x));
        }
      } else {
#pragma unroll
        for (int i = 0; i < size(staged); ++i)
          r(i) = tf32_round(reinterpret_cast<const float&>(staged(i)) *
                            sigmoid_of(reinterpret_cast<const float&>(logits(i))));
      }
    } else {
#pragma unroll
      for (int i = 0; i < size(staged); ++i) r(i) = tf32_round(reinterpret_cast<const float&>(staged(i)));
    }
  };
  Tensor acc = partition_fragment_C(mma, Shape<Int<kM>, Int<kN>>{});
  clear(acc);
  mma.accumulate_ = GMMA::ScaleOut::One;
  auto mma_step = [&](int kt, auto& a) {
    auto fb = frag_b(kt);
    warpgroup_fence_operand(a);
    warpgroup_fence_operand(acc);
    warpgroup_arrive();
#pragma unroll
    for (int kb = 0; kb < size<2>(a); ++kb) gemm(mma, a(_, _, kb), fb(_, _, kb), acc);
    warpgroup_commit_batch();
    warpgroup_fence_operand(acc);
  };
  // One K step with A of step kt in `cur`; fills `next` with step kt + 1 (see the header comment).
  auto step = [&](int kt, auto& cur, auto& next) {
    mma_step(kt, cur);
    // Its stage was last read for step kt - 1 (kBRounded: by the MMAs of kt - 2), all done before the previous
    // step's barriers.
    copy_step(kt + kAhead);
    if (kt + 1 < k_tiles) {
      // this thread's copies of kt + 1 have landed (kt + 2 .. kt + kAhead may be in flight)
      asm volatile("cp.async.wait_group %0;" ::"n"(kAhead - 1) : "memory");
      if constexpr (kBRounded) asm volatile("fence.proxy.async.shared::cta;" ::: "memory");  // B, for wgmma
      warpgroup_wait<1>();            // this warpgroup's MMAs of kt - 1 are done
      warpgroup_fence_operand(next);  // so `next` (their A) may be overwritten
      __syncthreads();
      if constexpr (!kBRounded) round_b(kt + 1);
      load_a(kt + 1, next);
      if constexpr (!kBRounded) __syncthreads();
    }
  };

  for (int kt = 0; kt < kAhead; ++kt) copy_step(kt);
  asm volatile("cp.async.wait_group %0;" ::"n"(kAhead - 1) : "memory");
  if constexpr (kBRounded) asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
  __syncthreads();  // everyone's copies of step 0 (A fragments cross threads)
  if constexpr (!kBRounded) round_b(0);
  load_a(0, a0);
  if constexpr (!kBRounded) __syncthreads();  // B buffer 0 complete
  // Unrolled by two so that the register sets are named statically (registers cannot be indexed at run time).
  for (int kt = 0; kt < k_tiles; kt += 2) {
    step(kt, a0, a1);
    if (kt + 1 < k_tiles) step(kt + 1, a1, a0);
  }
  warpgroup_wait<0>();
  warpgroup_fence_operand(acc);

  store_tile(acc, thr.partition_C(make_identity_tensor(Shape<Int<kM>, Int<kN>>{})), p, m0, n0);
#endif
}

}  // namespace hopper
}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_GEMM_HOPPER_TF32_RS_WGMMA_KERNEL_CUH
