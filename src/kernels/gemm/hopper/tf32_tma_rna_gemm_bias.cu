// The rounding Hopper TF32 GEMM (A rounded into registers; tf32_tma_gemm_launch.h tf32_gemm_tma_rna), with a per-column bias.
#include "tf32_tma_gemm_config.h"
#include "tf32_tma_gemm_launch.h"

namespace uma {
namespace kernels {
namespace hopper {

void tf32_gemm_tma_rna_bias(const SplitTf32GemmParams& p, int sm_count, cudaStream_t stream) {
  run_tf32_tma_gemm<ProductTf32TmaRnaGemm<true>>(p, sm_count, stream);
}

}  // namespace hopper
}  // namespace kernels
}  // namespace uma
