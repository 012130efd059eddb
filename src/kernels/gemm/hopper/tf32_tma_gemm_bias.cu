// The Hopper TF32 GEMM with a per-column bias (tf32_tma_gemm_launch.h): the forward y = x W^T + b.
#include "tf32_tma_gemm_config.h"
#include "tf32_tma_gemm_launch.h"

namespace uma {
namespace kernels {
namespace hopper {

void tf32_gemm_tma_bias(const SplitTf32GemmParams& p, int sm_count, cudaStream_t stream) {
  run_tf32_tma_gemm<ProductTf32TmaGemm<true>>(p, sm_count, stream);
}

}  // namespace hopper
}  // namespace kernels
}  // namespace uma
