// The product's configuration of the Hopper TF32 GEMM (tf32_tma_gemm_kernel.cuh), shared by its two instantiations.
// 128 x 128 x 32 CTA tiles, the ping-pong schedule (each consumer warpgroup owns a whole tile, the two alternate so
// that one's epilogue overlaps the other's MMAs), no cluster: the fastest of six configurations on every one of a
// layer's 18 GEMMs but two (within 4 %) in benchmarks/kernels/bench_split_tf32_gemm.cu -DUMA_TF32_TMA=0..5 on an
// H100: 2.95 ms for the layer against 3.13 ms cooperative and 3.49 ms for cuBLAS TF32
// (benchmarks/results/2026-12-06-h100-tf32-tma-gemm.md).
#ifndef UMA_KERNELS_GEMM_HOPPER_TF32_TMA_GEMM_CONFIG_H
#define UMA_KERNELS_GEMM_HOPPER_TF32_TMA_GEMM_CONFIG_H

#include "tf32_tma_gemm_kernel.cuh"

namespace uma {
namespace kernels {
namespace hopper {

template <bool kBias>
using ProductTf32TmaGemm = Tf32TmaGemm<128, 128, 1, false, kBias>;

}  // namespace hopper
}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_GEMM_HOPPER_TF32_TMA_GEMM_CONFIG_H
