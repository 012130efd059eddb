// CPU reference of the fused edge gate; see edge_gate_reference.h.
#include "edge_gate_reference.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace uma {
namespace kernels {
namespace {

template <typename T>
T sigmoid(T z) {
  return T(1) / (T(1) + std::exp(-z));
}

void check(const char* what, int64_t n_edges, int64_t H, int64_t ld) {
  if (n_edges < 0 || H <= 0 || ld < 5 * H)
    throw std::invalid_argument(std::string(what) + ": bad sizes n_edges=" + std::to_string(n_edges) +
                                ", channels=" + std::to_string(H) + ", ld=" + std::to_string(ld));
}

}  // namespace

template <typename T>
void edge_gate_fwd_reference(const EdgeGateFwdParams<T>& p) {
  const int64_t H = p.channels;
  check("edge_gate_fwd_reference", p.n_edges, H, p.ld);
  for (int64_t e = 0; e < p.n_edges; ++e) {
    const T* row = p.m0g + e * p.ld;
    for (int64_t c = 0; c < H; ++c) {
      const T s1 = sigmoid(row[c]), s2 = sigmoid(row[H + c]);
      const T x0 = row[2 * H + c];
      p.out0[(e * 3 + 0) * H + c] = x0 * sigmoid(x0);
      p.out0[(e * 3 + 1) * H + c] = row[3 * H + c] * s1;
      p.out0[(e * 3 + 2) * H + c] = row[4 * H + c] * s2;
      for (int r = 0; r < 4; ++r)
        p.out1[(e * 4 + r) * H + c] = p.m1[(e * 4 + r) * H + c] * (kGateDegreeOfM1Row[r] == 1 ? s1 : s2);
      for (int r = 0; r < 2; ++r) p.out2[(e * 2 + r) * H + c] = p.m2[(e * 2 + r) * H + c] * s2;
    }
  }
}

template <typename T>
void edge_gate_bwd_reference(const EdgeGateBwdParams<T>& p) {
  const int64_t H = p.channels;
  check("edge_gate_bwd_reference", p.n_edges, H, p.ld);
  for (int64_t e = 0; e < p.n_edges; ++e) {
    const T* row = p.m0g + e * p.ld;
    T* g = p.grad_m0g + e * 5 * H;
    for (int64_t c = 0; c < H; ++c) {
      const T s1 = sigmoid(row[c]), s2 = sigmoid(row[H + c]);
      const T* G0 = p.grad_out0 + e * 3 * H + c;
      const T* G1 = p.grad_out1 + e * 4 * H + c;
      const T* G2 = p.grad_out2 + e * 2 * H + c;
      const T* x1 = p.m1 + e * 4 * H + c;
      const T* x2 = p.m2 + e * 2 * H + c;
      // Σ_r G[r] · x[r] over the rows of each degree (the forward multiplied them by s_l).
      T dot1 = G0[H] * row[3 * H + c], dot2 = G0[2 * H] * row[4 * H + c];
      for (int r = 0; r < 4; ++r) (kGateDegreeOfM1Row[r] == 1 ? dot1 : dot2) += G1[r * H] * x1[r * H];
      for (int r = 0; r < 2; ++r) dot2 += G2[r * H] * x2[r * H];
      g[c] = dot1 * s1 * (T(1) - s1);
      g[H + c] = dot2 * s2 * (T(1) - s2);
      const T x0 = row[2 * H + c], s0 = sigmoid(x0);
      g[2 * H + c] = G0[0] * s0 * (T(1) + x0 * (T(1) - s0));
      g[3 * H + c] = G0[H] * s1;
      g[4 * H + c] = G0[2 * H] * s2;
      for (int r = 0; r < 4; ++r) p.grad_m1[(e * 4 + r) * H + c] = G1[r * H] * (kGateDegreeOfM1Row[r] == 1 ? s1 : s2);
      for (int r = 0; r < 2; ++r) p.grad_m2[(e * 2 + r) * H + c] = G2[r * H] * s2;
    }
  }
}

template <typename T>
void edge_gate_factors_reference(const EdgeGateFactorsParams<T>& p) {
  const int64_t H = p.channels;
  check("edge_gate_factors_reference", p.n_edges, H, p.ld);
  for (int64_t e = 0; e < p.n_edges; ++e) {
    const T* row = p.m0g + e * p.ld;
    T* f = p.factors + e * 3 * H;
    for (int64_t c = 0; c < H; ++c) {
      f[c] = sigmoid(row[2 * H + c]);
      f[H + c] = sigmoid(row[c]);
      f[2 * H + c] = sigmoid(row[H + c]);
    }
  }
}

template void edge_gate_fwd_reference<float>(const EdgeGateFwdParams<float>&);
template void edge_gate_fwd_reference<double>(const EdgeGateFwdParams<double>&);
template void edge_gate_bwd_reference<float>(const EdgeGateBwdParams<float>&);
template void edge_gate_bwd_reference<double>(const EdgeGateBwdParams<double>&);
template void edge_gate_factors_reference<float>(const EdgeGateFactorsParams<float>&);
template void edge_gate_factors_reference<double>(const EdgeGateFactorsParams<double>&);

}  // namespace kernels
}  // namespace uma
