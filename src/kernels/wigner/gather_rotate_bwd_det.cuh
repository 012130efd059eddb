// uma::gather_rotate_bwd_det — the grad_x part of gather_rotate's adjoint, deterministic: one warp per atom sums,
// in CSR order, the contributions of its outgoing edges (channels 0..C-1 of grad_out) and then of its incoming edges
// (channels C..2C-1), and writes grad_x[n] once. No atomics, so results are bitwise reproducible run to run.
// grad_wigner is per edge (no scatter) and comes from gather_rotate_bwd_kernel<…, kGradX = false, kGradW = true>.
#ifndef UMA_KERNELS_GATHER_ROTATE_BWD_DET_CUH
#define UMA_KERNELS_GATHER_ROTATE_BWD_DET_CUH

#include "wigner_common.cuh"

namespace uma {
namespace kernels {

template <typename T, int kVec>
__global__ void __launch_bounds__(detail::kThreadsPerBlock)
    gather_rotate_bwd_x_det_kernel(const GatherRotateBwdParams<T> p) {
  using namespace detail;
  using S = Slice<T, kVec>;
  const WarpLoop w = warp_loop();
  const int lane = w.lane;
  const int64_t C = p.channels;
  for (int64_t n = w.first; n < p.n_atoms; n += w.stride) {
    // Channel slices outermost, so the accumulator is 9 slices whatever C is; D_e is re-read per slice (C > 32·kVec only).
    for (int64_t cb = 0; cb < C; cb += kWarp * kVec) {
      const int64_t c0 = cb + int64_t(lane) * kVec;
      const bool active = c0 < C;
      S acc[kNumCoeffs];
      zero_rows(acc);

#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const EdgeCsr& csr = half == 0 ? p.src_csr : p.dst_csr;
        const int64_t begin = __ldg(csr.row_ptr + n), end = __ldg(csr.row_ptr + n + 1);
        for (int64_t q = begin; q < end; ++q) {
          const int64_t e = csr.perm ? __ldg(csr.perm + q) : q;
          BlockDiag<T> D;
          D.load_warp(p.wigner + e * kNumCoeffs * kNumCoeffs, lane);
          if (active) {
            S gl[kNumCoeffs], gx[kNumCoeffs];
#pragma unroll
            for (int i = 0; i < kNumCoeffs; ++i)
              gl[i] = load_slice<T, kVec>(p.grad_out_groups.row(e, m_of_l(i), 2 * C) + half * C + c0);
            // The forward's radial scale: the adjoint w.r.t. x sees R ⊙ grad_out.
            if (p.radial) scale_l_rows_by_radial(gl, p.radial + e * kRadialGroups * 2 * C + half * C + c0, 2 * C);
            block_matvec_t(D, gl, gx);
            add_rows(acc, gx);
          }
        }
      }
      if (active) store_rows(p.grad_x + n * kNumCoeffs * C + c0, C, acc);
    }
  }
}

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_GATHER_ROTATE_BWD_DET_CUH
