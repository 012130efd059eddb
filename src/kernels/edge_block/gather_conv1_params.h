// Parameters of the fused edge-block kernel K1 (docs/fused-edge-block.md): the node -> edge gather with Wigner
// rotation and conv-1 radial scale (wigner/ gather_rotate) feeding SO(2) convolution 1's three m-group GEMMs,
// without the [E, 9, 2C] message in memory. With msg[e] = gather_rotate's M-ordered output rows (2C long: source
// half, then target half):
//   A_g[e, j * 2C + c] = msg[e, m_group_first_row(g) + j, c]        j < m_group_rows(g), c < 2C
//   y_g[e, n]          = sum_k A_g[e, k] W_g[n, k]  (+ bias0[n] for g = 0)
// W_0 [n_0, 3 * 2C]: fc_m0 (gate logits first); W_1 [n_1, 4 * 2C]: the m = 1 block weight [[W1, -W2], [W2, W1]] on
// [x_+1 | x_-1]; W_2 [n_2, 2 * 2C]: the m = 2 block weight. y_g [E, n_g] row-major: what the engine's so2_conv
// computes (engine/nn/layers.h; MixedLinear::block_weight) from the message gather_rotate writes.
// Plain struct: pointers and sizes only, no Torch, no CUDA types.
#ifndef UMA_KERNELS_EDGE_BLOCK_GATHER_CONV1_PARAMS_H
#define UMA_KERNELS_EDGE_BLOCK_GATHER_CONV1_PARAMS_H

#include <cstdint>

#include "kernels/wigner/wigner_params.h"

namespace uma {
namespace kernels {

template <typename T>
struct GatherConv1Params {
  // x, src, dst, wigner, radial (optional), n_atoms, n_edges, channels as for gather_rotate; out and out_groups are
  // not used (the message is never stored).
  GatherRotateFwdParams<T> gather;
  const T* weight[kMGroups] = {nullptr, nullptr, nullptr};  // W_g row-major [n_g][m_group_rows(g) * 2 * channels]
  int64_t n[kMGroups] = {0, 0, 0};                          // output widths n_g, > 0
  const T* bias0 = nullptr;                                 // [n_0] or nullptr
  T* y[kMGroups] = {nullptr, nullptr, nullptr};             // [n_edges][n_g] row-major
  // The TF32 mode's operands: every A and W element rounded to TF32 (kernels/gemm/tf32_round.h, cvt.rna) before its
  // product, fp32 sums. false: exact products (the strict and fp64 forms).
  bool tf32_operands = false;
};

// Row length k_g of W_g for `channels` C.
constexpr int64_t gather_conv1_k(int g, int64_t channels) { return m_group_rows(g) * 2 * channels; }

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_EDGE_BLOCK_GATHER_CONV1_PARAMS_H
