// CPU reference of the fused LayerNorm + SiLU; see layer_norm_silu_reference.h.
#include "layer_norm_silu_reference.h"

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace uma {
namespace kernels {
namespace {

void check(const char* what, int64_t rows, int64_t width, int64_t ld, double eps) {
  if (rows < 0 || width <= 0 || ld < width || !(eps >= 0))
    throw std::invalid_argument(std::string(what) + ": bad sizes rows=" + std::to_string(rows) +
                                ", width=" + std::to_string(width) + ", ld=" + std::to_string(ld) +
                                ", eps=" + std::to_string(eps));
}

// mean and 1/sqrt(var + eps) of one row, two passes in double.
template <typename T>
void row_moments(const T* x, int64_t width, double eps, double& mean, double& rstd) {
  double s = 0;
  for (int64_t c = 0; c < width; ++c) s += double(x[c]);
  mean = s / double(width);
  double v = 0;
  for (int64_t c = 0; c < width; ++c) v += (double(x[c]) - mean) * (double(x[c]) - mean);
  rstd = 1.0 / std::sqrt(v / double(width) + eps);
}

double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

// Row r's input: x_r itself, or x_r + its row bias rounded to T (as torch adds) in `buf`.
template <typename T, typename Params>
const T* row_input(const Params& p, int64_t r, std::vector<T>& buf) {
  const T* x = p.x + r * p.ld;
  if (!p.row_bias) return x;
  if (!p.row_bias_index) throw std::invalid_argument("layer_norm_silu reference: row_bias without row_bias_index");
  const T* b = p.row_bias + p.row_bias_index[r] * p.width;
  buf.resize(p.width);
  for (int64_t c = 0; c < p.width; ++c) buf[c] = T(x[c] + b[c]);
  return buf.data();
}

}  // namespace

template <typename T>
void layer_norm_silu_fwd_reference(const LayerNormSiluFwdParams<T>& p) {
  check("layer_norm_silu_fwd_reference", p.rows, p.width, p.ld, p.eps);
  const int64_t W = p.width;
  std::vector<T> buf;
  for (int64_t r = 0; r < p.rows; ++r) {
    const T* x = row_input(p, r, buf);
    double mean, rstd;
    row_moments(x, W, p.eps, mean, rstd);
    for (int64_t c = 0; c < W; ++c) {
      const double z = (double(x[c]) - mean) * rstd * double(p.weight[c]) + double(p.bias[c]);
      p.y[r * W + c] = T(z * sigmoid(z));
    }
  }
}

template <typename T>
void layer_norm_silu_bwd_reference(const LayerNormSiluBwdParams<T>& p) {
  check("layer_norm_silu_bwd_reference", p.rows, p.width, p.ld, p.eps);
  const int64_t W = p.width;
  std::vector<double> xhat(W), g(W);
  std::vector<T> buf;
  for (int64_t r = 0; r < p.rows; ++r) {
    const T* x = row_input(p, r, buf);
    const T* dy = p.grad_y + r * W;
    double mean, rstd;
    row_moments(x, W, p.eps, mean, rstd);
    double sum_g = 0, sum_gx = 0;
    for (int64_t c = 0; c < W; ++c) {
      xhat[c] = (double(x[c]) - mean) * rstd;
      const double z = xhat[c] * double(p.weight[c]) + double(p.bias[c]), s = sigmoid(z);
      g[c] = double(dy[c]) * s * (1.0 + z * (1.0 - s)) * double(p.weight[c]);  // d loss / d x̂
      sum_g += g[c];
      sum_gx += g[c] * xhat[c];
    }
    const double mean_g = sum_g / double(W), mean_gx = sum_gx / double(W);
    for (int64_t c = 0; c < W; ++c) p.grad_x[r * W + c] = T(rstd * (g[c] - mean_g - xhat[c] * mean_gx));
  }
}

template void layer_norm_silu_fwd_reference<float>(const LayerNormSiluFwdParams<float>&);
template void layer_norm_silu_fwd_reference<double>(const LayerNormSiluFwdParams<double>&);
template void layer_norm_silu_bwd_reference<float>(const LayerNormSiluBwdParams<float>&);
template void layer_norm_silu_bwd_reference<double>(const LayerNormSiluBwdParams<double>&);

}  // namespace kernels
}  // namespace uma
