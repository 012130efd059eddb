// CPU reference of the fused equivariant RMS norm; see rms_norm_sh_reference.h.
#include "rms_norm_sh_reference.h"

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace uma {
namespace kernels {
namespace {

constexpr int kRows = kRmsNormShRows;
constexpr int kDegreeOfRow[kRows] = {0, 1, 1, 1, 2, 2, 2, 2, 2};
constexpr double kBalance[kRows] = {1.0 / 3,  1.0 / 9,  1.0 / 9,  1.0 / 9, 1.0 / 15,
                                    1.0 / 15, 1.0 / 15, 1.0 / 15, 1.0 / 15};  // 1/((2l+1)(lmax+1))

void check(const char* what, int64_t nodes, int64_t C, int64_t ld, double eps) {
  if (nodes < 0 || C <= 0 || ld < kRows * C || !(eps >= 0))
    throw std::invalid_argument(std::string(what) + ": bad sizes nodes=" + std::to_string(nodes) +
                                ", channels=" + std::to_string(C) + ", ld=" + std::to_string(ld) +
                                ", eps=" + std::to_string(eps));
}

// f (the l = 0 row centred) of one node in double, and s = 1/sqrt(norm + eps).
template <typename T>
double centred_scale(const T* x, int64_t C, double eps, std::vector<double>& f) {
  double sum0 = 0;
  for (int64_t c = 0; c < C; ++c) sum0 += double(x[c]);
  const double mean0 = sum0 / double(C);
  double sq = 0;
  for (int i = 0; i < kRows; ++i) {
    double row = 0;
    for (int64_t c = 0; c < C; ++c) {
      const double v = double(x[i * C + c]) - (i == 0 ? mean0 : 0.0);
      f[i * C + c] = v;
      row += v * v;
    }
    sq += kBalance[i] * row;
  }
  return 1.0 / std::sqrt(sq / double(C) + eps);
}

}  // namespace

template <typename T>
void rms_norm_sh_fwd_reference(const RmsNormShFwdParams<T>& p) {
  check("rms_norm_sh_fwd_reference", p.nodes, p.channels, p.ld, p.eps);
  const int64_t C = p.channels;
  std::vector<double> f(kRows * C);
  for (int64_t n = 0; n < p.nodes; ++n) {
    const double s = centred_scale(p.x + n * p.ld, C, p.eps, f);
    T* y = p.y + n * kRows * C;
    for (int i = 0; i < kRows; ++i)
      for (int64_t c = 0; c < C; ++c) {
        double v = f[i * C + c] * s * double(p.weight[kDegreeOfRow[i] * C + c]);
        if (i == 0) v += double(p.bias[c]) + (p.extra_bias ? double(p.extra_bias[c]) : 0.0);
        y[i * C + c] = T(v);
      }
  }
}

template <typename T>
void rms_norm_sh_bwd_reference(const RmsNormShBwdParams<T>& p) {
  check("rms_norm_sh_bwd_reference", p.nodes, p.channels, p.ld, p.eps);
  const int64_t C = p.channels;
  std::vector<double> f(kRows * C), a(kRows * C), df(kRows * C);
  for (int64_t n = 0; n < p.nodes; ++n) {
    const double s = centred_scale(p.x + n * p.ld, C, p.eps, f);
    const T* g = p.grad_y + n * kRows * C;
    double D = 0;  // Σ a·f = d loss / d s
    for (int i = 0; i < kRows; ++i)
      for (int64_t c = 0; c < C; ++c) {
        a[i * C + c] = double(g[i * C + c]) * double(p.weight[kDegreeOfRow[i] * C + c]);
        D += a[i * C + c] * f[i * C + c];
      }
    const double k = s * s * s / double(C) * D;  // d loss / d norm = -s³/2 · D; d norm / d f_i = 2 bal_i f_i / C
    double sum_df0 = 0;
    for (int i = 0; i < kRows; ++i)
      for (int64_t c = 0; c < C; ++c) {
        df[i * C + c] = s * a[i * C + c] - k * kBalance[i] * f[i * C + c];
        if (i == 0) sum_df0 += df[c];
      }
    const double mean_df0 = sum_df0 / double(C);  // the centring's adjoint
    T* dx = p.grad_x + n * kRows * C;
    for (int i = 0; i < kRows; ++i)
      for (int64_t c = 0; c < C; ++c) dx[i * C + c] = T(df[i * C + c] - (i == 0 ? mean_df0 : 0.0));
  }
}

template void rms_norm_sh_fwd_reference<float>(const RmsNormShFwdParams<float>&);
template void rms_norm_sh_fwd_reference<double>(const RmsNormShFwdParams<double>&);
template void rms_norm_sh_bwd_reference<float>(const RmsNormShBwdParams<float>&);
template void rms_norm_sh_bwd_reference<double>(const RmsNormShBwdParams<double>&);

}  // namespace kernels
}  // namespace uma
