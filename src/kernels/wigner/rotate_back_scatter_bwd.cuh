// uma::rotate_back_scatter_bwd — adjoint of rotate_back_scatter. Mirrors fairchem
// models/uma/triton/permute_wigner_inv_edge_to_node.py (the _bwd_dx and _bwd_dw kernels) with the gather of
// grad_out[dst] that PyTorch's index_add_ backward performs folded in. One warp per edge, pure gather, no atomics
// (message rows read and gradient rows written through the m-group addressing the launcher resolves; absent message
// groups read as zeros, absent gradient groups are not written; kAllGroups = true, every group of both present,
// compiles those tests out: the layers' hot path keeps its registers):
//   h = grad_out[dst[e]]                      (L-ordered rows)
//   grad_msg[e, k]            = (Winv_eᵀ · h)[l_of_m(k)]
//   grad_wigner_inv[e, i, m]  = Σ_c h[i, c] · msg[e, m_of_l(m), c]   (block entries; warp shuffles), else 0
#ifndef UMA_KERNELS_ROTATE_BACK_SCATTER_BWD_CUH
#define UMA_KERNELS_ROTATE_BACK_SCATTER_BWD_CUH

#include "wigner_common.cuh"

namespace uma {
namespace kernels {

template <typename T, int kVec, bool kGradMsg, bool kGradW, bool kAllGroups>
__global__ void __launch_bounds__(detail::kThreadsPerBlock, detail::kMinBlocksRotateBackScatterBwd)
    rotate_back_scatter_bwd_kernel(const RotateBackScatterBwdParams<T> p) {
  using namespace detail;
  using S = Slice<T, kVec>;
  static_assert(kGradMsg || kGradW, "at least one gradient must be wanted");
  const WarpLoop w = warp_loop();
  const int lane = w.lane;
  const int64_t C = p.channels;
  for (int64_t e = w.first; e < p.n_edges; e += w.stride) {
    BlockDiag<T> W;
    if (kGradMsg) W.load_warp(p.wigner_inv + e * kNumCoeffs * kNumCoeffs, lane);
    const int64_t d = __ldg(p.dst + e);
    const T* h_row = p.grad_out + d * kNumCoeffs * C;
    T acc[kWignerNnz];
#pragma unroll
    for (int n = 0; n < kWignerNnz; ++n) acc[n] = T(0);

    for (int64_t c0 = int64_t(lane) * kVec; c0 < C; c0 += kWarp * kVec) {
      S h[kNumCoeffs];
#pragma unroll
      for (int i = 0; i < kNumCoeffs; ++i) h[i] = load_slice<T, kVec>(h_row + i * C + c0);
      if constexpr (kGradW) {
        S ml[kNumCoeffs];
        // An absent group is zero rows: its columns of grad_wigner_inv come out 0.
        load_m_rows_as_l<T, kVec, kAllGroups>(p.msg_groups, e, C, c0, ml);
        accumulate_outer(acc, h, ml);
      }
      if constexpr (kGradMsg) {
        S y[kNumCoeffs];
        block_matvec_t(W, h, y);
#pragma unroll
        for (int k = 0; k < kNumCoeffs; ++k)  // the gradient of an absent group is not wanted: not written
          if (kAllGroups || p.grad_msg_groups.present(m_group_of_row(k)))
            store_slice_cs<T, kVec>(p.grad_msg_groups.row(e, k, C) + c0, tf32_operand_if(p.round_tf32, y[l_of_m(k)]));
      }
    }
    if constexpr (kGradW) reduce_and_store_block_diag(acc, p.grad_wigner_inv + e * kNumCoeffs * kNumCoeffs, lane);
  }
}

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_ROTATE_BACK_SCATTER_BWD_CUH
