#include "engine/nn/fp32_gemm.h"

#ifdef UMA_HAVE_CUDA_KERNELS
#include "engine/nn/split_tf32_linear.h"
#endif

namespace uma {

const char* fp32_gemm_name(Fp32Gemm mode) {
  switch (mode) {
    case Fp32Gemm::strict: return "strict";
    case Fp32Gemm::split_tf32: return "split-tf32";
    case Fp32Gemm::tf32: return "tf32";
  }
  return "?";
}

torch::Tensor linear_in_mode(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, Fp32Gemm mode) {
#ifdef UMA_HAVE_CUDA_KERNELS
  if (mode == Fp32Gemm::split_tf32 && x.is_cuda() && x.scalar_type() == torch::kFloat32)
    return fused::split_tf32_linear(x, w, b);
#endif
  return torch::nn::functional::linear(x, w, b);
}

}  // namespace uma
