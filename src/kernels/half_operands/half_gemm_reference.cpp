// CPU reference of half_gemm (half_gemm_reference.h).
#include "half_gemm_reference.h"

#include <cmath>
#include <vector>

#include "half_bits.h"

namespace uma {
namespace kernels {

void half_gemm_reference(const HalfGemmParams& p, double* scale) {
  std::vector<double> b(static_cast<size_t>(p.n * p.k));
  for (int64_t j = 0; j < p.n; ++j)
    for (int64_t k = 0; k < p.k; ++k) b[j * p.k + k] = float_of_half_bits(p.b[j * p.ldb + k]);
  std::vector<double> a(static_cast<size_t>(p.k));
  for (int64_t i = 0; i < p.m; ++i) {
    for (int64_t k = 0; k < p.k; ++k) a[k] = float_of_half_bits(p.a[i * p.lda + k]);
    for (int64_t j = 0; j < p.n; ++j) {
      double sum = 0, size = 0;
      for (int64_t k = 0; k < p.k; ++k) {
        const double t = a[k] * b[j * p.k + k];
        sum += t;
        size += std::fabs(t);
      }
      const double bias = p.bias ? double(p.bias[j]) : 0.0;
      p.d[i * p.ldd + j] = static_cast<float>(double(p.alpha) * sum + bias);
      if (scale) scale[i * p.n + j] = std::fabs(double(p.alpha)) * size + std::fabs(bias);
    }
  }
}

}  // namespace kernels
}  // namespace uma
