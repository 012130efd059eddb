// CPU reference of radial_gather; see radial_gather_reference.h.
#include "radial_gather_reference.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/gemm/tf32_round.h"
#include "kernels/wigner/wigner_reference.h"

namespace uma {
namespace kernels {

void radial_gather_reference(const RadialGatherParams& p, bool tf32_operands) {
  const char* why = radial_gather_refusal(p);
  if (*why) throw std::invalid_argument(std::string("radial_gather_reference: ") + why);
  const int64_t E = p.gather.n_edges, K = p.hidden_dim, Q = kRadialGroups * 2 * p.gather.channels;
  auto op = [&](float v) { return tf32_operands ? tf32_round(v) : v; };
  std::vector<float> radial(std::max<int64_t>(E * Q, 1));
  for (int64_t e = 0; e < E; ++e)
    for (int64_t q = 0; q < Q; ++q) {
      double sum = p.bias ? double(p.bias[q]) : 0.0;
      for (int64_t k = 0; k < K; ++k) sum += double(op(p.hidden[e * K + k])) * double(op(p.weight[q * K + k]));
      radial[e * Q + q] = static_cast<float>(sum);
    }
  GatherRotateFwdParams<float> g = p.gather;
  g.radial = radial.data();
  gather_rotate_fwd_reference(g);
  if (!g.round_tf32 || E == 0) return;
  const MGroupRows<float*> rows = resolve_rows(g.out, g.out_groups, 2 * g.channels);
  for (int64_t e = 0; e < E; ++e)
    for (int m = 0; m < kNumCoeffs; ++m) {
      float* row = rows.row(e, m, 2 * g.channels);
      for (int64_t c = 0; c < 2 * g.channels; ++c) row[c] = tf32_round(row[c]);
    }
}

}  // namespace kernels
}  // namespace uma
