// uma::rotate_back_scatter_fwd — M→L permutation, inverse Wigner rotation (envelope folded in) and the sum over
// incoming edges, atomic scatter (the fast default). Mirrors fairchem
// models/uma/triton/permute_wigner_inv_edge_to_node.py (permute_wigner_inv_edge_to_node_kernel) followed by the
// PyTorch index_add_ over targets in Edgewise.forward_chunk, fused so the [E,9,C] rotated message never exists:
//   out[dst[e], i, c] += Σ_m Winv_e[i, m] · msg[e, m_of_l(m), c]
// One warp per edge; the caller-visible output is zeroed by the launcher before this kernel runs. The message rows
// are read through p.msg_groups (the launcher fills it from a dense p.msg), so the SO(2) convolution's three
// output groups need no concatenation first; an absent group (null base) reads as zero rows. kAllGroups = true (every
// group present, the layers' case) compiles the presence tests out.
#ifndef UMA_KERNELS_ROTATE_BACK_SCATTER_FWD_CUH
#define UMA_KERNELS_ROTATE_BACK_SCATTER_FWD_CUH

#include "wigner_common.cuh"

namespace uma {
namespace kernels {

template <typename T, int kVec, bool kAllGroups>
__global__ void __launch_bounds__(detail::kThreadsPerBlock)
    rotate_back_scatter_fwd_kernel(const RotateBackScatterFwdParams<T> p) {
  using namespace detail;
  using S = Slice<T, kVec>;
  const WarpLoop w = warp_loop();
  const int lane = w.lane;
  const int64_t C = p.channels;
  for (int64_t e = w.first; e < p.n_edges; e += w.stride) {
    BlockDiag<T> W;
    W.load_warp(p.wigner_inv + e * kNumCoeffs * kNumCoeffs, lane);
    const int64_t d = __ldg(p.dst + e);
    T* out = p.out + d * kNumCoeffs * C;
    for (int64_t c0 = int64_t(lane) * kVec; c0 < C; c0 += kWarp * kVec) {
      S ml[kNumCoeffs], y[kNumCoeffs];
      load_m_rows_as_l<T, kVec, kAllGroups>(p.msg_groups, e, C, c0, ml);  // absent groups read as zeros
      block_matvec(W, ml, y);
#pragma unroll
      for (int i = 0; i < kNumCoeffs; ++i) atomic_add_slice<T, kVec>(out + i * C + c0, y[i]);
    }
  }
}

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_ROTATE_BACK_SCATTER_FWD_CUH
