// CPU reference of the fused gate + conv-2; see gate_conv2_reference.h.
#include "gate_conv2_reference.h"

#include <stdexcept>
#include <vector>

#include "kernels/edge_gate/edge_gate_reference.h"
#include "group_gemm_reference.h"

namespace uma {
namespace kernels {

template <typename T>
void gate_conv2_reference(const GateConv2Params<T>& p) {
  const int64_t H = p.channels, E = p.n_edges;
  for (int g = 0; g < kMGroups; ++g)
    if (p.n[g] <= 0 || !p.weight[g] || (E > 0 && !p.y[g]))
      throw std::invalid_argument("gate_conv2_reference: every m-group needs a weight, an output and n > 0");
  // The gate's outputs of all edges, through the edge gate's own reference (its checks included).
  std::vector<T> gated[kMGroups];
  EdgeGateFwdParams<T> gate;
  gate.m0g = p.m0g;
  gate.ld = p.ld;
  gate.m1 = p.m1;
  gate.m2 = p.m2;
  gate.n_edges = E;
  gate.channels = H;
  T** out[kMGroups] = {&gate.out0, &gate.out1, &gate.out2};
  for (int g = 0; g < kMGroups; ++g) {
    gated[g].resize(E * gate_conv2_k(g, H));
    *out[g] = gated[g].data();
  }
  edge_gate_fwd_reference(gate);
  for (int g = 0; g < kMGroups; ++g) {
    const int64_t K = gate_conv2_k(g, H);
    for (int64_t e = 0; e < E; ++e)
      group_gemm_row_reference(gated[g].data() + e * K, p.weight[g], K, p.n[g], g == 0 ? p.bias0 : nullptr,
                               p.tf32_operands, p.y[g] + e * p.n[g]);
  }
}

template void gate_conv2_reference<float>(const GateConv2Params<float>&);
template void gate_conv2_reference<double>(const GateConv2Params<double>&);

}  // namespace kernels
}  // namespace uma
