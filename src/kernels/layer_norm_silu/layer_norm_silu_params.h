// Parameter blocks of the fused LayerNorm + SiLU of UMA's radial MLPs (fairchem nn/radial.py RadialMLP: Linear,
// LayerNorm, SiLU, Linear, LayerNorm, SiLU, Linear), over the last dimension of a [rows, width] matrix:
//   mean = Σ_c x_c / width,  var = Σ_c (x_c - mean)² / width  (biased, as torch.nn.LayerNorm),
//   rstd = 1 / sqrt(var + eps),  x̂_c = (x_c - mean) · rstd,  z_c = x̂_c · weight_c + bias_c,
//   y_c = silu(z_c) = z_c · σ(z_c).
// The backward takes only the pre-norm input x (mean and rstd are recomputed from it; nothing else is saved):
//   dz_c = dy_c · σ(z_c) · (1 + z_c · (1 - σ(z_c))),  g_c = dz_c · weight_c,
//   dx_c = rstd · (g_c - mean_c'(g) - x̂_c · mean_c'(g · x̂)).
// No weight or bias gradients (inference: the weights are constants). Plain structs: pointers and sizes; every
// matrix dense and row-major except x's leading dimension.
// Optional row bias: with row_bias set, row r normalises x_r + row_bias[row_bias_index[r]] (the sum rounded to T, as
// torch's add) instead of x_r. The radial MLPs' first Linear ends that way (weights.h RadialMLPW::lin0_pair: a table
// per element pair), so the lookup and the add are two passes over [E, width] the kernels do not need. The bias gets
// no gradient; the input gradient is the same formula with the biased row.
#ifndef UMA_KERNELS_LAYER_NORM_SILU_PARAMS_H
#define UMA_KERNELS_LAYER_NORM_SILU_PARAMS_H

#include <cstdint>

namespace uma {
namespace kernels {

template <typename T>
struct LayerNormSiluFwdParams {
  const T* x = nullptr;       // [rows, ld]: the pre-norm input, columns [0, width) used
  int64_t ld = 0;             // row stride of x in elements, >= width
  const T* weight = nullptr;  // [width] LayerNorm scale
  const T* bias = nullptr;    // [width] LayerNorm shift
  T* y = nullptr;             // [rows, width] dense: silu(layer_norm(x)), written in full
  int64_t rows = 0;           // >= 0
  int64_t width = 0;          // the normalised dimension, > 0
  double eps = 1e-5;          // added to the variance (fairchem: torch's default 1e-5), >= 0
  const T* row_bias = nullptr;              // [table rows, width] dense, or null (no row bias)
  const int64_t* row_bias_index = nullptr;  // [rows]: the table row of each row, in range (the caller's duty)
  // Store y rounded to TF32 (kernels/tf32_operand.cuh): it feeds only the next Linear's TF32 GEMM. fp32 only.
  bool round_tf32 = false;
};

template <typename T>
struct LayerNormSiluBwdParams {
  const T* grad_y = nullptr;  // [rows, width] dense: gradient of y
  const T* x = nullptr;       // [rows, ld]: the forward's pre-norm input
  int64_t ld = 0;             // row stride of x, >= width
  const T* weight = nullptr;  // [width]
  const T* bias = nullptr;    // [width]
  T* grad_x = nullptr;        // [rows, width] dense, written in full
  int64_t rows = 0;
  int64_t width = 0;
  double eps = 1e-5;
  const T* row_bias = nullptr;              // as the forward's
  const int64_t* row_bias_index = nullptr;
  // Store grad_x rounded to TF32 (kernels/tf32_operand.cuh): it feeds only the previous Linear's TF32 input-gradient
  // GEMM. fp32 only.
  bool round_tf32 = false;
};

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_LAYER_NORM_SILU_PARAMS_H
