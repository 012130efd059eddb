// CPU reference of the Wigner rotation operations (src/kernels/wigner/wigner_reference.h) against independent truths:
//   * a dense formula: explicit 9×9 permutation matrix P and dense block-diagonal D, out = P·D·x by plain matmuls;
//   * adjoint identities <A u, v> = <u, Aᵀ v>, which prove each backward is the transpose of its forward;
//   * central finite differences of grad_wigner / grad_wigner_inv in fp64;
//   * rotate-then-rotate-back with orthogonal blocks returns the input.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <vector>

#include "kernels/wigner/wigner_reference.h"
#include "wigner_test_data.h"

namespace uma {
namespace kernels {
namespace {

using testing::WignerProblem;
using testing::block_part;
using testing::compare;
using testing::dot;
using testing::make_problem;

// Dense permutation matrix of fairchem's CoefficientMapping (common/so3.py), written out here rather than taken
// from wigner_params.h so the dense formula is independent of the code under test: (P·v)[k] = v[order[k]].
std::array<double, 81> permutation_matrix() {
  constexpr int order[9] = {0, 2, 6, 3, 7, 1, 5, 8, 4};
  std::array<double, 81> P{};
  for (int k = 0; k < 9; ++k) P[k * 9 + order[k]] = 1.0;
  return P;
}

// C = A (9×9) · B (9×n), row-major, all dense.
std::vector<double> matmul9(const double* A, const std::vector<double>& B, int64_t n) {
  std::vector<double> out(static_cast<size_t>(9 * n), 0.0);
  for (int r = 0; r < 9; ++r)
    for (int k = 0; k < 9; ++k)
      for (int64_t c = 0; c < n; ++c) out[r * n + c] += A[r * 9 + k] * B[k * n + c];
  return out;
}

// Dense gather_rotate: out_e = P · D_e · concat(x[src], x[dst]) with D_e's off-block part zeroed.
std::vector<double> dense_gather_rotate(const WignerProblem<double>& p) {
  const int64_t C = p.channels;
  const auto P = permutation_matrix();
  const auto D = block_part(p.wigner);
  std::vector<double> out(static_cast<size_t>(p.n_edges * 9 * 2 * C));
  for (int64_t e = 0; e < p.n_edges; ++e) {
    std::vector<double> xe(static_cast<size_t>(9 * 2 * C));
    for (int j = 0; j < 9; ++j)
      for (int64_t c = 0; c < C; ++c) {
        xe[j * 2 * C + c] = p.x[(p.src[e] * 9 + j) * C + c];
        xe[j * 2 * C + C + c] = p.x[(p.dst[e] * 9 + j) * C + c];
      }
    std::array<double, 81> PD{};
    for (int r = 0; r < 9; ++r)
      for (int k = 0; k < 9; ++k)
        for (int c = 0; c < 9; ++c) PD[r * 9 + c] += P[r * 9 + k] * D[e * 81 + k * 9 + c];
    const auto y = matmul9(PD.data(), xe, 2 * C);
    std::copy(y.begin(), y.end(), out.begin() + e * 9 * 2 * C);
  }
  return out;
}

// Dense rotate_back_scatter: out[dst] += Winv_e · Pᵀ · msg_e.
std::vector<double> dense_rotate_back_scatter(const WignerProblem<double>& p) {
  const int64_t C = p.channels;
  const auto P = permutation_matrix();
  const auto W = block_part(p.wigner);
  std::vector<double> out(static_cast<size_t>(p.n_atoms * 9 * C), 0.0);
  for (int64_t e = 0; e < p.n_edges; ++e) {
    std::array<double, 81> WPt{};
    for (int r = 0; r < 9; ++r)
      for (int k = 0; k < 9; ++k)
        for (int c = 0; c < 9; ++c) WPt[r * 9 + c] += W[e * 81 + r * 9 + k] * P[c * 9 + k];
    const std::vector<double> m(p.msg.begin() + e * 9 * C, p.msg.begin() + (e + 1) * 9 * C);
    const auto y = matmul9(WPt.data(), m, C);
    for (int64_t t = 0; t < 9 * C; ++t) out[p.dst[e] * 9 * C + t] += y[t];
  }
  return out;
}

template <typename T>
std::vector<T> run_fwd_a(const WignerProblem<T>& p, const std::vector<T>& wigner) {
  std::vector<T> out(static_cast<size_t>(p.n_edges * 9 * 2 * p.channels));
  GatherRotateFwdParams<T> a;
  a.x = p.x.data(); a.src = p.src.data(); a.dst = p.dst.data(); a.wigner = wigner.data(); a.out = out.data();
  a.n_atoms = p.n_atoms; a.n_edges = p.n_edges; a.channels = p.channels;
  gather_rotate_fwd_reference(a);
  return out;
}

template <typename T>
std::vector<T> run_fwd_b(const WignerProblem<T>& p, const std::vector<T>& wigner_inv) {
  std::vector<T> out(static_cast<size_t>(p.n_atoms * 9 * p.channels));
  RotateBackScatterFwdParams<T> b;
  b.msg = p.msg.data(); b.wigner_inv = wigner_inv.data(); b.dst = p.dst.data(); b.out = out.data();
  b.n_atoms = p.n_atoms; b.n_edges = p.n_edges; b.channels = p.channels;
  rotate_back_scatter_fwd_reference(b);
  return out;
}

struct BwdA { std::vector<double> grad_x, grad_wigner; };
BwdA run_bwd_a(const WignerProblem<double>& p) {
  BwdA g;
  g.grad_x.assign(p.x.size(), NAN);
  g.grad_wigner.assign(p.wigner.size(), NAN);
  GatherRotateBwdParams<double> a;
  a.grad_out = p.grad_a.data(); a.x = p.x.data(); a.src = p.src.data(); a.dst = p.dst.data();
  a.wigner = p.wigner.data(); a.grad_x = g.grad_x.data(); a.grad_wigner = g.grad_wigner.data();
  a.n_atoms = p.n_atoms; a.n_edges = p.n_edges; a.channels = p.channels;
  gather_rotate_bwd_reference(a);
  return g;
}

struct BwdB { std::vector<double> grad_msg, grad_wigner_inv; };
BwdB run_bwd_b(const WignerProblem<double>& p) {
  BwdB g;
  g.grad_msg.assign(p.msg.size(), NAN);
  g.grad_wigner_inv.assign(p.wigner.size(), NAN);
  RotateBackScatterBwdParams<double> b;
  b.grad_out = p.grad_b.data(); b.msg = p.msg.data(); b.wigner_inv = p.wigner.data(); b.dst = p.dst.data();
  b.grad_msg = g.grad_msg.data(); b.grad_wigner_inv = g.grad_wigner_inv.data();
  b.n_atoms = p.n_atoms; b.n_edges = p.n_edges; b.channels = p.channels;
  rotate_back_scatter_bwd_reference(b);
  return g;
}

// fp64 tolerance for sums of at most a few thousand O(1) products: unit round-off 1.1e-16 times the term count
// (≤ 2·C·E/N·9 ≈ 1e4 here) bounds the relative error by ~1e-12 in the worst case; random signs make it ~1e-14.
constexpr double kTolF64 = 1e-12;

TEST(WignerReference, PermutationsAreInverse) {
  for (int k = 0; k < 9; ++k) EXPECT_EQ(kMtoL[kLtoM[k]], k) << "M-row " << k;
  // M-major grouping from fairchem's CoefficientMapping: m=0 rows (l0,l1,l2) then ±1 then ±2.
  EXPECT_EQ(kLtoM[1], 2);  // l=1, m=0 is L-row 2
  EXPECT_EQ(kLtoM[8], 4);  // l=2, m=-2 is L-row 4
}

TEST(WignerReference, GatherRotateMatchesDenseFormula) {
  for (int64_t C : {1, 5, 16}) {
    const auto p = make_problem<double>(7, 23, C, 100 + C);
    const auto got = run_fwd_a(p, p.wigner);  // p.wigner carries 1e3 off the blocks: must be ignored
    const auto m = compare(got, dense_gather_rotate(p));
    EXPECT_LE(m.rel(), kTolF64) << m.str("gather_rotate_fwd vs dense, C=" + std::to_string(C));
  }
}

TEST(WignerReference, RotateBackScatterMatchesDenseFormula) {
  for (int64_t C : {1, 5, 16}) {
    const auto p = make_problem<double>(7, 23, C, 200 + C);
    const auto got = run_fwd_b(p, p.wigner);
    const auto m = compare(got, dense_rotate_back_scatter(p));
    EXPECT_LE(m.rel(), kTolF64) << m.str("rotate_back_scatter_fwd vs dense, C=" + std::to_string(C));
  }
}

// <A(x, D), g> = <x, grad_x> = <D, grad_D>: A is linear in x and in D separately, so the backward must be the
// transpose of each partial map. Both sides sum ~E·9·2C products of O(1) terms; kTolF64 relative to Σ|terms|.
TEST(WignerReference, GatherRotateAdjointIdentities) {
  const auto p = make_problem<double>(11, 40, 8, 7);
  const auto y = run_fwd_a(p, p.wigner);
  const auto g = run_bwd_a(p);
  const double lhs = dot(y, p.grad_a);
  const double scale = std::sqrt(dot(y, y) * dot(p.grad_a, p.grad_a));
  EXPECT_NEAR(dot(p.x, g.grad_x), lhs, kTolF64 * scale) << "<A x, g> vs <x, Aᵀ g>";
  EXPECT_NEAR(dot(block_part(p.wigner), g.grad_wigner), lhs, kTolF64 * scale) << "<A D, g> vs <D, grad_D>";
  // Off the blocks grad_wigner must be exactly zero (those entries are not parameters of the operation).
  EXPECT_EQ(compare(g.grad_wigner, block_part(g.grad_wigner)).max_abs, 0.0);
}

TEST(WignerReference, RotateBackScatterAdjointIdentities) {
  const auto p = make_problem<double>(11, 40, 8, 8);
  const auto y = run_fwd_b(p, p.wigner);
  const auto g = run_bwd_b(p);
  const double lhs = dot(y, p.grad_b);
  const double scale = std::sqrt(dot(y, y) * dot(p.grad_b, p.grad_b));
  EXPECT_NEAR(dot(p.msg, g.grad_msg), lhs, kTolF64 * scale) << "<B m, h> vs <m, Bᵀ h>";
  EXPECT_NEAR(dot(block_part(p.wigner), g.grad_wigner_inv), lhs, kTolF64 * scale) << "<B W, h> vs <W, grad_W>";
  EXPECT_EQ(compare(g.grad_wigner_inv, block_part(g.grad_wigner_inv)).max_abs, 0.0);
}

// The message (and its gradient) as three m-groups with their own strides, as the engine passes the SO(2)
// convolution outputs: the same sums as from the dense [E,9,C] message, bitwise (same products, same order), and
// nothing written into the padding between edges.
TEST(WignerReference, RotateBackScatterReadsAndWritesMGroups) {
  using testing::GroupedMessage;
  const int64_t N = 9, E = 31, C = 6, pad = 3;
  const auto p = make_problem<double>(N, E, C, 77);
  const double fill = 12345.0;
  const auto msg = testing::to_m_groups(p.msg, E, C, pad, fill);
  auto grad = testing::poisoned_m_groups(E, C, pad, fill);
  auto groups_in = [&](const GroupedMessage<double>& g) {
    MGroupRows<const double*> r;
    for (int k = 0; k < 3; ++k) { r.base[k] = g.group[k].data(); r.edge_stride[k] = g.stride[k]; }
    return r;
  };

  std::vector<double> out(static_cast<size_t>(N * 9 * C));
  RotateBackScatterFwdParams<double> f;
  f.msg_groups = groups_in(msg); f.wigner_inv = p.wigner.data(); f.dst = p.dst.data(); f.out = out.data();
  f.n_atoms = N; f.n_edges = E; f.channels = C;
  rotate_back_scatter_fwd_reference(f);
  EXPECT_EQ(compare(out, run_fwd_b(p, p.wigner)).max_abs, 0.0) << "forward from m-groups vs dense";

  const BwdB dense = run_bwd_b(p);
  std::vector<double> gw(p.wigner.size(), NAN);
  RotateBackScatterBwdParams<double> b;
  b.grad_out = p.grad_b.data(); b.msg_groups = groups_in(msg); b.wigner_inv = p.wigner.data(); b.dst = p.dst.data();
  for (int k = 0; k < 3; ++k) { b.grad_msg_groups.base[k] = grad.group[k].data(); b.grad_msg_groups.edge_stride[k] = grad.stride[k]; }
  b.grad_wigner_inv = gw.data(); b.n_atoms = N; b.n_edges = E; b.channels = C;
  rotate_back_scatter_bwd_reference(b);
  EXPECT_EQ(compare(testing::from_m_groups(grad, E, C), dense.grad_msg).max_abs, 0.0) << "grad_msg as m-groups";
  EXPECT_EQ(compare(gw, dense.grad_wigner_inv).max_abs, 0.0) << "grad_wigner_inv from m-groups";
  EXPECT_TRUE(testing::padding_holds(grad, E, C, fill)) << "grad_msg written into the padding between edges";

  // A group stride shorter than its rows would make edges overlap: refused, not silently aliased.
  f.msg_groups.edge_stride[1] = 4 * C - 1;
  EXPECT_THROW(rotate_back_scatter_fwd_reference(f), std::invalid_argument);
}

// Absent m-groups (null base) in rotate_back_scatter mean zero rows: for every non-empty subset of present groups,
// the forward, grad_wigner_inv and the present groups' grad_msg equal those computed from explicit zero groups,
// bitwise. Why bitwise: the reference skips an absent row's terms, where the explicit zeros add w·0 = ±0 to a sum
// that starts at +0; under round-to-nearest a sum that starts at +0 is never -0, and x + (±0) == x bitwise for any
// such x, so skipping changes no bit. Absent gradient groups have no buffer: a write there would crash. No group
// present at all is refused.
TEST(WignerReference, RotateBackScatterAbsentGroupsAreZeroRows) {
  using testing::GroupedMessage;
  const int64_t N = 7, E = 29, C = 6, pad = 2;
  const auto p = make_problem<double>(N, E, C, 79);
  const double fill = 2468.0;
  for (int mask = 1; mask < 8; ++mask) {
    const std::string tag = " (present groups mask " + std::to_string(mask) + ")";
    std::vector<double> zeroed = p.msg;  // the message with the absent groups' rows explicitly zero
    for (int64_t e = 0; e < E; ++e)
      for (int k = 0; k < 9; ++k)
        if (!(mask >> testing::group_of_row(k) & 1))
          std::fill_n(zeroed.begin() + (e * 9 + k) * C, C, 0.0);
    const auto msg = testing::to_m_groups(zeroed, E, C, pad, fill);
    MGroupRows<const double*> explicit_rows, absent_rows;
    for (int g = 0; g < 3; ++g) {
      explicit_rows.base[g] = msg.group[g].data();
      explicit_rows.edge_stride[g] = msg.stride[g];
      if (mask >> g & 1) absent_rows.base[g] = msg.group[g].data();
      if (mask >> g & 1) absent_rows.edge_stride[g] = msg.stride[g];
    }

    std::vector<double> want(static_cast<size_t>(N * 9 * C)), got(want.size(), NAN);
    RotateBackScatterFwdParams<double> f;
    f.wigner_inv = p.wigner.data(); f.dst = p.dst.data(); f.n_atoms = N; f.n_edges = E; f.channels = C;
    f.msg_groups = explicit_rows; f.out = want.data();
    rotate_back_scatter_fwd_reference(f);
    f.msg_groups = absent_rows; f.out = got.data();
    rotate_back_scatter_fwd_reference(f);
    EXPECT_EQ(compare(got, want).max_abs, 0.0) << "forward, absent vs explicit zero groups" << tag;
    if (mask != 7) EXPECT_GT(compare(run_fwd_b(p, p.wigner), want).max_abs, 0.0) << "zeroing made no difference" << tag;

    auto grad_want = testing::poisoned_m_groups(E, C, pad, fill), grad_got = testing::poisoned_m_groups(E, C, pad, fill);
    std::vector<double> gw_want(p.wigner.size(), NAN), gw_got(p.wigner.size(), NAN);
    RotateBackScatterBwdParams<double> b;
    b.grad_out = p.grad_b.data(); b.wigner_inv = p.wigner.data(); b.dst = p.dst.data();
    b.n_atoms = N; b.n_edges = E; b.channels = C;
    b.msg_groups = explicit_rows; b.grad_wigner_inv = gw_want.data();
    for (int g = 0; g < 3; ++g) { b.grad_msg_groups.base[g] = grad_want.group[g].data(); b.grad_msg_groups.edge_stride[g] = grad_want.stride[g]; }
    rotate_back_scatter_bwd_reference(b);
    b.msg_groups = absent_rows; b.grad_wigner_inv = gw_got.data();
    b.grad_msg_groups = MGroupRows<double*>();
    for (int g = 0; g < 3; ++g)
      if (mask >> g & 1) { b.grad_msg_groups.base[g] = grad_got.group[g].data(); b.grad_msg_groups.edge_stride[g] = grad_got.stride[g]; }
    rotate_back_scatter_bwd_reference(b);
    EXPECT_EQ(compare(gw_got, gw_want).max_abs, 0.0) << "grad_wigner_inv, absent vs explicit zero groups" << tag;
    for (int g = 0; g < 3; ++g) {
      if (!(mask >> g & 1)) continue;
      EXPECT_EQ(compare(grad_got.group[g], grad_want.group[g]).max_abs, 0.0) << "grad_msg group " << g << tag;
    }
  }

  // No group present: refused (forward, and a backward that needs the message for grad_wigner_inv).
  std::vector<double> out(static_cast<size_t>(N * 9 * C)), gw(p.wigner.size());
  RotateBackScatterFwdParams<double> f;
  f.wigner_inv = p.wigner.data(); f.dst = p.dst.data(); f.out = out.data(); f.n_atoms = N; f.n_edges = E; f.channels = C;
  EXPECT_THROW(rotate_back_scatter_fwd_reference(f), std::invalid_argument);
  RotateBackScatterBwdParams<double> b;
  b.grad_out = p.grad_b.data(); b.wigner_inv = p.wigner.data(); b.dst = p.dst.data(); b.grad_wigner_inv = gw.data();
  b.n_atoms = N; b.n_edges = E; b.channels = C;
  EXPECT_THROW(rotate_back_scatter_bwd_reference(b), std::invalid_argument);
}

// gather_rotate's output and its gradient as three m-groups (rows of 2C) with their own strides: the same values
// as the dense layout, bitwise, and the padding between edges never written.
TEST(WignerReference, GatherRotateWritesAndReadsMGroups) {
  const int64_t N = 8, E = 27, C = 5, R = 2 * C, pad = 2;
  const auto p = make_problem<double>(N, E, C, 78);
  const double fill = -4321.0;
  auto out = testing::poisoned_m_groups(E, R, pad, fill);
  const auto grad = testing::to_m_groups(p.grad_a, E, R, pad, fill);
  GatherRotateFwdParams<double> a;
  a.x = p.x.data(); a.src = p.src.data(); a.dst = p.dst.data(); a.wigner = p.wigner.data();
  for (int k = 0; k < 3; ++k) { a.out_groups.base[k] = out.group[k].data(); a.out_groups.edge_stride[k] = out.stride[k]; }
  a.n_atoms = N; a.n_edges = E; a.channels = C;
  gather_rotate_fwd_reference(a);
  EXPECT_EQ(compare(testing::from_m_groups(out, E, R), run_fwd_a(p, p.wigner)).max_abs, 0.0) << "forward into m-groups";
  EXPECT_TRUE(testing::padding_holds(out, E, R, fill)) << "forward wrote into the padding between edges";

  const BwdA dense = run_bwd_a(p);
  std::vector<double> gx(p.x.size(), NAN), gw(p.wigner.size(), NAN);
  GatherRotateBwdParams<double> b;
  for (int k = 0; k < 3; ++k) { b.grad_out_groups.base[k] = grad.group[k].data(); b.grad_out_groups.edge_stride[k] = grad.stride[k]; }
  b.x = p.x.data(); b.src = p.src.data(); b.dst = p.dst.data(); b.wigner = p.wigner.data();
  b.grad_x = gx.data(); b.grad_wigner = gw.data(); b.n_atoms = N; b.n_edges = E; b.channels = C;
  gather_rotate_bwd_reference(b);
  EXPECT_EQ(compare(gx, dense.grad_x).max_abs, 0.0) << "grad_x from m-groups";
  EXPECT_EQ(compare(gw, dense.grad_wigner).max_abs, 0.0) << "grad_wigner from m-groups";

  a.out_groups.edge_stride[2] = 2 * R - 1;  // rows of one edge would overlap the next: refused
  EXPECT_THROW(gather_rotate_fwd_reference(a), std::invalid_argument);
}

// The conv-1 radial scale folded into gather_rotate: out[e, k, :] = R[e, group(k), :] ⊙ A(x, D)[e, k, :] with the
// groups of fairchem's SO2_Convolution (m = 0 rows l = 0, 1, 2 -> 0, 1, 2; the +m and -m rows of m = 1 share
// 3 (l = 1) and 4 (l = 2); both m = 2 rows 5), written out here independently of kRadialGroupOfM. Forward: the
// unscaled output times R, exactly (one multiply per element either way). Backward: grad_x and grad_D are the
// unscaled backward fed R ⊙ g (again the same products), and grad_R against central differences of the linear
// loss <out(R), g> (no truncation error; round-off ~1e-12).
TEST(WignerReference, GatherRotateRadialScaleAndGradients) {
  constexpr int group_of_row[9] = {0, 1, 2, 3, 4, 3, 4, 5, 5};
  const auto p = make_problem<double>(6, 17, 5, 31);
  const int64_t E = p.n_edges, C = p.channels, N = p.n_atoms;
  std::vector<double> R(static_cast<size_t>(E * 6 * 2 * C));
  for (size_t t = 0; t < R.size(); ++t) R[t] = std::sin(0.37 * double(t) + 0.1);
  auto fwd = [&](const std::vector<double>& radial) {
    std::vector<double> out(static_cast<size_t>(E * 9 * 2 * C));
    GatherRotateFwdParams<double> a;
    a.x = p.x.data(); a.src = p.src.data(); a.dst = p.dst.data(); a.wigner = p.wigner.data(); a.out = out.data();
    a.n_atoms = N; a.n_edges = E; a.channels = C; a.radial = radial.data();
    gather_rotate_fwd_reference(a);
    return out;
  };
  const auto plain = run_fwd_a(p, p.wigner);
  std::vector<double> scaled_plain(plain.size()), g_scaled(p.grad_a.size());
  for (int64_t e = 0; e < E; ++e)
    for (int k = 0; k < 9; ++k)
      for (int64_t c = 0; c < 2 * C; ++c) {
        const size_t o = (e * 9 + k) * 2 * C + c, r = (e * 6 + group_of_row[k]) * 2 * C + c;
        scaled_plain[o] = plain[o] * R[r];
        g_scaled[o] = p.grad_a[o] * R[r];
      }
  EXPECT_EQ(compare(fwd(R), scaled_plain).max_abs, 0.0) << "forward with radial vs unscaled forward times R";

  std::vector<double> gx(N * 9 * C), gw(E * 81), gr(R.size(), -7.0);
  GatherRotateBwdParams<double> b;
  b.grad_out = p.grad_a.data(); b.x = p.x.data(); b.src = p.src.data(); b.dst = p.dst.data();
  b.wigner = p.wigner.data(); b.grad_x = gx.data(); b.grad_wigner = gw.data();
  b.radial = R.data(); b.grad_radial = gr.data(); b.n_atoms = N; b.n_edges = E; b.channels = C;
  gather_rotate_bwd_reference(b);
  auto q = p;
  q.grad_a = g_scaled;
  const auto want = run_bwd_a(q);
  EXPECT_LE(compare(gx, want.grad_x).rel(), kTolF64) << "grad_x with radial vs unscaled backward of R ⊙ g";
  EXPECT_LE(compare(gw, want.grad_wigner).rel(), kTolF64) << "grad_D with radial vs unscaled backward of R ⊙ g";
  const double h = 1e-3;
  for (size_t t : {size_t(0), size_t(2 * C + 3), size_t(3 * 2 * C + 1), size_t(5 * 2 * C + 2 * C - 1),
                   R.size() / 2, R.size() - 1}) {
    auto rp = R, rm = R;
    rp[t] += h;
    rm[t] -= h;
    const double fd = (dot(fwd(rp), p.grad_a) - dot(fwd(rm), p.grad_a)) / (2 * h);
    EXPECT_NEAR(gr[t], fd, 1e-9) << "grad_radial entry " << t;
  }
}

// Loss L(D) = <A(x, D), g> is linear in D, so the central difference (L(D+h) - L(D-h)) / 2h has no truncation
// error; what is left is round-off ~ eps·|L| / h ≈ 1e-16·30/1e-3 ≈ 3e-12 absolute. Tolerance 1e-9 is generous.
TEST(WignerReference, GatherRotateGradWignerFiniteDifference) {
  const auto p = make_problem<double>(5, 12, 6, 9);
  const auto g = run_bwd_a(p);
  const double h = 1e-3;
  for (int64_t e : {0, 5, 11}) {
    for (int t = 0; t < 81; ++t) {
      auto wp = p.wigner, wm = p.wigner;
      wp[e * 81 + t] += h;
      wm[e * 81 + t] -= h;
      const double fd = (dot(run_fwd_a(p, wp), p.grad_a) - dot(run_fwd_a(p, wm), p.grad_a)) / (2 * h);
      EXPECT_NEAR(g.grad_wigner[e * 81 + t], fd, 1e-9) << "edge " << e << " entry (" << t / 9 << "," << t % 9 << ")";
    }
  }
}

TEST(WignerReference, RotateBackScatterGradWignerInvFiniteDifference) {
  const auto p = make_problem<double>(5, 12, 6, 10);
  const auto g = run_bwd_b(p);
  const double h = 1e-3;
  for (int64_t e : {0, 6, 11}) {
    for (int t = 0; t < 81; ++t) {
      auto wp = p.wigner, wm = p.wigner;
      wp[e * 81 + t] += h;
      wm[e * 81 + t] -= h;
      const double fd = (dot(run_fwd_b(p, wp), p.grad_b) - dot(run_fwd_b(p, wm), p.grad_b)) / (2 * h);
      EXPECT_NEAR(g.grad_wigner_inv[e * 81 + t], fd, 1e-9) << "edge " << e << " entry (" << t / 9 << "," << t % 9 << ")";
    }
  }
}

// Gram–Schmidt on random columns: an orthogonal n×n block written into rows/cols [b, b+n) of a 9×9 matrix.
void random_orthogonal_block(std::mt19937_64& rng, double* m81, int b, int n) {
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<std::vector<double>> q(n, std::vector<double>(n));
  for (int i = 0; i < n; ++i) {
    for (auto& v : q[i]) v = u(rng);
    for (int j = 0; j < i; ++j) {
      double d = 0;
      for (int k = 0; k < n; ++k) d += q[i][k] * q[j][k];
      for (int k = 0; k < n; ++k) q[i][k] -= d * q[j][k];
    }
    double nn = 0;
    for (double v : q[i]) nn += v * v;
    for (auto& v : q[i]) v /= std::sqrt(nn);
  }
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) m81[(b + i) * 9 + b + j] = q[i][j];
}

// With orthogonal blocks and Winv = Dᵀ, rotating the target half and rotating back returns x[dst] per edge, so
// the scatter gives deg(n)·x[n]: the two operations use the same permutation and block layout.
TEST(WignerReference, RotateThenRotateBackIsIdentity) {
  auto p = make_problem<double>(6, 30, 4, 11, 0.0);
  std::mt19937_64 rng(12);
  std::vector<double> wt(p.wigner.size(), 0.0);
  for (int64_t e = 0; e < p.n_edges; ++e) {
    double* D = p.wigner.data() + e * 81;
    std::fill(D, D + 81, 0.0);
    random_orthogonal_block(rng, D, 0, 1);
    random_orthogonal_block(rng, D, 1, 3);
    random_orthogonal_block(rng, D, 4, 5);
    for (int r = 0; r < 9; ++r)
      for (int c = 0; c < 9; ++c) wt[e * 81 + c * 9 + r] = D[r * 9 + c];
  }
  const int64_t C = p.channels;
  const auto a = run_fwd_a(p, p.wigner);
  for (int64_t e = 0; e < p.n_edges; ++e)
    for (int k = 0; k < 9; ++k)
      for (int64_t c = 0; c < C; ++c) p.msg[(e * 9 + k) * C + c] = a[(e * 9 + k) * 2 * C + C + c];
  const auto back = run_fwd_b(p, wt);
  std::vector<double> want(p.x.size(), 0.0);
  for (int64_t e = 0; e < p.n_edges; ++e)
    for (int64_t t = 0; t < 9 * C; ++t) want[p.dst[e] * 9 * C + t] += p.x[p.dst[e] * 9 * C + t];
  const auto m = compare(back, want);
  EXPECT_LE(m.rel(), kTolF64) << m.str("rotate back after rotate");
}

// fp32 reference against fp64 on the same (rounded) inputs: each output is a dot of ≤ 5 terms (gather_rotate) or
// ≤ deg·5 terms (scatter), so the relative error is a few fp32 epsilons (6e-8); 1e-5 leaves room for cancellation.
TEST(WignerReference, Fp32AgreesWithFp64) {
  const auto pf = make_problem<float>(9, 60, 12, 13);
  WignerProblem<double> pd;
  pd.n_atoms = pf.n_atoms; pd.n_edges = pf.n_edges; pd.channels = pf.channels;
  pd.x = testing::cast<double>(pf.x); pd.msg = testing::cast<double>(pf.msg);
  pd.wigner = testing::cast<double>(pf.wigner); pd.src = pf.src; pd.dst = pf.dst;
  const auto ma = compare(run_fwd_a(pf, pf.wigner), run_fwd_a(pd, pd.wigner));
  EXPECT_LE(ma.rel(), 1e-5) << ma.str("gather_rotate fp32 vs fp64");
  const auto mb = compare(run_fwd_b(pf, pf.wigner), run_fwd_b(pd, pd.wigner));
  EXPECT_LE(mb.rel(), 1e-5) << mb.str("rotate_back_scatter fp32 vs fp64");
}

TEST(WignerReference, EdgeCsrGroupsEdgesStably) {
  const std::vector<int64_t> dst = {2, 0, 2, 1, 0, 2};
  const auto csr = make_edge_csr(dst.data(), 6, 4);
  EXPECT_EQ(csr.row_ptr, (std::vector<int64_t>{0, 2, 3, 6, 6}));
  EXPECT_EQ(csr.perm, (std::vector<int64_t>{1, 4, 3, 0, 2, 5}));
}

TEST(WignerReference, RejectsOutOfRangeAtomIndex) {
  auto p = make_problem<double>(4, 5, 2, 14);
  p.dst[3] = 4;
  EXPECT_THROW(run_fwd_b(p, p.wigner), std::invalid_argument);
}

}  // namespace
}  // namespace kernels
}  // namespace uma
