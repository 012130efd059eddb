// What K2's two Hopper hosts (kernels/gemm/hopper/gate_conv2_wgmma.cu, gate_conv2_tma.cu) share: the GEMM of each
// m-group over conv 1's output, and the operand rules that do not depend on the host. Plain C++, no CUDA.
#ifndef UMA_KERNELS_EDGE_BLOCK_GATE_CONV2_GROUPS_H
#define UMA_KERNELS_EDGE_BLOCK_GATE_CONV2_GROUPS_H

#include <cstdint>

#include "gate_conv2_params.h"
#include "kernels/gemm/split_tf32_gemm_params.h"

namespace uma {
namespace kernels {

// The GEMM of m-group g: A = its rows of conv 1's output (m = 0 from column 2H of m0g, after the gate logits),
// B = W_g as weight rows, D = y_g, with `bias` (bias0 for g = 0, or what the host adds instead).
inline SplitTf32GemmParams gate_conv2_group_gemm(const GateConv2Params<float>& p, int g, const float* bias) {
  const int64_t H = p.channels;
  SplitTf32GemmParams q;
  q.m = p.n_edges;
  q.n = p.n[g];
  q.k = gate_conv2_k(g, H);
  q.a = g == 0 ? p.m0g + 2 * H : g == 1 ? p.m1 : p.m2;
  q.lda = g == 0 ? p.ld : q.k;
  q.b = p.weight[g];
  q.ldb = q.k;
  q.b_layout = GemmBLayout::kWeightRows;
  q.bias = bias;
  q.d = p.y[g];
  q.ldd = q.n;
  return q;
}

// The rules of both hosts before their GEMMs' own: H a multiple of 32 (a K step of 32 then lies in one row of one
// degree), ld >= 5H and a multiple of 4, m0g 16-byte aligned, every input, weight and output given.
inline bool gate_conv2_operands_valid(const GateConv2Params<float>& p) {
  if (p.channels <= 0 || p.channels % 32 != 0 || p.channels > (1 << 20) || p.n_edges < 0 || !p.m0g || !p.m1 ||
      !p.m2 || p.ld < 5 * p.channels || p.ld % 4 != 0 || reinterpret_cast<uintptr_t>(p.m0g) % 16 != 0)
    return false;
  for (int g = 0; g < kMGroups; ++g)
    if (!p.weight[g] || !p.y[g] || p.n[g] <= 0) return false;
  return true;
}

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_EDGE_BLOCK_GATE_CONV2_GROUPS_H
