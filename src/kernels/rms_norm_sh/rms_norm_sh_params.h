// Parameter blocks of the fused equivariant RMS norm of UMA's node features (fairchem nn/layer_norm.py
// EquivariantRMSNormArraySphericalHarmonicsV2, lmax = 2: the norm_1 / norm_2 of every layer and the final norm).
// x is [nodes, 9, C], the rows L-major (l = 0: row 0; l = 1: rows 1..3; l = 2: rows 4..8), per node:
//   f_0 = x_0 - mean_c(x_0),  f_i = x_i (i > 0)                                  (the l = 0 row centred)
//   norm = mean_c( Σ_i bal_i · f_i² ),  bal_i = 1 / ((2 l_i + 1)(lmax + 1))      (1/3, 1/9, 1/15)
//   s = 1 / sqrt(norm + eps)
//   y_i = f_i · (s · weight[l_i]) + (i == 0 ? bias + extra_bias : 0)
// extra_bias (optional) is a second constant row-0 bias the engine adds right after norm_1 (the system embedding).
// The backward takes only the input x (f and s are recomputed from it; nothing else is saved), with a_i = g_i ·
// weight[l_i] for the output gradient g:
//   D = Σ_{j,c} a_j f_j,  df_i = s · a_i - (s³ / C) · D · bal_i · f_i,
//   dx_0 = df_0 - mean_c(df_0),  dx_i = df_i (i > 0).
// No weight or bias gradients (inference: the weights are constants). Plain structs: pointers and sizes; every array
// dense and row-major except x's node stride.
#ifndef UMA_KERNELS_RMS_NORM_SH_PARAMS_H
#define UMA_KERNELS_RMS_NORM_SH_PARAMS_H

#include <cstdint>

namespace uma {
namespace kernels {

constexpr int kRmsNormShRows = 9;     // (lmax + 1)² coefficients per node, lmax = 2
constexpr int kRmsNormShDegrees = 3;  // lmax + 1 rows of `weight`

template <typename T>
struct RmsNormShFwdParams {
  const T* x = nullptr;           // [nodes, ld]: node n's 9 rows of C at x + n·ld, columns [0, 9·C) used
  int64_t ld = 0;                 // node stride of x in elements, >= 9·C
  const T* weight = nullptr;      // [3, C] per-degree scale
  const T* bias = nullptr;        // [C] row-0 shift
  const T* extra_bias = nullptr;  // [C] a second row-0 shift added after `bias`, or nullptr for none
  T* y = nullptr;                 // [nodes, 9, C] dense, written in full
  int64_t nodes = 0;              // >= 0
  int64_t channels = 0;           // C, > 0
  double eps = 1e-5;              // added to the mean square (fairchem: 1e-5), >= 0
};

template <typename T>
struct RmsNormShBwdParams {
  const T* grad_y = nullptr;  // [nodes, 9, C] dense: gradient of y
  const T* x = nullptr;       // [nodes, ld]: the forward's input
  int64_t ld = 0;             // node stride of x, >= 9·C
  const T* weight = nullptr;  // [3, C]
  T* grad_x = nullptr;        // [nodes, 9, C] dense, written in full
  int64_t nodes = 0;
  int64_t channels = 0;
  double eps = 1e-5;
};

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_RMS_NORM_SH_PARAMS_H
