// half_gemm's instantiation without a bias (half_gemm_launch.h); a translation unit of its own so a
// parallel build compiles the two side by side (~1.5 min of nvcc each).
#include "half_gemm_kernel.cuh"
#include "half_gemm_launch.h"

namespace uma {
namespace kernels {

void half_gemm_plain(const HalfGemmParams& p, int sm_count, cudaStream_t stream) {
  run_half_tma_gemm<ProductHalfTmaGemm<false>>(p, sm_count, stream);
}

}  // namespace kernels
}  // namespace uma
