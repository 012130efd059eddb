// uma::rotate_back_scatter_fwd_det — rotate_back_scatter with a deterministic segmented sum: one warp per atom
// walks its incoming edges in CSR order (edges grouped by dst), accumulates Winv_e · Pᵀ msg[e] in registers and
// writes out[n] once. No atomics and no pre-zeroing; bitwise reproducible run to run.
#ifndef UMA_KERNELS_ROTATE_BACK_SCATTER_FWD_DET_CUH
#define UMA_KERNELS_ROTATE_BACK_SCATTER_FWD_DET_CUH

#include "wigner_common.cuh"

namespace uma {
namespace kernels {

template <typename T, int kVec, bool kAllGroups>
__global__ void __launch_bounds__(detail::kThreadsPerBlock)
    rotate_back_scatter_fwd_det_kernel(const RotateBackScatterFwdParams<T> p) {
  using namespace detail;
  using S = Slice<T, kVec>;
  const WarpLoop w = warp_loop();
  const int lane = w.lane;
  const int64_t C = p.channels;
  for (int64_t n = w.first; n < p.n_atoms; n += w.stride) {
    const int64_t begin = __ldg(p.dst_csr.row_ptr + n), end = __ldg(p.dst_csr.row_ptr + n + 1);
    for (int64_t cb = 0; cb < C; cb += kWarp * kVec) {
      const int64_t c0 = cb + int64_t(lane) * kVec;
      const bool active = c0 < C;
      S acc[kNumCoeffs];
      zero_rows(acc);
      for (int64_t q = begin; q < end; ++q) {
        const int64_t e = p.dst_csr.perm ? __ldg(p.dst_csr.perm + q) : q;
        BlockDiag<T> W;
        W.load_warp(p.wigner_inv + e * kNumCoeffs * kNumCoeffs, lane);
        if (active) {
          S ml[kNumCoeffs], y[kNumCoeffs];
          load_m_rows_as_l<T, kVec, kAllGroups>(p.msg_groups, e, C, c0, ml);  // absent groups read as zeros
          block_matvec(W, ml, y);
          add_rows(acc, y);
        }
      }
      if (active) store_rows(p.out + n * kNumCoeffs * C + c0, C, acc);
    }
  }
}

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_ROTATE_BACK_SCATTER_FWD_DET_CUH
