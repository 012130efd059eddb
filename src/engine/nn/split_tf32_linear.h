// The split-TF32 GEMM kernel (src/kernels/gemm/) as a linear layer with autograd: forward y = x w^T + b, backward
// dx = dy w, both on the kernel. No weight or bias gradient (inference: constants). Operands the kernel cannot
// take (alignment, strides) fall back to torch's fp32 linear, so the result is fp32-accurate either way.
#ifndef UMA_ENGINE_SPLIT_TF32_LINEAR_H
#define UMA_ENGINE_SPLIT_TF32_LINEAR_H

#include <torch/torch.h>

namespace uma {
namespace fused {

// x [..., in] fp32 CUDA; w [out, in]; b [out] or undefined.
torch::Tensor split_tf32_linear(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b);

// Counts of kernel calls and fallbacks since the process started (tests: the kernel did run).
struct SplitTf32Counts {
  int64_t kernel = 0, fallback = 0;
};
SplitTf32Counts split_tf32_counts();

}  // namespace fused
}  // namespace uma

#endif  // UMA_ENGINE_SPLIT_TF32_LINEAR_H
