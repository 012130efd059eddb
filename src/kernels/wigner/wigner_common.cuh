// Device helpers shared by the Wigner rotation kernels (gather_rotate_*, rotate_back_scatter_*):
// the L↔M permutation, the 35-entry block-diagonal 9×9 matrix held in registers, vector loads/stores/atomics
// over a thread's channel slice, and warp reductions. Device code only; no Torch, no LAMMPS.
//
// Thread layout used by every kernel: one warp per edge (or per atom in the deterministic scatters), each lane
// owning kVec consecutive channels (16 bytes: float4 or double2 when the channel count and pointers allow it).
#ifndef UMA_KERNELS_WIGNER_COMMON_CUH
#define UMA_KERNELS_WIGNER_COMMON_CUH

#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/launch_check.h"
#include "kernels/tf32_operand.cuh"
#include "wigner_params.h"

namespace uma {
namespace kernels {
namespace detail {

constexpr int kWarp = 32;
// Warps per block: 4 warps = 128 threads, one edge per warp at a time; small blocks keep the tail short.
constexpr int kWarpsPerBlock = 4;
constexpr int kThreadsPerBlock = kWarp * kWarpsPerBlock;
static_assert(kWignerNnz <= 2 * kWarp, "each lane loads at most two of the 35 block entries");
// Resident blocks per SM asked of the compiler (__launch_bounds__' second argument; 65536 registers per SM /
// (128 threads x blocks) caps the registers per thread). Measured on the H100 with bench_wigner (2000 atoms x 50,
// fp32, C = 128; benchmarks/results/2026-11-27-h100-kernels.md): gather_rotate_bwd takes 254 registers on its
// own (2 blocks of 4 warps per SM); asking for 2 blocks keeps it spill-free, 3 or more spills and slows it.
// rotate_back_scatter_bwd takes 168 (3 blocks); 4 blocks (128 registers, a few hundred bytes spilled to L1)
// is 19 % faster: the occupancy hides the latency of its gathers better than the registers would. The other
// kernels stay at the compiler's choice (rotate_back_scatter_fwd: asking for 5, 6 or 8 blocks made it slower).
constexpr int kMinBlocksGatherRotateBwd = 2;
constexpr int kMinBlocksRotateBackScatterBwd = 4;

// M-row k holds L-row l_of_m(k): fairchem's L→M order [0,2,6,3,7,1,5,8,4].
__host__ __device__ constexpr int l_of_m(int k) {
  return k == 0 ? 0 : k == 1 ? 2 : k == 2 ? 6 : k == 3 ? 3 : k == 4 ? 7 : k == 5 ? 1 : k == 6 ? 5 : k == 7 ? 8 : 4;
}
// L-row i sits in M-row m_of_l(i): fairchem's M_TO_L_GATHER_IDX [0,5,1,3,8,6,2,4,7].
__host__ __device__ constexpr int m_of_l(int i) {
  return i == 0 ? 0 : i == 1 ? 5 : i == 2 ? 1 : i == 3 ? 3 : i == 4 ? 8 : i == 5 ? 6 : i == 6 ? 2 : i == 7 ? 4 : 7;
}
static_assert(m_of_l(l_of_m(0)) == 0 && m_of_l(l_of_m(4)) == 4 && m_of_l(l_of_m(8)) == 8 &&
                  l_of_m(m_of_l(1)) == 1 && l_of_m(m_of_l(7)) == 7,
              "the two permutations are inverse to each other");

// Compact numbering of the 35 block entries: n = 0 is (0,0); n = 1..9 the 3×3 block (rows 1..3) row-major;
// n = 10..34 the 5×5 block (rows 4..8) row-major.
// Every kernel here runs one warp per item (an edge, or an atom for the segmented sums) in a grid-stride loop:
// for (int64_t i = w.first; i < n; i += w.stride), with w = warp_loop(); w.lane is the thread's lane.
struct WarpLoop {
  int lane;
  int64_t first, stride;
};
__device__ __forceinline__ WarpLoop warp_loop() {
  return {static_cast<int>(threadIdx.x % kWarp), int64_t(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarp,
          int64_t(gridDim.x) * kWarpsPerBlock};
}

// kRadialGroupOfM as a function (device code cannot index a host constexpr array).
__host__ __device__ constexpr int radial_group_of_m(int k) { return k < 3 ? k : k < 7 ? 3 + (k - 3) % 2 : 5; }
static_assert(radial_group_of_m(0) == kRadialGroupOfM[0] && radial_group_of_m(4) == kRadialGroupOfM[4] &&
                  radial_group_of_m(5) == kRadialGroupOfM[5] && radial_group_of_m(6) == kRadialGroupOfM[6] &&
                  radial_group_of_m(8) == kRadialGroupOfM[8],
              "radial groups as in wigner_params.h");

__host__ __device__ constexpr int nnz_row(int n) { return n == 0 ? 0 : n < 10 ? 1 + (n - 1) / 3 : 4 + (n - 10) / 5; }
__host__ __device__ constexpr int nnz_col(int n) { return n == 0 ? 0 : n < 10 ? 1 + (n - 1) % 3 : 4 + (n - 10) % 5; }
// Compact index of entry (r, c) of the same block (r, c in one block).
__host__ __device__ constexpr int nnz_index(int r, int c) {
  return r == 0 ? 0 : r < 4 ? 1 + 3 * (r - 1) + (c - 1) : 10 + 5 * (r - 4) + (c - 4);
}
// Block (degree l) of coefficient i.
__host__ __device__ constexpr int degree_of(int i) { return i == 0 ? 0 : i < 4 ? 1 : 2; }
__host__ __device__ constexpr int block_begin(int i) { return i == 0 ? 0 : i < 4 ? 1 : 4; }
__host__ __device__ constexpr int block_end(int i) { return i == 0 ? 1 : i < 4 ? 4 : 9; }
static_assert(nnz_index(nnz_row(34), nnz_col(34)) == 34 && nnz_index(nnz_row(9), nnz_col(9)) == 9,
              "compact numbering round-trips");

// A thread's slice of kVec consecutive channels, loaded and stored as one 16-byte access when kVec > 1.
template <typename T, int kVec>
struct alignas(sizeof(T) * kVec) Slice {
  T v[kVec];
};

template <typename T, int kVec>
__device__ __forceinline__ Slice<T, kVec> load_slice(const T* p) {
  return *reinterpret_cast<const Slice<T, kVec>*>(p);
}
template <typename T, int kVec>
__device__ __forceinline__ void store_slice(T* p, const Slice<T, kVec>& s) {
  *reinterpret_cast<Slice<T, kVec>*>(p) = s;
}
// s rounded to TF32 where `round` (kernels/tf32_operand.cuh; the params' round_tf32).
template <typename T, int kVec>
__device__ __forceinline__ Slice<T, kVec> tf32_operand_if(bool round, Slice<T, kVec> s) {
  if (round) {
#pragma unroll
    for (int v = 0; v < kVec; ++v) s.v[v] = tf32_operand(s.v[v]);
  }
  return s;
}
// Streaming store for outputs nobody reads back in this kernel (evict-first keeps gathered node rows in L2).
template <typename T, int kVec>
__device__ __forceinline__ void store_slice_cs(T* p, const Slice<T, kVec>& s) {
  if constexpr (sizeof(T) == 4 && kVec == 4) {
    __stcs(reinterpret_cast<float4*>(p), make_float4(s.v[0], s.v[1], s.v[2], s.v[3]));
  } else if constexpr (sizeof(T) == 8 && kVec == 2) {
    __stcs(reinterpret_cast<double2*>(p), make_double2(s.v[0], s.v[1]));
  } else {
    store_slice<T, kVec>(p, s);
  }
}

// out[i] += s element-wise with hardware atomics (float4 vector atomics on sm_90).
template <typename T, int kVec>
__device__ __forceinline__ void atomic_add_slice(T* p, const Slice<T, kVec>& s) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  constexpr bool kVectorAtomic = sizeof(T) == 4 && kVec == 4;
#else
  constexpr bool kVectorAtomic = false;
#endif
  if constexpr (kVectorAtomic) {
    atomicAdd(reinterpret_cast<float4*>(p), make_float4(s.v[0], s.v[1], s.v[2], s.v[3]));
  } else {
#pragma unroll
    for (int v = 0; v < kVec; ++v) atomicAdd(p + v, s.v[v]);
  }
}

// The 35 block entries of one 9×9 block-diagonal matrix, in registers of every lane of the warp.
// Each lane loads at most two entries (coalesced within the 81-entry row), then the warp exchanges them.
template <typename T>
struct BlockDiag {
  T w[kWignerNnz];

