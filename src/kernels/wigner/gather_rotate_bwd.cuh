// uma::gather_rotate_bwd — adjoint of gather_rotate, atomic scatter (the fast default).
// Mirrors fairchem models/uma/triton/node_to_edge_wigner_permute.py (NodeToEdgeWignerPermuteFunction.backward:
// the _bwd_dx kernel, PyTorch index_add_ and the per-block grad_wigner), fused into one pass per edge:
//   gᴸ[i] = grad_out[e, m_of_l(i)]                         (M→L)
//   grad_x[src[e]] += D_eᵀ · gᴸ[:, 0:C],   grad_x[dst[e]] += D_eᵀ · gᴸ[:, C:2C]   (float4 atomics on sm_90)
//   grad_wigner[e, i, j] = Σ_c gᴸ[i, c] x[src, j, c] + gᴸ[i, C + c] x[dst, j, c]  (block entries; warp shuffles)
// kGradX = false computes grad_wigner only; the deterministic path (gather_rotate_bwd_det.cuh) uses it that way.
// With the forward's radial scale (p.radial), grad_out is scaled by it first and grad_radial comes from the same pass.
#ifndef UMA_KERNELS_GATHER_ROTATE_BWD_CUH
#define UMA_KERNELS_GATHER_ROTATE_BWD_CUH

#include "wigner_common.cuh"

namespace uma {
namespace kernels {

// kMinBlocks: resident blocks per SM asked of the compiler (wigner_common.cuh); a parameter for the variant sweeps of
// benchmarks/kernels/bench_gather_bwd_variants.cu.
template <typename T, int kVec, bool kGradX, bool kGradW, int kMinBlocks = detail::kMinBlocksGatherRotateBwd>
__global__ void __launch_bounds__(detail::kThreadsPerBlock, kMinBlocks)
    gather_rotate_bwd_kernel(const GatherRotateBwdParams<T> p) {
  using namespace detail;
  using S = Slice<T, kVec>;
  static_assert(kGradX || kGradW, "at least one gradient must be wanted");
  const WarpLoop w = warp_loop();
  const int lane = w.lane;
  const int64_t C = p.channels;
  for (int64_t e = w.first; e < p.n_edges; e += w.stride) {
    BlockDiag<T> D;
    if (kGradX || p.radial) D.load_warp(p.wigner + e * kNumCoeffs * kNumCoeffs, lane);
    const int64_t s = __ldg(p.src + e), d = __ldg(p.dst + e);
    T acc[kWignerNnz];
#pragma unroll
    for (int n = 0; n < kWignerNnz; ++n) acc[n] = T(0);

    for (int64_t c0 = int64_t(lane) * kVec; c0 < C; c0 += kWarp * kVec) {
      // Two halves (src channels, dst channels) one after the other to bound register pressure.
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int64_t node = half == 0 ? s : d;
        S gl[kNumCoeffs];
#pragma unroll
        for (int i = 0; i < kNumCoeffs; ++i)
          gl[i] = load_slice<T, kVec>(p.grad_out_groups.row(e, m_of_l(i), 2 * C) + half * C + c0);
        if constexpr (kGradW) {
          S xv[kNumCoeffs];
#pragma unroll
          for (int j = 0; j < kNumCoeffs; ++j) xv[j] = load_slice<T, kVec>(p.x + (node * kNumCoeffs + j) * C + c0);
          if (p.radial) {
            // out = R ⊙ (P D x): grad R = Σ over each group's rows of g ⊙ (D x) (recomputed here, not stored by the
            // forward), then g ← R ⊙ g for the adjoints w.r.t. D and x. The launcher guarantees kGradW.
            const int64_t off = e * kRadialGroups * 2 * C + half * C + c0;
            S y[kNumCoeffs], gr[kRadialGroups];
            block_matvec(D, xv, y);
#pragma unroll
            for (int q = 0; q < kRadialGroups; ++q)
#pragma unroll
              for (int v = 0; v < kVec; ++v) gr[q].v[v] = T(0);
#pragma unroll
            for (int i = 0; i < kNumCoeffs; ++i)
#pragma unroll
              for (int v = 0; v < kVec; ++v) gr[radial_group_of_m(m_of_l(i))].v[v] += gl[i].v[v] * y[i].v[v];
#pragma unroll
            for (int q = 0; q < kRadialGroups; ++q) store_slice<T, kVec>(p.grad_radial + off + q * 2 * C, tf32_operand_if(p.round_tf32, gr[q]));
            scale_l_rows_by_radial(gl, p.radial + off, 2 * C);
          }
          accumulate_outer(acc, gl, xv);
        }
        if constexpr (kGradX) {
          S gx[kNumCoeffs];
          block_matvec_t(D, gl, gx);
#pragma unroll
          for (int j = 0; j < kNumCoeffs; ++j) atomic_add_slice<T, kVec>(p.grad_x + (node * kNumCoeffs + j) * C + c0, gx[j]);
        }
      }
    }
    if constexpr (kGradW) reduce_and_store_block_diag(acc, p.grad_wigner + e * kNumCoeffs * kNumCoeffs, lane);
  }
}

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_GATHER_ROTATE_BWD_CUH
