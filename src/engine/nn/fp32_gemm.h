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
  // TF32 tensor cores: inputs rounded to 10 mantissa bits (~1e-3 relative per product); the fastest. On an
  // H100/H200 one of this project's Hopper kernels (Tf32GemmKernel below; the rounding TMA GEMM unless
  // UMA_TF32_GEMM names another), elsewhere cuBLAS.
  tf32,
};

const char* fp32_gemm_name(Fp32Gemm mode);  // "strict", "split-tf32", "tf32"

// The kernel of the tf32 mode's GEMMs on an H100/H200, from the environment variable UMA_TF32_GEMM (read once per
// process; fp32_gemm.cpp says why each exists). Unset or empty: hopper-rna. Another value throws uma::Error.
enum class Tf32GemmKernel {
  cublas,      // UMA_TF32_GEMM=cublas: cuBLAS's TF32 kernels (rounded operands)
  hopper_tma,  // UMA_TF32_GEMM=hopper: the CUTLASS TMA GEMM (kernels/gemm/hopper/tf32_tma_gemm_*): fast, truncates
  hopper_rs,   // UMA_TF32_GEMM=rs: the wgmma GEMM that rounds in registers (kernels/gemm/hopper/tf32_rs_wgmma_*)
  // UMA_TF32_GEMM=hopper-rna or unset (the default): the TMA GEMM with A rounded into registers and the weights
  // rounded once at load (tf32_tma_gemm_launch.h tf32_gemm_tma_rna, engine/nn/tf32_weights.h): cuBLAS's rounding
  hopper_tma_rna,
};
Tf32GemmKernel tf32_gemm_kernel_requested();
const char* tf32_gemm_kernel_name(Tf32GemmKernel kernel);  // "cublas", "hopper", "rs", "hopper-rna"

// The A operands of a linear layer that their producers already stored rounded to TF32 (kernels/tf32_operand.cuh: the
// fused kernels' round_tf32), in the tf32 mode with the hopper-rna kernel: such an operand goes to the TMA kernel that
// reads it as it is instead of rounding it on its way into registers, with the same products (~12 % faster on one
// layer's GEMMs; benchmarks/results/2026-12-07-h100-tma-rna.md). The caller vouches for it: x (input_rounded) or the
// gradient of y (grad_rounded; only where y's one consumer is such a producer's op and nothing on the way changes the
// values) must be exactly TF32. Elsewhere, and for every other mode and kernel, the flags change nothing.
struct Tf32Operands {
  bool input_rounded = false;
  bool grad_rounded = false;
};

// y = x w^T + b (torch::nn::functional::linear), on the split-TF32 kernel when `mode` is split_tf32, on the Hopper
// kernel tf32_gemm_kernel_requested() names when it is tf32 on an H100/H200 (the weights rounded to TF32 beforehand
// for hopper-rna: tf32_weights.h), x an fp32 CUDA tensor in a build with
// the CUDA kernels; otherwise torch's linear (whose cuBLAS TF32 setting the engine sets once for the tf32 mode).
// w must not require a gradient on the kernels' paths (inference: the weights are constants; the input gradient is
// the only one formed).
torch::Tensor linear_in_mode(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, Fp32Gemm mode,
                             Tf32Operands rounded = {});

}  // namespace uma

#endif  // UMA_ENGINE_FP32_GEMM_H
