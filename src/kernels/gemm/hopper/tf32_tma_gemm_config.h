// The product's configuration of the Hopper TF32 GEMM (tf32_tma_gemm_kernel.cuh), shared by its two instantiations.
// 128 x 128 x 32 CTA tiles, the cooperative schedule (two consumer warpgroups, 64 x 128 each), no cluster: chosen
// by benchmarks/kernels/bench_split_tf32_gemm.cu -DUMA_TF32_TMA=<config> on the engine's GEMM shapes
// (benchmarks/results/2026-12-06-h200-tf32-tma-gemm.md).
#ifndef UMA_KERNELS_GEMM_HOPPER_TF32_TMA_GEMM_CONFIG_H
#define UMA_KERNELS_GEMM_HOPPER_TF32_TMA_GEMM_CONFIG_H

#include "tf32_tma_gemm_kernel.cuh"

namespace uma {
namespace kernels {
namespace hopper {

template <bool kBias>
using ProductTf32TmaGemm = Tf32TmaGemm<128, 128, 1, true, kBias>;

}  // namespace hopper
}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_GEMM_HOPPER_TF32_TMA_GEMM_CONFIG_H
