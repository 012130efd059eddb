// Arguments of the GEMM on TF32 values held in fp16 (half_operand.cuh, half_bits.h): D = alpha A B^T (+ bias), A and
// B fp16 (given as their bits: no CUDA types here), fp32 accumulation and output. The products are those of the TF32
// GEMM on the same values (fp16 holds them exactly); alpha undoes the power-of-two scale that brought a weight matrix
// into fp16's range (engine/nn/half_weights.h), exactly.
#ifndef UMA_KERNELS_HALF_OPERANDS_HALF_GEMM_PARAMS_H
#define UMA_KERNELS_HALF_OPERANDS_HALF_GEMM_PARAMS_H

#include <cstdint>

namespace uma {
namespace kernels {

struct HalfGemmParams {
  int64_t m = 0, n = 0, k = 0;
  const uint16_t* a = nullptr;  // [m][k] row-major fp16, row stride lda
  int64_t lda = 0;
  const uint16_t* b = nullptr;  // [n][k] row-major fp16 (weight rows), row stride ldb
  int64_t ldb = 0;
  float alpha = 1.0f;           // multiplies A B^T before the bias
  const float* bias = nullptr;  // [n] added to every row, or null
  float* d = nullptr;           // [m][n] row-major fp32, row stride ldd; must not overlap a, b or bias
  int64_t ldd = 0;
};

// The TMA loads and the epilogue's stores move 16-byte vectors: every pointer 16-byte aligned, k and the fp16
// leading dimensions multiples of 8, n and ldd multiples of 4.
constexpr int64_t kHalfGemmAlignmentAB = 8;
constexpr int64_t kHalfGemmAlignmentD = 4;

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_HALF_OPERANDS_HALF_GEMM_PARAMS_H
