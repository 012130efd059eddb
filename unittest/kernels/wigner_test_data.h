// Random problems for the Wigner kernel tests (CPU and GPU): node features, a random graph, block-diagonal Wigner
// matrices with garbage off the blocks (the kernels must never read it), and helpers to compare arrays.
#ifndef UMA_UNITTEST_KERNELS_WIGNER_TEST_DATA_H
#define UMA_UNITTEST_KERNELS_WIGNER_TEST_DATA_H

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace uma {
namespace kernels {
namespace testing {

inline int degree_of(int i) { return i == 0 ? 0 : (i < 4 ? 1 : 2); }

template <typename T>
struct WignerProblem {
  int64_t n_atoms = 0, n_edges = 0, channels = 0;
  std::vector<T> x;         // [N, 9, C]
  std::vector<int64_t> src; // [E]
  std::vector<int64_t> dst; // [E]
  std::vector<T> wigner;    // [E, 9, 9]; off-block entries hold `off_block` (garbage the kernels must ignore)
  std::vector<T> msg;       // [E, 9, C]
  std::vector<T> grad_a;    // [E, 9, 2C] cotangent of gather_rotate
  std::vector<T> grad_b;    // [N, 9, C] cotangent of rotate_back_scatter
};

// Uniform(-1, 1) data; atom 0..min(N,E)-1 each get at least one incoming edge, some atoms may get none when E < N.
template <typename T>
WignerProblem<T> make_problem(int64_t n_atoms, int64_t n_edges, int64_t channels, uint64_t seed,
                              T off_block = T(1e3)) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::uniform_int_distribution<int64_t> atom(0, n_atoms - 1);
  WignerProblem<T> p;
  p.n_atoms = n_atoms;
  p.n_edges = n_edges;
  p.channels = channels;
  auto fill = [&](std::vector<T>& v, int64_t n) {
    v.resize(static_cast<size_t>(n));
    for (auto& a : v) a = static_cast<T>(u(rng));
  };
  fill(p.x, n_atoms * 9 * channels);
  fill(p.msg, n_edges * 9 * channels);
  fill(p.grad_a, n_edges * 9 * 2 * channels);
  fill(p.grad_b, n_atoms * 9 * channels);
  p.src.resize(static_cast<size_t>(n_edges));
  p.dst.resize(static_cast<size_t>(n_edges));
  for (int64_t e = 0; e < n_edges; ++e) {
    p.src[e] = atom(rng);
    p.dst[e] = e < n_atoms ? e : atom(rng);
  }
  p.wigner.resize(static_cast<size_t>(n_edges) * 81);
  for (int64_t e = 0; e < n_edges; ++e)
    for (int r = 0; r < 9; ++r)
      for (int c = 0; c < 9; ++c)
        p.wigner[e * 81 + r * 9 + c] = degree_of(r) == degree_of(c) ? static_cast<T>(u(rng)) : off_block;
  return p;
}

// Copy of a [E,9,9] array with the off-block entries set to zero (what the kernels are meant to see).
template <typename T>
std::vector<T> block_part(const std::vector<T>& m) {
  std::vector<T> out(m);
  for (size_t e = 0; e < m.size() / 81; ++e)
    for (int r = 0; r < 9; ++r)
      for (int c = 0; c < 9; ++c)
        if (degree_of(r) != degree_of(c)) out[e * 81 + r * 9 + c] = T(0);
  return out;
}

template <typename A, typename B>
double dot(const std::vector<A>& a, const std::vector<B>& b) {
  double s = 0.0;
  for (size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * static_cast<double>(b[i]);
  return s;
}

// Largest |got - want| relative to the largest |want|, with where it happened: the failure message a test prints.
struct Mismatch {
  double max_abs = 0.0, scale = 0.0;
  size_t where = 0;
  bool finite = true;
  double rel() const { return scale > 0 ? max_abs / scale : max_abs; }
  std::string str(const std::string& what) const {
    std::ostringstream s;
    s << what << ": max |got - want| = " << max_abs << " at flat index " << where << ", scale max|want| = " << scale
      << ", relative " << rel() << (finite ? "" : " (NON-FINITE value seen)");
    return s.str();
  }
};

template <typename A, typename B>
Mismatch compare(const std::vector<A>& got, const std::vector<B>& want) {
  Mismatch m;
  for (size_t i = 0; i < want.size(); ++i) {
    const double g = static_cast<double>(got[i]), w = static_cast<double>(want[i]);
    if (!std::isfinite(g)) m.finite = false;
    m.scale = std::max(m.scale, std::abs(w));
    const double d = std::abs(g - w);
    if (!(d <= m.max_abs)) {
      m.max_abs = std::isfinite(d) ? d : INFINITY;
      m.where = i;
    }
  }
  return m;
}

// A dense [E,9,C] M-ordered message laid out as its three m-groups (M-rows 0..2, 3..6, 7..8; written out here,
// not taken from wigner_params.h) in separate arrays, each edge's rows followed by `pad` spare elements holding
// `fill`: strides differ from the dense 9C, and a kernel reading or writing the padding shows.
template <typename T>
struct GroupedMessage {
  std::vector<T> group[3];
  int64_t stride[3] = {0, 0, 0};
};
constexpr int kGroupFirstRow[3] = {0, 3, 7};
constexpr int kGroupRows[3] = {3, 4, 2};
inline int group_of_row(int k) { return k < kGroupFirstRow[1] ? 0 : k < kGroupFirstRow[2] ? 1 : 2; }

template <typename T>
GroupedMessage<T> to_m_groups(const std::vector<T>& dense, int64_t E, int64_t C, int64_t pad, T fill) {
  GroupedMessage<T> g;
  for (int k = 0; k < 3; ++k) {
    g.stride[k] = kGroupRows[k] * C + pad;
    g.group[k].assign(static_cast<size_t>(E * g.stride[k]), fill);
    for (int64_t e = 0; e < E; ++e)
      for (int r = 0; r < kGroupRows[k]; ++r)
        for (int64_t c = 0; c < C; ++c)
          g.group[k][e * g.stride[k] + r * C + c] = dense[(e * 9 + kGroupFirstRow[k] + r) * C + c];
  }
  return g;
}

// An output laid out as m-groups (as to_m_groups) before a kernel writes it: rows NaN, so that an unwritten one
// fails the comparison; padding `fill`, which padding_holds then checks is untouched.
template <typename T>
GroupedMessage<T> poisoned_m_groups(int64_t E, int64_t C, int64_t pad, T fill) {
  return to_m_groups(std::vector<T>(static_cast<size_t>(E * 9 * C), T(NAN)), E, C, pad, fill);
}

template <typename T>
std::vector<T> from_m_groups(const GroupedMessage<T>& g, int64_t E, int64_t C) {
  std::vector<T> dense(static_cast<size_t>(E * 9 * C));
  for (int k = 0; k < 3; ++k)
    for (int64_t e = 0; e < E; ++e)
      for (int r = 0; r < kGroupRows[k]; ++r)
        for (int64_t c = 0; c < C; ++c)
          dense[(e * 9 + kGroupFirstRow[k] + r) * C + c] = g.group[k][e * g.stride[k] + r * C + c];
  return dense;
}

// True if every padding element still holds `fill` (bitwise; fill must not be NaN).
template <typename T>
bool padding_holds(const GroupedMessage<T>& g, int64_t E, int64_t C, T fill) {
  for (int k = 0; k < 3; ++k)
    for (int64_t e = 0; e < E; ++e)
      for (int64_t i = kGroupRows[k] * C; i < g.stride[k]; ++i)
        if (!(g.group[k][e * g.stride[k] + i] == fill)) return false;
  return true;
}

template <typename To, typename From>
std::vector<To> cast(const std::vector<From>& v) {
  return std::vector<To>(v.begin(), v.end());
}

}  // namespace testing
}  // namespace kernels
}  // namespace uma

#endif  // UMA_UNITTEST_KERNELS_WIGNER_TEST_DATA_H
