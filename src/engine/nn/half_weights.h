// fp16 copies of GEMM weights for the GEMM on TF32 values held in fp16 (kernels/half_operands/half_gemm_launch.h):
// the f16 wgmma needs both operands in fp16, and a weight matrix fits fp16's range once scaled by a power of two,
// which the GEMM's alpha undoes exactly. Each value is rounded to TF32 first (round_to_tf32, as the tf32 mode's
// weights are), so the fp16 copy holds the tf32 mode's weight times 2^s exactly, but for values more than 2^29 below
// the matrix's largest (fp16 subnormals after the scale: their products are below TF32's rounding of the sums).
// Made once at load, like tf32_weights.h's rounded copies.
#ifndef UMA_ENGINE_HALF_WEIGHTS_H
#define UMA_ENGINE_HALF_WEIGHTS_H

#include <torch/torch.h>

namespace uma {

struct HalfWeight {
  torch::Tensor values;  // kHalf, w's shape, contiguous, on w's device: TF32(w) * 2^s
  float alpha = 1.0f;    // 2^-s: the GEMM's alpha
};

// w: a finite fp32 matrix. The scale puts its largest |TF32(w)| in [2^14, 2^15) (s = 0 for an all-zero w). Anything
// else (another dtype, an infinity or NaN) is an error (uma::Error) naming the problem.
HalfWeight half_weight(const torch::Tensor& w);

}  // namespace uma

#endif  // UMA_ENGINE_HALF_WEIGHTS_H
