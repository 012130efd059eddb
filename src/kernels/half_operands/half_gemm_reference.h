// CPU reference of half_gemm (half_gemm_launch.h): D = alpha A B^T (+ bias) from the fp16 bits, summed in double and
// rounded to fp32 once; and each output's error scale sum_k |alpha a b| + |bias|, the unit of the GPU test's bound.
#ifndef UMA_KERNELS_HALF_OPERANDS_HALF_GEMM_REFERENCE_H
#define UMA_KERNELS_HALF_OPERANDS_HALF_GEMM_REFERENCE_H

#include "half_gemm_params.h"

namespace uma {
namespace kernels {

// p's pointers are host pointers; d (p.d) gets [m][n] with row stride ldd; scale (may be null) gets [m][n] densely.
void half_gemm_reference(const HalfGemmParams& p, double* scale = nullptr);

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_HALF_OPERANDS_HALF_GEMM_REFERENCE_H
