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

// Qualifier for the small index helpers below, which host code (launchers, CPU reference) and kernels share.
#ifdef __CUDACC__
#define UMA_HOST_DEVICE __host__ __device__
#else
#define UMA_HOST_DEVICE
#endif

// The M-ordered edge rows that gather_rotate writes and rotate_back_scatter reads come as the three m-groups the
// SO(2) convolutions work on (engine/nn/layers.h MGroups): m = 0 holds M-rows 0..2, m = 1 rows 3..6, m = 2 rows 7..8.
constexpr int kMGroups = 3;
UMA_HOST_DEVICE constexpr int m_group_of_row(int k) { return k < 3 ? 0 : k < 7 ? 1 : 2; }
UMA_HOST_DEVICE constexpr int m_group_first_row(int g) { return g == 0 ? 0 : g == 1 ? 3 : 7; }
UMA_HOST_DEVICE constexpr int m_group_rows(int g) { return g == 0 ? 3 : g == 1 ? 4 : 2; }
static_assert(m_group_first_row(2) + m_group_rows(2) == kNumCoeffs && m_group_of_row(6) == 1 &&
                  m_group_of_row(7) == 2,
              "the three m-groups tile the nine M-rows");

// Where each m-group of an [E,9,R] edge tensor lives: group g of edge e starts at base[g] + e * edge_stride[g], its
// rows R apart (R = C for rotate_back_scatter's message, 2C for gather_rotate's output and its gradient). Reading the groups where the GEMMs wrote them (and writing their gradients as separate
// dense tensors) spares the concatenation into one [E,9,C] tensor before the scatter and the split of its
// gradient after (fairchem PR #2073 fuses its GEMM-output unpack into its scatter kernel for the same reason).
// P is `const T*` for inputs, `T*` for outputs. A dense [E,9,C] buffer is dense_m_groups(ptr, C).
// rotate_back_scatter (only) also takes ABSENT groups, base[g] == nullptr: an input group that is absent reads as
// zeros (its rows are never loaded), an absent gradient group is not written. The edge-degree embedding's message
// has only m = 0 rows; passing m = 1, 2 as absent spares materialising [E,6,C] of zeros (and reading them).
template <typename P>
struct MGroupRows {
  P base[kMGroups] = {nullptr, nullptr, nullptr};
  int64_t edge_stride[kMGroups] = {0, 0, 0};
  UMA_HOST_DEVICE bool present(int g) const { return base[g] != nullptr; }
  // At least one group present (all three for a dense buffer).
  UMA_HOST_DEVICE bool defined() const { return base[0] != nullptr || base[1] != nullptr || base[2] != nullptr; }
  // First element of M-row k of edge e.
  UMA_HOST_DEVICE P row(int64_t e, int k, int64_t channels) const {
    const int g = m_group_of_row(k);
    return base[g] + e * edge_stride[g] + (k - m_group_first_row(g)) * channels;
  }
};

template <typename P>
MGroupRows<P> dense_m_groups(P msg, int64_t channels) {
  MGroupRows<P> r;
  for (int g = 0; g < kMGroups; ++g) {
    r.base[g] = msg ? msg + m_group_first_row(g) * channels : nullptr;
    r.edge_stride[g] = kNumCoeffs * channels;
  }
  return r;
}

// The message rows an operation reads (or writes) through: the dense buffer if given, else the caller's m-groups.
template <typename P>
MGroupRows<P> resolve_rows(P dense, const MGroupRows<P>& groups, int64_t channels) {
  return dense ? dense_m_groups(dense, channels) : groups;
}

// Every group present, its rows not overlapping the next edge's (a stride below rows·C would make edges alias).
template <typename P>
bool rows_valid(const MGroupRows<P>& r, int64_t channels) {
  for (int g = 0; g < kMGroups; ++g)
    if (!r.base[g] || r.edge_stride[g] < m_group_rows(g) * channels) return false;
  return true;
}

