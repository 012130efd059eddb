// The engine's tensor-core GEMM kernels (src/kernels/gemm/) as linear layers with autograd: forward y = x w^T + b,
// backward dx = dy w, both on the kernel. No weight or bias gradient (inference: constants). Operands a kernel
// cannot take (alignment, strides; for tf32_linear also a GPU other than compute capability 9.0) fall back to
// torch's linear in the same precision class.
//   split_tf32_linear: the split-TF32 GEMM (fp32-accurate; fp32_gemm.h's split_tf32 mode); fallback torch fp32.
//   tf32_linear:       the Hopper TMA TF32 GEMM, truncating (the tf32 mode on H100/H200 with UMA_TF32_GEMM=hopper);
//                      fallback cuBLAS TF32 (the engine enables it for that mode).
//   tf32_rs_linear:    the Hopper TF32 GEMM that rounds in registers (the tf32 mode with UMA_TF32_GEMM=rs); fallback
//                      cuBLAS TF32.
//   tf32_rna_linear:   the Hopper TMA TF32 GEMM with A rounded into registers (the tf32 mode's default on H100/H200,
//                      UMA_TF32_GEMM=hopper-rna); w must be rounded to TF32 already (tf32_weights.h); fallback cuBLAS
//                      TF32. An A operand whose producer rounded it already (input_rounded: x; grad_rounded: the
//                      output's gradient; fp32_gemm.h Tf32Operands) goes to tf32_linear's kernel instead, which reads
//                      it from shared memory as it is: the same products, ~12 % faster.
#ifndef UMA_ENGINE_TENSOR_CORE_LINEAR_H
#define UMA_ENGINE_TENSOR_CORE_LINEAR_H

#include <torch/torch.h>

namespace uma {
namespace fused {

// x [..., in] fp32 CUDA; w [out, in]; b [out] or undefined.
torch::Tensor split_tf32_linear(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b);
torch::Tensor tf32_linear(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b);
torch::Tensor tf32_rs_linear(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b);
torch::Tensor tf32_rna_linear(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b,
                              bool input_rounded = false, bool grad_rounded = false);

// tf32_rs_linear's backward alone, for fused ops whose own backward needs it: dy [..., out] w [out, in] ->
// [rows of dy, in] on the rounding kernel (fallback cuBLAS TF32).
torch::Tensor tf32_rs_input_gradient(const torch::Tensor& dy, const torch::Tensor& w);

// tf32_rna_linear's backward alone, likewise: dy w on the rounding TMA kernel, or on the truncating one where dy's
// producer rounded it already (grad_rounded); w rounded to TF32 already.
torch::Tensor tf32_rna_input_gradient(const torch::Tensor& dy, const torch::Tensor& w, bool grad_rounded);

// Whether tf32_linear's, tf32_rs_linear's and tf32_rna_linear's kernels can run on the current device (compute
// capability 9.0).
bool tf32_linear_available();

// Counts of kernel calls and fallbacks since the process started (tests: the kernel did run). tf32_rna_linear's GEMMs
// on pre-rounded operands count in tf32_prerounded_counts, not in tf32_linear_counts.
struct TensorCoreCounts {
  int64_t kernel = 0, fallback = 0;
};
TensorCoreCounts split_tf32_counts();
TensorCoreCounts tf32_linear_counts();
TensorCoreCounts tf32_rs_linear_counts();
TensorCoreCounts tf32_rna_linear_counts();
TensorCoreCounts tf32_prerounded_counts();

}  // namespace fused
}  // namespace uma

#endif  // UMA_ENGINE_TENSOR_CORE_LINEAR_H
