// The rounding Hopper TF32 GEMM (A rounded into registers; tf32_tma_gemm_launch.h tf32_gemm_tma_rna), without a bias.
#include "tf32_tma_gemm_config.h"
#include "tf32_tma_gemm_launch.h"

namespace uma {
namespace kernels {
namespace hopper {

void tf32_gemm_tma_rna_plain(const SplitTf32GemmParams& p, int sm_count, cudaStream_t stream) {
  run_tf32_tma_gemm<ProductTf32TmaRnaGemm<false>>(p, sm_count, stream);
}

}  // namespace hopper
}  // namespace kernels
}  // namespace uma
