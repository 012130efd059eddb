// Parameters of the fused edge-block kernel K2's forward (docs/fused-edge-block.md): the edge gate between the two
// SO(2) convolutions (kernels/edge_gate/, fairchem GateActivation) feeding convolution 2's three m-group GEMMs,
// without the gated [E, 9, H] message in memory. With gate_g the edge gate's output of m-group g
// (edge_gate_params.h: [silu(m0 row 0), m0 row l · σ(g_l)], m1 and m2 rows · σ(g of their degree)):
//   A_g[e, r * H + c] = gate_g[e, r, c]                  r < m_group_rows(g), c < H
//   y_g[e, n]         = sum_k A_g[e, k] W_g[n, k]  (+ bias0[n] for g = 0)
// W_0 [n_0, 3H]: fc_m0; W_1 [n_1, 4H]: the m = 1 block weight [[W1, -W2], [W2, W1]] on [x_+1 | x_-1]; W_2 [n_2, 2H]:
// the m = 2 block weight. y_g [E, n_g] row-major: what the engine's so2_conv (engine/nn/layers.h) computes from the
// edge gate's output. Only fp32 with TF32 tensor cores on the GPU (its A is rounded in registers: the TF32 mode).
// Plain struct: pointers and sizes only, no Torch, no CUDA types.
#ifndef UMA_KERNELS_EDGE_BLOCK_GATE_CONV2_PARAMS_H
#define UMA_KERNELS_EDGE_BLOCK_GATE_CONV2_PARAMS_H

#include <cstdint>

#include "kernels/wigner/wigner_params.h"

namespace uma {
namespace kernels {

template <typename T>
struct GateConv2Params {
  // Conv 1's output as the edge gate reads it (EdgeGateFwdParams): m0g [E, ld] (2H gate logits, then the three
  // m = 0 rows), m1 [E, 4, H], m2 [E, 2, H].
  const T* m0g = nullptr;
  int64_t ld = 0;
  const T* m1 = nullptr;
  const T* m2 = nullptr;
  int64_t n_edges = 0;
  int64_t channels = 0;                                     // H
  const T* weight[kMGroups] = {nullptr, nullptr, nullptr};  // W_g row-major [n_g][m_group_rows(g) * H]
  int64_t n[kMGroups] = {0, 0, 0};                          // output widths n_g, > 0
  const T* bias0 = nullptr;                                 // [n_0] or nullptr
  T* y[kMGroups] = {nullptr, nullptr, nullptr};             // [n_edges][n_g] row-major
  // The TF32 mode's operands: every A and W element rounded to TF32 (kernels/gemm/tf32_round.h, cvt.rna) before its
  // product, fp32 sums. false: exact products.
  bool tf32_operands = false;
};

// Row length k_g of W_g for `channels` H.
constexpr int64_t gate_conv2_k(int g, int64_t channels) { return m_group_rows(g) * channels; }

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_EDGE_BLOCK_GATE_CONV2_PARAMS_H