// As rows_valid, but groups may be absent (rotate_back_scatter): at least one present, and every present one with
// rows not overlapping the next edge's. With no group present there is nothing to read or write, which is a caller
// error rather than an all-zero message.
template <typename P>
bool present_rows_valid(const MGroupRows<P>& r, int64_t channels) {
  if (!r.defined()) return false;
  for (int g = 0; g < kMGroups; ++g)
    if (r.base[g] && r.edge_stride[g] < m_group_rows(g) * channels) return false;
  return true;
}

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
  T* out = nullptr;              // [n_edges, 9, 2*channels] M-ordered rows, written in full; or nullptr and out_groups
  MGroupRows<T*> out_groups;     // the same rows (each 2*channels long) as three m-groups, used when out is nullptr
  int64_t n_atoms = 0;           // rows of x
  int64_t n_edges = 0;           // E
  int64_t channels = 0;          // C (sphere channels), > 0
  // Optional [n_edges, kRadialGroups, 2*channels]: out[e, k, :] is multiplied by radial[e, kRadialGroupOfM[k], :]
  // (the conv-1 radial scale, so that the SO(2) convolution reads the scaled message directly). nullptr = none.
  const T* radial = nullptr;
  // Store out rounded to TF32 (kernels/tf32_operand.cuh): it feeds only conv 1's TF32 GEMMs. fp32 only.
  bool round_tf32 = false;
  // Or store it as TF32 values held in fp16 (kernels/half_operands/half_operand.cuh) for conv 1's f16 GEMMs: when
  // out_half_groups is given (all three groups; fp32 with round_tf32 only), the rows go there as fp16 bits and out /
  // out_groups are not used. half_overflow (device memory, may be null) is set to 1 if a value overflowed fp16.
  MGroupRows<uint16_t*> out_half_groups;
  unsigned* half_overflow = nullptr;
};

// Backward of gather_rotate. With g = grad_out[e] and gᴸ[i] = g[kMtoL[i]] (rows back in L order):
//   grad_x[src[e], j, c] += Σ_i D_e[i, j] · gᴸ[i, c],   grad_x[dst[e], j, c] += Σ_i D_e[i, j] · gᴸ[i, C + c]
//   grad_wigner[e, i, j]  = Σ_c gᴸ[i, c] · x[src, j, c] + gᴸ[i, C + c] · x[dst, j, c]   inside the blocks, else 0.
template <typename T>
struct GatherRotateBwdParams {
  const T* grad_out = nullptr;   // [n_edges, 9, 2*channels] M-ordered, gradient of GatherRotateFwdParams::out
  MGroupRows<const T*> grad_out_groups;  // or as three m-groups of 2*channels-long rows (used when grad_out is nullptr)
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
  // Store grad_radial rounded to TF32 (kernels/tf32_operand.cuh): it feeds only the radial MLP's TF32 GEMM. fp32 only.
  bool round_tf32 = false;
};

// Forward of rotate_back_scatter: out[n, i, c] = Σ_{e: dst[e]=n} Σ_k Winv_e[i, kLtoM[k]] · msg[e, k, c].
template <typename T>
struct RotateBackScatterFwdParams {
  const T* msg = nullptr;         // [n_edges, 9, channels] M-ordered edge messages, dense; or nullptr and msg_groups
  MGroupRows<const T*> msg_groups;  // the same rows as three m-groups (used when msg is nullptr); absent ones are zero
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
// Pure gather per edge: no scatter, hence no deterministic variant. With absent message groups (zero rows), their
// columns of grad_wigner_inv are 0; grad_msg is written for the present groups of grad_msg_groups only.
template <typename T>
struct RotateBackScatterBwdParams {
  const T* grad_out = nullptr;    // [n_atoms, 9, channels] gradient of RotateBackScatterFwdParams::out
  const T* msg = nullptr;         // [n_edges, 9, channels] forward input (needed for grad_wigner_inv only)
  MGroupRows<const T*> msg_groups;  // or the forward's m-groups (used when msg is nullptr); absent ones are zero
  const T* wigner_inv = nullptr;  // [n_edges, 9, 9] as in the forward
  const int64_t* dst = nullptr;   // [n_edges] as in the forward
  T* grad_msg = nullptr;          // [n_edges, 9, channels] M-ordered, written in full; nullptr = not wanted
  MGroupRows<T*> grad_msg_groups;  // or written as m-groups (when grad_msg is nullptr); absent ones not written
  T* grad_wigner_inv = nullptr;   // [n_edges, 9, 9] written in full (zeros off the blocks); nullptr = not wanted
  int64_t n_atoms = 0;            // rows of grad_out
  int64_t n_edges = 0;            // E
  int64_t channels = 0;           // C, > 0
  // Store grad_msg rounded to TF32 (kernels/tf32_operand.cuh): it feeds only conv 2's TF32 GEMMs. fp32 only.
  bool round_tf32 = false;
};

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_WIGNER_PARAMS_H
