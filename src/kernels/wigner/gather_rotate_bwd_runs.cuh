// uma::gather_rotate_bwd, dst-run variant (opt-in: GatherBwdKernel::kDstRuns) — the same adjoint as
// gather_rotate_bwd_kernel with fewer atomics on the dst half of grad_x. The per-edge kernel issues two float4
// atomics per row and channel slice per edge (src half and dst half) and is atomic-bound on H100 (254 registers,
// 2 blocks per SM). Edges usually come grouped by dst (a LAMMPS full neighbour list is ordered by centre atom), so
// here each warp takes a run of `run_edges` consecutive edges and sums the dst half D_eᵀ · gᴸ[:, C:2C] of the edges
// that share a dst in shared memory, adding it to grad_x with one atomic per row and slice when dst changes or the
// run ends. The src half stays atomic per edge (sources are scattered).
// Shared memory rather than registers: the [9, C] sum is 36 more registers per lane at C = 128 in fp32, on top of
// the 254 the kernel already takes; in shared memory it is 9·C·sizeof(T) per warp, each lane touching only its own
// channel slices (no synchronisation needed). Correct for any edge order (atomics remain); only the saving depends
// on runs of equal dst.
#ifndef UMA_KERNELS_GATHER_ROTATE_BWD_RUNS_CUH
#define UMA_KERNELS_GATHER_ROTATE_BWD_RUNS_CUH

#include "gather_rotate_bwd.cuh"

namespace uma {
namespace kernels {
namespace detail {

// Shared memory of the run kernel: one [9, C] dst sum per warp.
template <typename T>
constexpr size_t dst_run_smem_bytes(int64_t channels) {
  return size_t(kWarpsPerBlock) * kNumCoeffs * size_t(channels) * sizeof(T);
}

}  // namespace detail

template <typename T, int kVec, bool kGradW>
__global__ void __launch_bounds__(detail::kThreadsPerBlock, detail::kMinBlocksGatherRotateBwd)
    gather_rotate_bwd_runs_kernel(const GatherRotateBwdParams<T> p, int64_t run_edges) {
  using namespace detail;
  using S = Slice<T, kVec>;
  extern __shared__ __align__(16) unsigned char smem_raw[];
  const WarpLoop w = warp_loop();
  const int lane = w.lane;
  const int64_t C = p.channels;
  T* sum = reinterpret_cast<T*>(smem_raw) + int64_t(threadIdx.x / kWarp) * kNumCoeffs * C;
  // Adds this lane's slices of the run's current dst sum to grad_x[node].
  auto flush = [&](int64_t node) {
    for (int64_t c0 = int64_t(lane) * kVec; c0 < C; c0 += kWarp * kVec)
#pragma unroll
      for (int j = 0; j < kNumCoeffs; ++j)
        atomic_add_slice<T, kVec>(p.grad_x + (node * kNumCoeffs + j) * C + c0, load_slice<T, kVec>(sum + j * C + c0));
  };
  const int64_t n_runs = (p.n_edges + run_edges - 1) / run_edges;
  for (int64_t r = w.first; r < n_runs; r += w.stride) {
    const int64_t begin = r * run_edges, end = begin + run_edges < p.n_edges ? begin + run_edges : p.n_edges;
    int64_t node = __ldg(p.dst + begin);
    bool fresh = true;  // the sum holds nothing for `node` yet: the next edge stores instead of adding
    for (int64_t e = begin; e < end; ++e) {
      const int64_t d = __ldg(p.dst + e);  // the same for the whole warp: the branch does not diverge
      if (d != node) {
        flush(node);
        node = d;
        fresh = true;
      }
      gather_rotate_bwd_edge<T, kVec, true, kGradW>(p, e, lane, [&](int64_t, int64_t c0, const S (&gx)[kNumCoeffs]) {
#pragma unroll
        for (int j = 0; j < kNumCoeffs; ++j) {
          T* a = sum + j * C + c0;
          if (fresh) {
            store_slice<T, kVec>(a, gx[j]);
          } else {
            S t = load_slice<T, kVec>(a);
#pragma unroll
            for (int v = 0; v < kVec; ++v) t.v[v] += gx[j].v[v];
            store_slice<T, kVec>(a, t);
          }
        }
      });
      fresh = false;
    }
    flush(node);
  }
}

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_GATHER_ROTATE_BWD_RUNS_CUH
