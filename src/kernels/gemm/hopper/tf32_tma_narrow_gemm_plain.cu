// The Hopper TF32 GEMM on 64-row tiles, no bias (tf32_tma_gemm_config.h NarrowTf32TmaGemm, tf32_tma_gemm_launch.h).
#include "tf32_tma_gemm_config.h"
#include "tf32_tma_gemm_launch.h"

namespace uma {
namespace kernels {
namespace hopper {

void tf32_gemm_tma_narrow_plain(const SplitTf32GemmParams& p, int sm_count, cudaStream_t stream) {
  run_tf32_tma_gemm<NarrowTf32TmaGemm<false>>(p, sm_count, stream);
}

}  // namespace hopper
}  // namespace kernels
}  // namespace uma
