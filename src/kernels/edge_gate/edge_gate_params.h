// Parameter blocks of the fused edge gate (fairchem nn/activation.py GateActivation(m_prime = True) between the two
// SO(2) convolutions of UMA's Edgewise layer, lmax = mmax = 2), on the M-major edge features kept as the three
// m-groups (engine/nn/layers.h MGroups):
//   input  m0g [E, ld]: columns [0, H) the l = 1 gate logits, [H, 2H) the l = 2 logits, [2H, 5H) the m = 0 rows
//          of degree 0, 1, 2 (conv 1's fc_m0 output as the GEMM wrote it); m1 [E,4,H] rows (l1, l2) of +m then
//          of -m; m2 [E,2,H] rows l2 of +m and -m
//   output o0 = [silu(m0 row 0), m0 row 1 · σ(g1), m0 row 2 · σ(g2)], o1 = m1 rows · σ(g of their degree),
//          o2 = m2 rows · σ(g2)
// Plain structs: pointers and sizes; every tensor dense and row-major except m0g's leading dimension.
#ifndef UMA_KERNELS_EDGE_GATE_PARAMS_H
#define UMA_KERNELS_EDGE_GATE_PARAMS_H

#include <cstdint>

namespace uma {
namespace kernels {

// Degree of row r of the m = 1 group: (l1, l2) for +m, then (l1, l2) for -m.
constexpr int kGateDegreeOfM1Row[4] = {1, 2, 1, 2};

template <typename T>
struct EdgeGateFwdParams {
  const T* m0g = nullptr;  // [n_edges, ld]: gate logits (2H) then the three m = 0 rows (3H)
  int64_t ld = 0;          // row stride of m0g, >= 5H
  const T* m1 = nullptr;   // [n_edges, 4, H]
  const T* m2 = nullptr;   // [n_edges, 2, H]
  T* out0 = nullptr;       // [n_edges, 3, H], written in full
  T* out1 = nullptr;       // [n_edges, 4, H]
  T* out2 = nullptr;       // [n_edges, 2, H]
  int64_t n_edges = 0;
  int64_t channels = 0;    // H, > 0
  // Store out0..2 rounded to TF32 (kernels/tf32_operand.cuh): they feed only conv 2's TF32 GEMMs. fp32 only.
  bool round_tf32 = false;
};

// Adjoint: with s_l = σ(g_l) and the incoming gradients G0, G1, G2 of out0..out2,
//   grad m0 row 0 = G0[0] · silu'(m0[0]),  grad m0 row l = G0[l] · s_l,  grad m1/m2 rows = G · s of their degree,
//   grad g_l = s_l (1 - s_l) · Σ over the rows r of degree l of G[r] · x[r]   (x the forward inputs),
// written into grad_m0g laid out like m0g (dense: ld = 5H) so that conv 1's GEMM backward reads one tensor.
template <typename T>
struct EdgeGateBwdParams {
  const T* grad_out0 = nullptr;  // [n_edges, 3, H]
  const T* grad_out1 = nullptr;  // [n_edges, 4, H]
  const T* grad_out2 = nullptr;  // [n_edges, 2, H]
  const T* m0g = nullptr;        // forward inputs, as in EdgeGateFwdParams
  int64_t ld = 0;
  const T* m1 = nullptr;
  const T* m2 = nullptr;
  T* grad_m0g = nullptr;         // [n_edges, 5H] dense, written in full
  T* grad_m1 = nullptr;          // [n_edges, 4, H]
  T* grad_m2 = nullptr;          // [n_edges, 2, H]
  int64_t n_edges = 0;
  int64_t channels = 0;
  // Store grad_m0g, grad_m1, grad_m2 rounded to TF32 (kernels/tf32_operand.cuh): they feed only conv 1's TF32 GEMMs.
  bool round_tf32 = false;
};

// The gate's factors, for K2's forward on the TMA host (kernels/edge_block/gate_conv2_launch.h gate_conv2_tf32_tma):
// the gate is one product per element, out = x * factor, with the factor of x's degree l and channel c:
//   factors[e, 0 * H + c] = σ(m0 row 0)   (silu(x) = x σ(x) for the l = 0 row)
//   factors[e, l * H + c] = σ(g_l)        l = 1, 2
// so the GEMM multiplies where the gate kernel would compute two sigmoids per element and N tile.
template <typename T>
struct EdgeGateFactorsParams {
  const T* m0g = nullptr;  // [n_edges, ld], as in EdgeGateFwdParams
  int64_t ld = 0;
  T* factors = nullptr;    // [n_edges, 3H] dense, written in full
  int64_t n_edges = 0;
  int64_t channels = 0;
};

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_EDGE_GATE_PARAMS_H
