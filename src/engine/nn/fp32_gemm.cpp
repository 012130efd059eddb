#include "engine/nn/fp32_gemm.h"

#include <cstdlib>
#include <cstring>

#ifdef UMA_HAVE_CUDA_KERNELS
#include "engine/nn/tensor_core_linear.h"
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

bool hopper_tf32_gemm_requested() {
  static const bool requested =
      std::getenv("UMA_TF32_GEMM") && std::strcmp(std::getenv("UMA_TF32_GEMM"), "hopper") == 0;
  return requested;
}

torch::Tensor linear_in_mode(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, Fp32Gemm mode) {
#ifdef UMA_HAVE_CUDA_KERNELS
  if (mode == Fp32Gemm::split_tf32 && x.is_cuda() && x.scalar_type() == torch::kFloat32)
    return fused::split_tf32_linear(x, w, b);
  // tf32 with UMA_TF32_GEMM=hopper on an H100/H200: the Hopper TMA GEMM (kernels/gemm/hopper/
  // tf32_tma_gemm_kernel.cuh). 1.05x cuBLAS's speed end to end at carbon 2000 (1.12x on one layer's 18 GEMMs), but
  // its tensor cores read the fp32 operands truncated to TF32 where cuBLAS rounds them, and truncation errs the same
  // way in every product: 2-7e-3 eV/atom against fp64 where cuBLAS gives 1.5e-3
  // (benchmarks/results/2026-12-06-h100-tf32-tma-gemm.md). So cuBLAS stays the default; the fused edge-block
  // kernels, which make their A operands in registers, can round instead.
  if (mode == Fp32Gemm::tf32 && hopper_tf32_gemm_requested() && x.is_cuda() && x.scalar_type() == torch::kFloat32 &&
      fused::tf32_linear_available())
    return fused::tf32_linear(x, w, b);
#endif
  return torch::nn::functional::linear(x, w, b);
}

}  // namespace uma
