// uma::gather_rotate_fwd — node → edge gather, Wigner rotation and L→M permutation in one pass.
// Mirrors fairchem models/uma/triton/node_to_edge_wigner_permute.py (node_to_edge_wigner_permute_kernel):
//   out[e, k, c]     = Σ_j D_e[l_of_m(k), j] · x[src[e], j, c]
//   out[e, k, C + c] = Σ_j D_e[l_of_m(k), j] · x[dst[e], j, c]
// With p.radial, out[e, k, :] is also multiplied by the conv-1 radial scale of row k's group (fairchem PR #2073 folds
// the same multiply into its gather kernel).
// Rows are written through p.out_groups (the launcher fills it from a dense p.out), so the three m-groups the SO(2)
// convolution reads can be separate tensors; kHalf: through p.out_half_groups as TF32 values held in fp16. One warp per edge; each lane owns kVec channels of both halves. Every output element is written once (no atomics);
// the 35 block entries of D_e are read once per edge and shared through shuffles.
#ifndef UMA_KERNELS_GATHER_ROTATE_FWD_CUH
#define UMA_KERNELS_GATHER_ROTATE_FWD_CUH

#include "kernels/half_operands/half_operand.cuh"
#include "wigner_common.cuh"

namespace uma {
namespace kernels {

template <typename T, int kVec, bool kHalf = false>
__global__ void __launch_bounds__(detail::kThreadsPerBlock)
    gather_rotate_fwd_kernel(const GatherRotateFwdParams<T> p) {
  static_assert(!kHalf || sizeof(T) == 4, "half operands hold TF32 values: fp32 only");
  using namespace detail;
  using S = Slice<T, kVec>;
  const WarpLoop w = warp_loop();
  const int lane = w.lane;
  const int64_t C = p.channels;
  for (int64_t e = w.first; e < p.n_edges; e += w.stride) {
    BlockDiag<T> D;
    D.load_warp(p.wigner + e * kNumCoeffs * kNumCoeffs, lane);
    const int64_t s = __ldg(p.src + e), d = __ldg(p.dst + e);
    const T* xs = p.x + s * kNumCoeffs * C;
    const T* xd = p.x + d * kNumCoeffs * C;

    for (int64_t c0 = int64_t(lane) * kVec; c0 < C; c0 += kWarp * kVec) {
      // Both halves' loads first: 18 independent 16-byte loads in flight per lane.
      S a[kNumCoeffs], b[kNumCoeffs];
#pragma unroll
      for (int j = 0; j < kNumCoeffs; ++j) a[j] = load_slice<T, kVec>(xs + j * C + c0);
#pragma unroll
      for (int j = 0; j < kNumCoeffs; ++j) b[j] = load_slice<T, kVec>(xd + j * C + c0);
      S ya[kNumCoeffs], yb[kNumCoeffs];
      block_matvec(D, a, ya);
      block_matvec(D, b, yb);
      if (p.radial) {  // conv-1 radial scale (uniform per warp): one more read per output group, no extra pass
        const T* r = p.radial + e * kRadialGroups * 2 * C + c0;
#pragma unroll
        for (int k = 0; k < kNumCoeffs; ++k) {
          const S ra = load_slice<T, kVec>(r + radial_group_of_m(k) * 2 * C);
          const S rb = load_slice<T, kVec>(r + radial_group_of_m(k) * 2 * C + C);
#pragma unroll
          for (int v = 0; v < kVec; ++v) {
            ya[l_of_m(k)].v[v] *= ra.v[v];
            yb[l_of_m(k)].v[v] *= rb.v[v];
          }
        }
      }
#pragma unroll
      for (int k = 0; k < kNumCoeffs; ++k) {
        if constexpr (kHalf) {
          uint16_t* out = p.out_half_groups.row(e, k, 2 * C);
          store_tf32_half<kVec>(out + c0, ya[l_of_m(k)].v, p.half_overflow);
          store_tf32_half<kVec>(out + C + c0, yb[l_of_m(k)].v, p.half_overflow);
        } else {
          T* out = p.out_groups.row(e, k, 2 * C);
          store_slice_cs<T, kVec>(out + c0, tf32_operand_if(p.round_tf32, ya[l_of_m(k)]));
          store_slice_cs<T, kVec>(out + C + c0, tf32_operand_if(p.round_tf32, yb[l_of_m(k)]));
        }
      }
    }
  }
}

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_GATHER_ROTATE_FWD_CUH
