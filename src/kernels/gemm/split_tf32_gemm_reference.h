// CPU reference of the split-precision fp32 GEMM (split_tf32_gemm_params.h): the same TF32 split of each operand
// (big: truncation; small: the remainder rounded half-ulp-up, as CUTLASS's OpMultiplyAddFastF32 does) and the same
// three fp32 products per term. Summation order differs from the kernel's, so the two agree to fp32 rounding, not
// bit for bit. Also the plain TF32 product, to show what the split buys.
#ifndef UMA_KERNELS_GEMM_SPLIT_TF32_GEMM_REFERENCE_H
#define UMA_KERNELS_GEMM_SPLIT_TF32_GEMM_REFERENCE_H

#include "split_tf32_gemm_params.h"

namespace uma {
namespace kernels {

float tf32_truncate(float x);         // keep 10 mantissa bits, drop the rest (toward zero)
float tf32_round_half_up(float x);    // add half a TF32 ulp, then truncate (CUTLASS round_half_ulp_truncate)
float tf32_round_nearest(float x);    // round to nearest, ties to even (what cuBLAS's TF32 mode does to inputs)

enum class ReferenceMath { kSplitTf32, kTf32, kFp32 };

// D = A op(B) + bias on host pointers, every product formed as `math` says, sums in fp32 in k order.
void split_tf32_gemm_reference(const SplitTf32GemmParams& p, ReferenceMath math = ReferenceMath::kSplitTf32);

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_GEMM_SPLIT_TF32_GEMM_REFERENCE_H
