// Parameter blocks for the Wigner rotation kernels of the eSCN-MD Edgewise layer (lmax = mmax = 2):
//   gather_rotate        out[e] = P · D_e · [x[src[e]] | x[dst[e]]]          (node → edge, M-ordered)
//   rotate_back_scatter  out[n] = Σ_{e: dst[e]=n} Winv_e · Pᵀ · msg[e]        (edge → node, L-ordered)
// and their adjoints. P is the L→M permutation of fairchem's CoefficientMapping (common/so3.py); the fused
// kernels mirror fairchem's models/uma/triton/node_to_edge_wigner_permute.py and
// permute_wigner_inv_edge_to_node.py, with the node scatter folded in.
//
// Plain structs: pointers and sizes only, no Torch, no CUDA types. Every tensor is dense and row-major
// (the caller makes it contiguous); rows of 9 coefficients are L-major (l, m) = (0,0), (1,-1..1), (2,-2..2)
// unless a field says M-ordered. Offsets are computed in int64, so E·9·2C may exceed 2³¹.
#ifndef UMA_KERNELS_WIGNER_PARAMS_H
#define UMA_KERNELS_WIGNER_PARAMS_H

#include <cstdint>

namespace uma {
namespace kernels {

// Number of spherical-harmonic coefficients for lmax = 2: (lmax + 1)².
constexpr int kNumCoeffs = 9;
// Non-zeros of a block-diagonal Wigner matrix for lmax = 2: 1² + 3² + 5².
constexpr int kWignerNnz = 35;
static_assert(kNumCoeffs == 1 + 3 + 5, "lmax = 2: blocks of size 1, 3 and 5 fill the 9 coefficients");
static_assert(kWignerNnz == 1 * 1 + 3 * 3 + 5 * 5, "only the three diagonal blocks are stored non-zeros");

// L→M order (fairchem CoefficientMapping): M-row k holds L-row kLtoM[k].
constexpr int kLtoM[kNumCoeffs] = {0, 2, 6, 3, 7, 1, 5, 8, 4};
// M→L gather (fairchem triton/constants.py M_TO_L_GATHER_IDX): L-row i sits in M-row kMtoL[i].
constexpr int kMtoL[kNumCoeffs] = {0, 5, 1, 3, 8, 6, 2, 4, 7};
// Radial scale groups of the optional conv-1 radial factor (fairchem SO2_Convolution with rad_func, as in
// fairchem's fused wigner_conv1 kernel): M-row k takes group kRadialGroupOfM[k] of a per-edge [6, 2*channels]
// radial tensor — m = 0 rows (l = 0, 1, 2) groups 0..2, the +m and -m rows of m = 1 (l = 1, 2) groups 3, 4, and
// both m = 2 rows group 5.
constexpr int kRadialGroups = 6;
constexpr int kRadialGroupOfM[kNumCoeffs] = {0, 1, 2, 3, 4, 3, 4, 5, 5};

// How edge→node sums are formed.
enum class ScatterMode {
  kAtomic,         // one pass over edges, atomicAdd into the node rows; order (and last bits) vary per run
  kDeterministic,  // one pass over nodes, summing their edges in CSR order; bitwise reproducible
};

// Edges grouped by one endpoint, for the deterministic scatters. Edge ids of node n are
// perm[row_ptr[n]], …, perm[row_ptr[n+1] - 1], summed in that order.
struct EdgeCsr {
  const int64_t* row_ptr = nullptr;  // [n_atoms + 1], row_ptr[0] = 0, row_ptr[n_atoms] = n_edges, non-decreasing
  const int64_t* perm = nullptr;     // [n_edges] edge ids sorted by the endpoint; nullptr = identity (edges already sorted)
};

// Forward of gather_rotate: out[e, k, c] = Σ_j D_e[kLtoM[k], j] · x[src[e], j, c] for c < C, and the same with
// x[dst[e]] in channels C..2C-1. No atomics: every output element is written exactly once.
template <typename T>
struct GatherRotateFwdParams {
  const T* x = nullptr;          // [n_atoms, 9, channels] node features, L-ordered rows
  const int64_t* src = nullptr;  // [n_edges] source atom j of each edge, in [0, n_atoms)
  const int64_t* dst = nullptr;  // [n_edges] target atom i of each edge, in [0, n_atoms)
  const T* wigner = nullptr;     // [n_edges, 9, 9] block-diagonal D_e, L-ordered; only the 35 block entries are read
  T* out = nullptr;              // [n_edges, 9, 2*channels] M-ordered rows; written in full
  int64_t n_atoms = 0;           // rows of x
  int64_t n_edges = 0;           // E
  int64_t channels = 0;          // C (sphere channels), > 0
  // Optional [n_edges, kRadialGroups, 2*channels]: out[e, k, :] is multiplied by radial[e, kRadialGroupOfM[k], :]
  // (the conv-1 radial scale, so that the SO(2) convolution reads the scaled message directly). nullptr = none.
  const T* radial = nullptr;
};

// Backward of gather_rotate. With g = grad_out[e] and gᴸ[i] = g[kMtoL[i]] (rows back in L order):
//   grad_x[src[e], j, c] += Σ_i D_e[i, j] · gᴸ[i, c],   grad_x[dst[e], j, c] += Σ_i D_e[i, j] · gᴸ[i, C + c]
//   grad_wigner[e, i, j]  = Σ_c gᴸ[i, c] · x[src, j, c] + gᴸ[i, C + c] · x[dst, j, c]   inside the blocks, else 0.
template <typename T>
struct GatherRotateBwdParams {
  const T* grad_out = nullptr;   // [n_edges, 9, 2*channels] M-ordered, gradient of GatherRotateFwdParams::out
  const T* x = nullptr;          // [n_atoms, 9, channels] forward input (needed for grad_wigner only)
  const int64_t* src = nullptr;  // [n_edges] as in the forward
  const int64_t* dst = nullptr;  // [n_edges] as in the forward
  const T* wigner = nullptr;     // [n_edges, 9, 9] as in the forward
  T* grad_x = nullptr;           // [n_atoms, 9, channels] overwritten with the sum; nullptr = not wanted
  T* grad_wigner = nullptr;      // [n_edges, 9, 9] overwritten in full (zeros off the blocks); nullptr = not wanted
  EdgeCsr src_csr;               // edges grouped by src (ScatterMode::kDeterministic only)
  EdgeCsr dst_csr;               // edges grouped by dst (ScatterMode::kDeterministic only)
  int64_t n_atoms = 0;           // rows of x and grad_x
  int64_t n_edges = 0;           // E
  int64_t channels = 0;          // C, > 0
  // With the forward's radial: grad_out is first multiplied by the radial scale (then as above), and
  // grad_radial[e, g, c] = Σ_{k: group g} grad_out[e, k, c] · (P D_e x)[e, k, c] is overwritten in full.
  // radial needs grad_radial and grad_wigner (the engine always wants both).
  const T* radial = nullptr;     // [n_edges, kRadialGroups, 2*channels] or nullptr
  T* grad_radial = nullptr;      // [n_edges, kRadialGroups, 2*channels]
};

// Forward of rotate_back_scatter: out[n, i, c] = Σ_{e: dst[e]=n} Σ_k Winv_e[i, kLtoM[k]] · msg[e, k, c].
template <typename T>
struct RotateBackScatterFwdParams {
  const T* msg = nullptr;         // [n_edges, 9, channels] M-ordered edge messages
  const T* wigner_inv = nullptr;  // [n_edges, 9, 9] block-diagonal Winv_e (D_eᵀ · envelope), L-ordered; 35 entries read
  const int64_t* dst = nullptr;   // [n_edges] target atom of each edge, in [0, n_atoms)
  T* out = nullptr;               // [n_atoms, 9, channels] L-ordered, overwritten (atoms without edges get 0)
  EdgeCsr dst_csr;                // edges grouped by dst (ScatterMode::kDeterministic only)
  int64_t n_atoms = 0;            // rows of out
  int64_t n_edges = 0;            // E
  int64_t channels = 0;           // C, > 0
};

// Backward of rotate_back_scatter. With h = grad_out[dst[e]]:
//   grad_msg[e, k, c]            = Σ_i Winv_e[i, kLtoM[k]] · h[i, c]
//   grad_wigner_inv[e, i, m]     = Σ_c h[i, c] · msg[e, kMtoL[m], c]   inside the blocks, else 0.
// Pure gather per edge: no scatter, hence no deterministic variant.
template <typename T>
struct RotateBackScatterBwdParams {
  const T* grad_out = nullptr;    // [n_atoms, 9, channels] gradient of RotateBackScatterFwdParams::out
  const T* msg = nullptr;         // [n_edges, 9, channels] forward input (needed for grad_wigner_inv only)
  const T* wigner_inv = nullptr;  // [n_edges, 9, 9] as in the forward
  const int64_t* dst = nullptr;   // [n_edges] as in the forward
  T* grad_msg = nullptr;          // [n_edges, 9, channels] M-ordered, written in full; nullptr = not wanted
  T* grad_wigner_inv = nullptr;   // [n_edges, 9, 9] written in full (zeros off the blocks); nullptr = not wanted
  int64_t n_atoms = 0;            // rows of grad_out
  int64_t n_edges = 0;            // E
  int64_t channels = 0;           // C, > 0
};

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_WIGNER_PARAMS_H
