// CPU reference of gather_rotate / rotate_back_scatter and their adjoints; see wigner_reference.h.
#include "wigner_reference.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

namespace uma {
namespace kernels {
namespace {

// Degree l of L-ordered coefficient i (blocks 0 | 1..3 | 4..8).
int degree_of(int i) { return i == 0 ? 0 : (i < 4 ? 1 : 2); }
bool same_block(int r, int c) { return degree_of(r) == degree_of(c); }

void check_sizes(const char* what, int64_t n_atoms, int64_t n_edges, int64_t channels) {
  if (n_atoms < 0 || n_edges < 0 || channels <= 0 || (n_edges > 0 && n_atoms == 0)) {
    throw std::invalid_argument(std::string(what) + ": bad sizes n_atoms=" + std::to_string(n_atoms) +
                                ", n_edges=" + std::to_string(n_edges) + ", channels=" + std::to_string(channels));
  }
}

void check_index(const char* what, const int64_t* idx, int64_t n_edges, int64_t n_atoms) {
  for (int64_t e = 0; e < n_edges; ++e) {
    if (idx[e] < 0 || idx[e] >= n_atoms) {
      throw std::invalid_argument(std::string(what) + ": edge " + std::to_string(e) + " points to atom " +
                                  std::to_string(idx[e]) + ", expected [0, " + std::to_string(n_atoms) + ")");
    }
  }
}

}  // namespace

template <typename T>
void gather_rotate_fwd_reference(const GatherRotateFwdParams<T>& p) {
  const char* what = "gather_rotate_fwd_reference";
  check_sizes(what, p.n_atoms, p.n_edges, p.channels);
  if (p.n_edges == 0) return;
  check_index(what, p.src, p.n_edges, p.n_atoms);
  check_index(what, p.dst, p.n_edges, p.n_atoms);
  const int64_t C = p.channels;
  const MGroupRows<T*> rows = resolve_rows(p.out, p.out_groups, 2 * C);
  if (!rows_valid(rows, 2 * C)) throw std::invalid_argument(std::string(what) + ": out missing or m-groups overlapping");
  for (int64_t e = 0; e < p.n_edges; ++e) {
    const T* D = p.wigner + e * 81;
    const int64_t node[2] = {p.src[e], p.dst[e]};
    for (int half = 0; half < 2; ++half) {
      const T* x = p.x + node[half] * 9 * C;
      for (int k = 0; k < 9; ++k) {
        const int i = kLtoM[k];
        T* out = rows.row(e, k, 2 * C) + half * C;
        const T* r = p.radial ? p.radial + (e * kRadialGroups + kRadialGroupOfM[k]) * 2 * C + half * C : nullptr;
        for (int64_t c = 0; c < C; ++c) {
          T acc = T(0);
          for (int j = 0; j < 9; ++j)
            if (same_block(i, j)) acc += D[i * 9 + j] * x[j * C + c];
          out[c] = r ? acc * r[c] : acc;
        }
      }
    }
  }
}

template <typename T>
void gather_rotate_bwd_reference(const GatherRotateBwdParams<T>& p) {
  const char* what = "gather_rotate_bwd_reference";
  check_sizes(what, p.n_atoms, p.n_edges, p.channels);
  const int64_t C = p.channels;
  if (p.grad_x) std::fill(p.grad_x, p.grad_x + p.n_atoms * 9 * C, T(0));
  if (p.grad_wigner) std::fill(p.grad_wigner, p.grad_wigner + p.n_edges * 81, T(0));
  if (p.radial && !p.grad_radial) throw std::invalid_argument(std::string(what) + ": radial given without grad_radial");
  if (p.grad_radial) std::fill(p.grad_radial, p.grad_radial + p.n_edges * kRadialGroups * 2 * C, T(0));
  if (p.n_edges == 0) return;
  check_index(what, p.src, p.n_edges, p.n_atoms);
  check_index(what, p.dst, p.n_edges, p.n_atoms);
  const MGroupRows<const T*> rows = resolve_rows(p.grad_out, p.grad_out_groups, 2 * C);
  if (!rows_valid(rows, 2 * C))
    throw std::invalid_argument(std::string(what) + ": grad_out missing or m-groups overlapping");
  std::vector<T> scaled(p.radial ? C : 0);
  for (int64_t e = 0; e < p.n_edges; ++e) {
    const int64_t node[2] = {p.src[e], p.dst[e]};
    for (int half = 0; half < 2; ++half) {
      for (int k = 0; k < 9; ++k) {
        const int i = kLtoM[k];
        const T* g = rows.row(e, k, 2 * C) + half * C;
        if (p.radial) {
          // out = R ⊙ y with y = (P D x)[k]: grad R += g ⊙ y, and the adjoints below see R ⊙ g.
          const int64_t off = (e * kRadialGroups + kRadialGroupOfM[k]) * 2 * C + half * C;
          const T* D = p.wigner + e * 81;
          const T* x = p.x + node[half] * 9 * C;
          for (int64_t c = 0; c < C; ++c) {
            T y = T(0);
            for (int j = 0; j < 9; ++j)
              if (same_block(i, j)) y += D[i * 9 + j] * x[j * C + c];
            p.grad_radial[off + c] += g[c] * y;
            scaled[c] = g[c] * p.radial[off + c];
          }
          g = scaled.data();
        }
        for (int j = 0; j < 9; ++j) {
          if (!same_block(i, j)) continue;
          if (p.grad_x) {
            const T d = p.wigner[e * 81 + i * 9 + j];
            T* gx = p.grad_x + (node[half] * 9 + j) * C;
            for (int64_t c = 0; c < C; ++c) gx[c] += d * g[c];
          }
          if (p.grad_wigner) {
            const T* x = p.x + (node[half] * 9 + j) * C;
            T acc = T(0);
            for (int64_t c = 0; c < C; ++c) acc += g[c] * x[c];
            p.grad_wigner[e * 81 + i * 9 + j] += acc;
          }
        }
      }
    }
  }
}

template <typename T>
void rotate_back_scatter_fwd_reference(const RotateBackScatterFwdParams<T>& p) {
  const char* what = "rotate_back_scatter_fwd_reference";
  check_sizes(what, p.n_atoms, p.n_edges, p.channels);
  const int64_t C = p.channels;
  std::fill(p.out, p.out + p.n_atoms * 9 * C, T(0));
  if (p.n_edges == 0) return;
  check_index(what, p.dst, p.n_edges, p.n_atoms);
  const MGroupRows<const T*> rows = resolve_rows(p.msg, p.msg_groups, C);
  if (!present_rows_valid(rows, C))
    throw std::invalid_argument(std::string(what) + ": no msg m-group present or m-groups overlapping");
  for (int64_t e = 0; e < p.n_edges; ++e) {
    const T* W = p.wigner_inv + e * 81;
    for (int i = 0; i < 9; ++i) {
      T* out = p.out + (p.dst[e] * 9 + i) * C;
      for (int k = 0; k < 9; ++k) {
        const int m = kLtoM[k];
        // An absent group's rows are zero: their terms are skipped.
        if (!same_block(i, m) || !rows.present(m_group_of_row(k))) continue;
        const T w = W[i * 9 + m];
        const T* msg = rows.row(e, k, C);
        for (int64_t c = 0; c < C; ++c) out[c] += w * msg[c];
      }
    }
  }
}

template <typename T>
void rotate_back_scatter_bwd_reference(const RotateBackScatterBwdParams<T>& p) {
  const char* what = "rotate_back_scatter_bwd_reference";
  check_sizes(what, p.n_atoms, p.n_edges, p.channels);
  if (p.n_edges == 0) return;
  check_index(what, p.dst, p.n_edges, p.n_atoms);
  const int64_t C = p.channels;
  const MGroupRows<const T*> msg_rows = resolve_rows(p.msg, p.msg_groups, C);
  const MGroupRows<T*> grad_rows = resolve_rows(p.grad_msg, p.grad_msg_groups, C);
  if ((p.grad_wigner_inv && !present_rows_valid(msg_rows, C)) ||
      (grad_rows.defined() && !present_rows_valid(grad_rows, C)))
    throw std::invalid_argument(std::string(what) + ": no msg m-group present or m-groups overlapping");
  for (int64_t e = 0; e < p.n_edges; ++e) {
    const T* h = p.grad_out + p.dst[e] * 9 * C;
    for (int k = 0; k < 9; ++k) {
      const int m = kLtoM[k];
      if (grad_rows.present(m_group_of_row(k))) {  // an absent gradient group is not written
        T* gm = grad_rows.row(e, k, C);
        for (int64_t c = 0; c < C; ++c) {
          T acc = T(0);
          for (int i = 0; i < 9; ++i)
            if (same_block(i, m)) acc += p.wigner_inv[e * 81 + i * 9 + m] * h[i * C + c];
          gm[c] = acc;
        }
      }
    }
    if (p.grad_wigner_inv) {
      for (int i = 0; i < 9; ++i) {
        for (int m = 0; m < 9; ++m) {
          T acc = T(0);
          if (same_block(i, m) && msg_rows.present(m_group_of_row(kMtoL[m]))) {  // absent: zero rows, entry 0
            const T* msg = msg_rows.row(e, kMtoL[m], C);
            for (int64_t c = 0; c < C; ++c) acc += h[i * C + c] * msg[c];
          }
          p.grad_wigner_inv[e * 81 + i * 9 + m] = acc;
        }
      }
    }
  }
}

EdgeCsrHost make_edge_csr(const int64_t* endpoint, int64_t n_edges, int64_t n_atoms) {
  check_index("make_edge_csr", endpoint, n_edges, n_atoms);
  EdgeCsrHost csr;
  csr.row_ptr.assign(static_cast<size_t>(n_atoms) + 1, 0);
  for (int64_t e = 0; e < n_edges; ++e) ++csr.row_ptr[endpoint[e] + 1];
  for (int64_t n = 0; n < n_atoms; ++n) csr.row_ptr[n + 1] += csr.row_ptr[n];
  csr.perm.resize(static_cast<size_t>(n_edges));
  std::vector<int64_t> next(csr.row_ptr.begin(), csr.row_ptr.end() - 1);
  for (int64_t e = 0; e < n_edges; ++e) csr.perm[next[endpoint[e]]++] = e;
  return csr;
}

template void gather_rotate_fwd_reference<float>(const GatherRotateFwdParams<float>&);
template void gather_rotate_fwd_reference<double>(const GatherRotateFwdParams<double>&);
template void gather_rotate_bwd_reference<float>(const GatherRotateBwdParams<float>&);
template void gather_rotate_bwd_reference<double>(const GatherRotateBwdParams<double>&);
template void rotate_back_scatter_fwd_reference<float>(const RotateBackScatterFwdParams<float>&);
template void rotate_back_scatter_fwd_reference<double>(const RotateBackScatterFwdParams<double>&);
template void rotate_back_scatter_bwd_reference<float>(const RotateBackScatterBwdParams<float>&);
template void rotate_back_scatter_bwd_reference<double>(const RotateBackScatterBwdParams<double>&);

}  // namespace kernels
}  // namespace uma