  __device__ __forceinline__ void load_warp(const T* mat81, int lane) {
    const T a = mat81[nnz_row(lane) * kNumCoeffs + nnz_col(lane)];
    const int lane_b = lane + kWarp < kWignerNnz ? lane + kWarp : lane;
    const T b = mat81[nnz_row(lane_b) * kNumCoeffs + nnz_col(lane_b)];
#pragma unroll
    for (int n = 0; n < kWignerNnz; ++n) w[n] = __shfl_sync(0xffffffffu, n < kWarp ? a : b, n % kWarp);
  }
  __device__ __forceinline__ T at(int r, int c) const { return w[nnz_index(r, c)]; }
};

// y = W · x per block (x, y L-ordered rows).
template <typename T, int kVec>
__device__ __forceinline__ void block_matvec(const BlockDiag<T>& W, const Slice<T, kVec> (&x)[kNumCoeffs],
                                             Slice<T, kVec> (&y)[kNumCoeffs]) {
#pragma unroll
  for (int i = 0; i < kNumCoeffs; ++i) {
#pragma unroll
    for (int v = 0; v < kVec; ++v) {
      T acc = T(0);
#pragma unroll
      for (int j = block_begin(i); j < block_end(i); ++j) acc = fma(W.at(i, j), x[j].v[v], acc);
      y[i].v[v] = acc;
    }
  }
}

// y = Wᵀ · x per block.
template <typename T, int kVec>
__device__ __forceinline__ void block_matvec_t(const BlockDiag<T>& W, const Slice<T, kVec> (&x)[kNumCoeffs],
                                               Slice<T, kVec> (&y)[kNumCoeffs]) {
#pragma unroll
  for (int j = 0; j < kNumCoeffs; ++j) {
#pragma unroll
    for (int v = 0; v < kVec; ++v) {
      T acc = T(0);
#pragma unroll
      for (int i = block_begin(j); i < block_end(j); ++i) acc = fma(W.at(i, j), x[i].v[v], acc);
      y[j].v[v] = acc;
    }
  }
}

// acc[n] += Σ_v a[row(n)].v · b[col(n)].v: the per-lane part of a block outer product summed over channels.
template <typename T, int kVec>
__device__ __forceinline__ void accumulate_outer(T (&acc)[kWignerNnz], const Slice<T, kVec> (&a)[kNumCoeffs],
                                                 const Slice<T, kVec> (&b)[kNumCoeffs]) {
#pragma unroll
  for (int n = 0; n < kWignerNnz; ++n) {
#pragma unroll
    for (int v = 0; v < kVec; ++v) acc[n] = fma(a[nnz_row(n)].v[v], b[nnz_col(n)].v[v], acc[n]);
  }
}

// The nine M-ordered rows of edge e's message, back in L order (ml[i] = M-row m_of_l(i)), this lane's slice at c0.
// Rows of an absent m-group (rotate_back_scatter, wigner_params.h) are set to zero instead of loaded: the products
// that follow are then exactly those of an explicit zero group, so the result is bitwise the same and only the
// memory traffic is saved. The presence test is uniform over the warp (a kernel parameter): no divergence.
// kAllGroups = true (the launcher saw every group present) drops the tests: with them, rotate_back_scatter_bwd
// (fp32, both gradients) spills 224/332 bytes (stores/loads, ptxas -v) instead of 144/212, a cost the layers' hot
// path, where every group is present, need not pay.
template <typename T, int kVec, bool kAllGroups>
__device__ __forceinline__ void load_m_rows_as_l(const MGroupRows<const T*>& rows, int64_t e, int64_t C, int64_t c0,
                                                 Slice<T, kVec> (&ml)[kNumCoeffs]) {
#pragma unroll
  for (int i = 0; i < kNumCoeffs; ++i) {
    const int k = m_of_l(i);
    if (kAllGroups || rows.present(m_group_of_row(k))) {
      ml[i] = load_slice<T, kVec>(rows.row(e, k, C) + c0);
    } else {
#pragma unroll
      for (int v = 0; v < kVec; ++v) ml[i].v[v] = T(0);
    }
  }
}

// Sums acc[] over the warp and writes the full 81-entry row (zeros off the blocks) with coalesced stores.
// Nine-row accumulators of the segmented (deterministic) sums: zero, add, store rows r at p + r * stride.
template <typename T, int kVec>
__device__ __forceinline__ void zero_rows(Slice<T, kVec> (&a)[kNumCoeffs]) {
#pragma unroll
  for (int r = 0; r < kNumCoeffs; ++r)
#pragma unroll
    for (int v = 0; v < kVec; ++v) a[r].v[v] = T(0);
}
template <typename T, int kVec>
__device__ __forceinline__ void add_rows(Slice<T, kVec> (&a)[kNumCoeffs], const Slice<T, kVec> (&y)[kNumCoeffs]) {
#pragma unroll
  for (int r = 0; r < kNumCoeffs; ++r)
#pragma unroll
    for (int v = 0; v < kVec; ++v) a[r].v[v] += y[r].v[v];
}
template <typename T, int kVec>
__device__ __forceinline__ void store_rows(T* p, int64_t stride, const Slice<T, kVec> (&a)[kNumCoeffs]) {
#pragma unroll
  for (int r = 0; r < kNumCoeffs; ++r) store_slice<T, kVec>(p + r * stride, a[r]);
}

// g[i] (L-ordered rows of one half of an edge's gradient) *= the radial scale of M-row m_of_l(i); r points at the
// edge's radial + half * C + c0 and consecutive groups are group_stride (= 2C) apart.
template <typename T, int kVec>
__device__ __forceinline__ void scale_l_rows_by_radial(Slice<T, kVec> (&g)[kNumCoeffs], const T* r,
                                                       int64_t group_stride) {
#pragma unroll
  for (int i = 0; i < kNumCoeffs; ++i) {
    const Slice<T, kVec> s = load_slice<T, kVec>(r + radial_group_of_m(m_of_l(i)) * group_stride);
#pragma unroll
    for (int v = 0; v < kVec; ++v) g[i].v[v] *= s.v[v];
  }
}

template <typename T>
__device__ __forceinline__ void reduce_and_store_block_diag(T (&acc)[kWignerNnz], T* out81, int lane) {
#pragma unroll
  for (int n = 0; n < kWignerNnz; ++n) {
#pragma unroll
    for (int off = kWarp / 2; off > 0; off /= 2) acc[n] += __shfl_xor_sync(0xffffffffu, acc[n], off);
  }
  // Lane l keeps entry l (and l + 32); compile-time indices only, so acc stays in registers.
  T mine_a = T(0), mine_b = T(0);
#pragma unroll
  for (int n = 0; n < kWignerNnz; ++n) {
    if (n < kWarp) {
      if (lane == n) mine_a = acc[n];
    } else {
      if (lane == n - kWarp) mine_b = acc[n];
    }
  }
#pragma unroll
  for (int t0 = 0; t0 < kNumCoeffs * kNumCoeffs; t0 += kWarp) {
    const int t = t0 + lane;
    const int r = (t < kNumCoeffs * kNumCoeffs ? t : 0) / kNumCoeffs;
    const int c = (t < kNumCoeffs * kNumCoeffs ? t : 0) % kNumCoeffs;
    const bool in_block = degree_of(r) == degree_of(c);
    const int n = in_block ? nnz_index(r, c) : 0;
    // The owner of entry n is lane n % 32; every lane takes part in both shuffles (no divergence here).
    const T from_a = __shfl_sync(0xffffffffu, mine_a, n % kWarp);
    const T from_b = __shfl_sync(0xffffffffu, mine_b, n % kWarp);
    if (t < kNumCoeffs * kNumCoeffs) out81[t] = in_block ? (n < kWarp ? from_a : from_b) : T(0);
  }
}

// Number of blocks for a grid-stride loop over `items` warps-worth of work.
inline unsigned int grid_for(int64_t items) { return grid_stride_blocks(items, kWarpsPerBlock); }

}  // namespace detail
}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_WIGNER_COMMON_CUH
