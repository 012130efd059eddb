// CPU reference of the fused gather + conv-1; see gather_conv1_reference.h.
#include "gather_conv1_reference.h"

#include <stdexcept>
#include <vector>

#include "group_gemm_reference.h"
#include "kernels/wigner/wigner_reference.h"

namespace uma {
namespace kernels {

template <typename T>
void gather_conv1_reference(const GatherConv1Params<T>& p) {
  const int64_t C = p.gather.channels, E = p.gather.n_edges;
  for (int g = 0; g < kMGroups; ++g)
    if (p.n[g] <= 0 || !p.weight[g] || (E > 0 && !p.y[g]))
      throw std::invalid_argument("gather_conv1_reference: every m-group needs a weight, an output and n > 0");
  // One edge at a time through gather_rotate's own reference (its checks and its message, dense M-ordered rows).
  std::vector<T> msg(kNumCoeffs * 2 * C);
  for (int64_t e = 0; e < E; ++e) {
    GatherRotateFwdParams<T> one = p.gather;
    one.src = p.gather.src + e;
    one.dst = p.gather.dst + e;
    one.wigner = p.gather.wigner + e * kNumCoeffs * kNumCoeffs;
    one.radial = p.gather.radial ? p.gather.radial + e * kRadialGroups * 2 * C : nullptr;
    one.n_edges = 1;
    one.out = msg.data();
    one.out_groups = MGroupRows<T*>();
    gather_rotate_fwd_reference(one);
    for (int g = 0; g < kMGroups; ++g) {
      const int64_t K = gather_conv1_k(g, C);
      const T* a = msg.data() + m_group_first_row(g) * 2 * C;  // the group's rows are adjacent: A_g[e] is contiguous
      group_gemm_row_reference(a, p.weight[g], K, p.n[g], g == 0 ? p.bias0 : nullptr, p.tf32_operands,
                               p.y[g] + e * p.n[g]);
    }
  }
}

template void gather_conv1_reference<float>(const GatherConv1Params<float>&);
template void gather_conv1_reference<double>(const GatherConv1Params<double>&);

}  // namespace kernels
}  // namespace uma
