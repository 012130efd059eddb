// The product's configuration of the Hopper TF32 GEMM (tf32_tma_gemm_kernel.cuh), shared by its two instantiations.
// 128 x 128 x 32 CTA tiles, the cooperative schedule (two consumer warpgroups, 64 x 128 each), no cluster: the
// configuration the GPU tests ran (H100, 2026-12-06: Tf32TmaGemmCuda and test_gpu_engine). The sweep of six
// configurations (benchmarks/kernels/bench_split_tf32_gemm.cu -DUMA_TF32_TMA=0..5, same call) found the ping-pong
// schedule on the same tiles faster on one layer's 18 GEMMs, 2.95 ms against 3.13 ms (cuBLAS TF32: 3.49 ms;
// benchmarks/results/2026-12-06-h100-tf32-tma-gemm.md); it becomes the product's once the GPU tests have run with it
// (Tf32TmaGemm<128, 128, 1, false, kBias>): no device time was left that day.
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
