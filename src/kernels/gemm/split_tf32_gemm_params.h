// Arguments of the split-precision ("3xTF32") fp32 GEMM: D = A op(B) + bias, fp32 in and out, on tensor cores.
// Each fp32 operand x is split into a TF32 "big" part (x truncated to TF32's 10 mantissa bits) and a TF32 "small" part
// (the remainder, rounded to TF32), and D accumulates big*big + big*small + small*big in fp32. The dropped
// small*small term is ~2^-22 of the product, below fp32's own rounding of the sum, so the result has fp32
// accuracy (a plain TF32 GEMM keeps ~11 bits). This is the engine's fp32-accurate tensor-core GEMM mode.
#ifndef UMA_KERNELS_GEMM_SPLIT_TF32_GEMM_PARAMS_H
#define UMA_KERNELS_GEMM_SPLIT_TF32_GEMM_PARAMS_H

#include <cstdint>

namespace uma {
namespace kernels {

// How B is stored. The engine's weights are [out, in] row-major (torch's Linear layout):
//   kWeightRows: b holds [n][k] row-major (ldb >= k): D = A B^T, the forward pass y = x W^T.
//   kRowMajor:   b holds [k][n] row-major (ldb >= n): D = A B, the input gradient dx = dy W.
enum class GemmBLayout { kWeightRows, kRowMajor };

struct SplitTf32GemmParams {
  int64_t m = 0, n = 0, k = 0;
  const float* a = nullptr;  // [m][k] row-major, row stride lda
  int64_t lda = 0;
  const float* b = nullptr;  // see GemmBLayout
  int64_t ldb = 0;
  GemmBLayout b_layout = GemmBLayout::kWeightRows;
  const float* bias = nullptr;  // [n] added to every row, or null
  float* d = nullptr;           // [m][n] row-major, row stride ldd; must not overlap a, b or bias
  int64_t ldd = 0;
};

// The tensor-core kernel reads and writes 16-byte vectors: every pointer 16-byte aligned, every leading dimension
// and the dimensions k and n multiples of 4 floats. Callers with other operands use another GEMM.
constexpr int64_t kSplitTf32Alignment = 4;

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_GEMM_SPLIT_TF32_GEMM_PARAMS_H
