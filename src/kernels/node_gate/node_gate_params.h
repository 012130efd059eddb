// Parameter blocks of the fused node gate (fairchem escn_md_block.py SpectralAtomwise: the GateActivation between
// so3_linear_1 and so3_linear_2 of every layer, lmax = 2). Per node, for h [9, H] (rows L-major: l = 0 row 0, l = 1
// rows 1..3, l = 2 rows 4..8) and the scalar MLP's pre-activation gate logits z [2H] (z_1 = z[0, H), z_2 = z[H, 2H)):
//   a_l = silu(z_l),  s_l = σ(a_l)                           (the MLP's SiLU, then the gate's sigmoid)
//   out row 0 = silu(h_0),  out rows of degree l = h_r · s_l   (l = 1: rows 1..3, l = 2: rows 4..8)
// Adjoint, for the output gradient G [9, H]:
//   dh_0 = G_0 · silu'(h_0),  dh_r = G_r · s_l,  silu'(x) = σ(x) (1 + x (1 - σ(x)))
//   dz_l = silu'(z_l) · s_l (1 - s_l) · Σ over the rows r of degree l of G_r · h_r
// The node-feature tensors ([nodes, 9, H]: h, out, G, dh) each have their own node and row strides (in elements;
// channels dense), so that a GEMM output laid out [9, nodes, H] is read as it is; the logits and their gradient are
// [nodes, 2H] rows (z with a row stride). Plain structs: pointers and sizes.
#ifndef UMA_KERNELS_NODE_GATE_PARAMS_H
#define UMA_KERNELS_NODE_GATE_PARAMS_H

#include <cstdint>

namespace uma {
namespace kernels {

constexpr int kNodeGateRows = 9;  // (lmax + 1)² coefficients per node, lmax = 2

// Degree of L-major row r (0 for row 0, 1 for rows 1..3, 2 for rows 4..8).
constexpr int node_gate_degree_of_row(int r) { return r == 0 ? 0 : (r < 4 ? 1 : 2); }

// One [nodes, 9, H] tensor: element (n, r, c) at p[n·node_stride + r·row_stride + c].
template <typename T>
struct NodeRows {
  T* p = nullptr;
  int64_t node_stride = 0;
  int64_t row_stride = 0;
};

template <typename T>
struct NodeGateFwdParams {
  NodeRows<const T> h;       // [nodes, 9, H] so3_linear_1's output
  const T* z = nullptr;      // [nodes, ld_z]: the first 2H columns are the pre-SiLU gate logits
  int64_t ld_z = 0;          // row stride of z, >= 2H
  NodeRows<T> out;           // [nodes, 9, H], written in full
  int64_t n_nodes = 0;
  int64_t channels = 0;      // H, > 0
};

template <typename T>
struct NodeGateBwdParams {
  NodeRows<const T> grad_out;  // [nodes, 9, H] G
  NodeRows<const T> h;         // forward inputs, as in NodeGateFwdParams
  const T* z = nullptr;
  int64_t ld_z = 0;
  NodeRows<T> grad_h;          // [nodes, 9, H], written in full
  T* grad_z = nullptr;         // [nodes, 2H] dense, written in full
  int64_t n_nodes = 0;
  int64_t channels = 0;
};

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_NODE_GATE_PARAMS_H
