// The Hopper TF32 GEMM without a bias (tf32_tma_gemm_launch.h): bias-free layers and the input gradient dx = dy W.
#include "tf32_tma_gemm_config.h"
#include "tf32_tma_gemm_launch.h"

namespace uma {
namespace kernels {
namespace hopper {

void tf32_gemm_tma_plain(const SplitTf32GemmParams& p, int sm_count, cudaStream_t stream) {
  run_tf32_tma_gemm<ProductTf32TmaGemm<false>>(p, sm_count, stream);
}

}  // namespace hopper
}  // namespace kernels
}  // namespace uma
