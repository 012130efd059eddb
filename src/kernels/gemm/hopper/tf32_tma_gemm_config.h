// The product's configuration of the Hopper TF32 GEMM (tf32_tma_gemm_kernel.cuh), shared by its two instantiations.
// 128 x 128 x 32 CTA tiles, the ping-pong schedule (two consumer warpgroups taking alternate tiles), no cluster: the
// fastest of six configurations on one layer's 18 GEMMs (benchmarks/kernels/bench_split_tf32_gemm.cu
// -DUMA_TF32_TMA=0..5; H100, 2026-12-06: 2.95 ms against 3.13 ms for the cooperative schedule on the same tiles,
// cuBLAS TF32 3.49 ms; benchmarks/results/2026-12-06-h100-tf32-tma-gemm.md). It replaced the cooperative schedule on
// 2026-12-07 after its GPU tests passed (Tf32TmaGemmCuda, test_gpu_engine with UMA_TF32_GEMM=hopper; H100): 2.97 ms
// for the 18 GEMMs, 1.07x cuBLAS end to end at carbon 2000 (benchmarks/results/2026-12-07-h100-rs-gemm-k2.md).
#ifndef UMA_KERNELS_GEMM_HOPPER_TF32_TMA_GEMM_CONFIG_H
#define UMA_KERNELS_GEMM_HOPPER_TF32_TMA_GEMM_CONFIG_H

#include "tf32_tma_gemm_kernel.cuh"

namespace uma {
namespace kernels {
namespace hopper {

template <bool kBias>
using ProductTf32TmaGemm = Tf32TmaGemm<128, 128, 1, false, kBias>;

// 64-row tiles on the same schedule, for problems whose 128-row tile grid would leave the SMs' consumer warpgroups idle
// (fewer tiles than 2 per SM: Cu 192's 14 344 edges on the narrow GEMMs, n <= 256); tf32_tma_gemm.cu picks it where
// UMA_TF32_NARROW_TILES=1, opt-in: two H100 runs at Cu 192 disagree, +0.10 and -0.16 ms against 5.4 ms
// (benchmarks/results/2026-12-07-h100-preround-k2.md).
template <bool kBias>
using NarrowTf32TmaGemm = Tf32TmaGemm<64, 128, 1, false, kBias>;

// The rounding variant (A rounded into registers; tf32_gemm_tma_rna) on the same tiles and schedule, A copied into
// registers by ldmatrix (RoundToTf32Ldsm): one layer's 18 GEMMs in 3.225 ms against 3.268 with one LDS per element
// (RoundToTf32Copy) and cuBLAS's 3.500 on the same H100; the truncating kernel took 2.93 against cuBLAS's 3.39 on
// another (benchmarks/results/2026-12-07-h100-tma-rna.md). The GPU tests passed with it.
template <bool kBias>
using ProductTf32TmaRnaGemm = Tf32TmaGemm<128, 128, 1, false, kBias, RoundToTf32Ldsm>;

}  // namespace hopper
}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_GEMM_HOPPER_TF32_TMA_GEMM_CONFIG_H
