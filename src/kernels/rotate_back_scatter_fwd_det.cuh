// uma::rotate_back_scatter_fwd_det — rotate_back_scatter with a deterministic segmented sum: one warp per atom
// walks its incoming edges in CSR order (edges grouped by dst), accumulates Winv_e · Pᵀ msg[e] in registers and
// writes out[n] once. No atomics and no pre-zeroing; bitwise reproducible run to run.
#ifndef UMA_KERNELS_ROTATE_BACK_SCATTER_FWD_DET_CUH
#define UMA_KERNELS_ROTATE_BACK_SCATTER_FWD_DET_CUH

#include "wigner_common.cuh"

namespace uma {
namespace kernels {

template <typename T, int kVec>
__global__ void __launch_bounds__(detail::kThreadsPerBlock)
    rotate_back_scatter_fwd_det_kernel(const RotateBackScatterFwdParams<T> p) {
  using namespace detail;
  using S = Slice<T, kVec>;
  const int lane = threadIdx.x % kWarp;
  const int64_t C = p.channels;
  const int64_t warp0 = int64_t(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarp;
  const int64_t warp_stride = int64_t(gridDim.x) * kWarpsPerBlock;

  for (int64_t n = warp0; n < p.n_atoms; n += warp_stride) {
    const int64_t begin = __ldg(p.dst_csr.row_ptr + n), end = __ldg(p.dst_csr.row_ptr + n + 1);
    for (int64_t cb = 0; cb < C; cb += kWarp * kVec) {
      const int64_t c0 = cb + int64_t(lane) * kVec;
      const bool active = c0 < C;
      S acc[kNumCoeffs];
#pragma unroll
      for (int i = 0; i < kNumCoeffs; ++i)
#pragma unroll
        for (int v = 0; v < kVec; ++v) acc[i].v[v] = T(0);
      for (int64_t q = begin; q < end; ++q) {
        const int64_t e = p.dst_csr.perm ? __ldg(p.dst_csr.perm + q) : q;
        BlockDiag<T> W;
        W.load_warp(p.wigner_inv + e * kNumCoeffs * kNumCoeffs, lane);
        if (active) {
          const T* msg = p.msg + e * kNumCoeffs * C + c0;
          S ml[kNumCoeffs], y[kNumCoeffs];
#pragma unroll
          for (int m = 0; m < kNumCoeffs; ++m) ml[m] = load_slice<T, kVec>(msg + m_of_l(m) * C);
          block_matvec(W, ml, y);
#pragma unroll
          for (int i = 0; i < kNumCoeffs; ++i)
#pragma unroll
            for (int v = 0; v < kVec; ++v) acc[i].v[v] += y[i].v[v];
        }
      }
      if (active) {
#pragma unroll
        for (int i = 0; i < kNumCoeffs; ++i) store_slice<T, kVec>(p.out + (n * kNumCoeffs + i) * C + c0, acc[i]);
      }
    }
  }
}

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_ROTATE_BACK_SCATTER_FWD_DET_CUH
