// How the engine runs its fp32 GEMMs on a GPU, and the one linear layer every GEMM of the network goes through.
#ifndef UMA_ENGINE_FP32_GEMM_H
#define UMA_ENGINE_FP32_GEMM_H

#include <torch/torch.h>

namespace uma {

enum class Fp32Gemm {
  // cuBLAS fp32 on the FP32 (SIMT) pipes: exact fp32, the slowest; kept for validation.
  strict,
  // Tensor cores, fp32-accurate: each operand split into two TF32 parts, three TF32 products per term
  // (kernels/gemm/split_tf32_gemm_params.h), fp32 sums. Operands the kernel cannot take (misaligned) and the
  // node-level einsums use the strict path.
  split_tf32,
  // cuBLAS TF32 tensor cores: inputs rounded to 10 mantissa bits (~1e-3 relative per product); the fastest.
  // UMA_TF32_GEMM=hopper runs them on the Hopper TMA GEMM instead (H100/H200; faster, but it truncates: fp32_gemm.cpp).
  tf32,
};

const char* fp32_gemm_name(Fp32Gemm mode);  // "strict", "split-tf32", "tf32"

// y = x w^T + b (torch::nn::functional::linear), on the split-TF32 kernel when `mode` is split_tf32, on the Hopper
// TF32 kernel when it is tf32 on an H100/H200 and UMA_TF32_GEMM=hopper is set, x an fp32 CUDA
// tensor in a build with the CUDA kernels; otherwise torch's linear (whose cuBLAS TF32 setting the engine sets
// once for the tf32 mode). w must not require a gradient on the split path (inference: the weights
// are constants; the input gradient is the only one formed).
// Whether UMA_TF32_GEMM=hopper asks for the Hopper TF32 GEMM in the tf32 mode (read once per process).
bool hopper_tf32_gemm_requested();

torch::Tensor linear_in_mode(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, Fp32Gemm mode);

}  // namespace uma

#endif  // UMA_ENGINE_FP32_GEMM_H
