// CUDA Wigner rotation kernels (src/kernels/wigner/wigner_launch.h) against the CPU reference (wigner_reference.h), on
// fresh random data for every case, outputs poisoned with NaN before each launch so unwritten elements fail.
// Skips (GTEST_SKIP) when no CUDA device is present, as on CI.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/wigner/wigner_launch.h"
#include "kernels/wigner/wigner_reference.h"
#include "wigner_test_data.h"

namespace uma {
namespace kernels {
namespace {

using testing::WignerProblem;
using testing::compare;
using testing::make_problem;

bool cuda_device_present() {
  int n = 0;
  const cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device / no driver" status
    return false;
  }
  return n > 0;
}

#define UMA_REQUIRE_CUDA_DEVICE() \
  if (!cuda_device_present()) GTEST_SKIP() << "no CUDA device present"

#define UMA_CUDA_OK(expr) ASSERT_EQ((expr), cudaSuccess) << #expr << ": " << cudaGetErrorString(cudaGetLastError())

// A device copy of a host vector; poison() fills it with 0xFF bytes (NaN for float and double).
template <typename T>
struct DeviceArray {
  T* ptr = nullptr;
  size_t n = 0;
  explicit DeviceArray(size_t count) : n(count) {
    if (cudaMalloc(&ptr, sizeof(T) * (n ? n : 1)) != cudaSuccess) ptr = nullptr;
  }
  explicit DeviceArray(const std::vector<T>& h) : DeviceArray(h.size()) {
    if (ptr && n) cudaMemcpy(ptr, h.data(), sizeof(T) * n, cudaMemcpyHostToDevice);
  }
  ~DeviceArray() { cudaFree(ptr); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  void poison() { cudaMemset(ptr, 0xFF, sizeof(T) * n); }
  std::vector<T> host() const {
    std::vector<T> h(n);
    if (n) cudaMemcpy(h.data(), ptr, sizeof(T) * n, cudaMemcpyDeviceToHost);
    return h;
  }
};

// The fp64 truth, computed by the CPU reference on the test inputs cast to double.
struct Truth {
  std::vector<double> fwd_a, grad_x, grad_wigner, fwd_b, grad_msg, grad_wigner_inv;
};

template <typename T>
Truth reference_truth(const WignerProblem<T>& pt) {
  using testing::cast;
  WignerProblem<double> p;
  p.n_atoms = pt.n_atoms; p.n_edges = pt.n_edges; p.channels = pt.channels;
  p.x = cast<double>(pt.x); p.msg = cast<double>(pt.msg); p.wigner = cast<double>(pt.wigner);
  p.grad_a = cast<double>(pt.grad_a); p.grad_b = cast<double>(pt.grad_b); p.src = pt.src; p.dst = pt.dst;
  const int64_t N = p.n_atoms, E = p.n_edges, C = p.channels;
  Truth t;
  t.fwd_a.resize(E * 9 * 2 * C); t.grad_x.resize(N * 9 * C); t.grad_wigner.resize(E * 81);
  t.fwd_b.resize(N * 9 * C); t.grad_msg.resize(E * 9 * C); t.grad_wigner_inv.resize(E * 81);
  GatherRotateFwdParams<double> fa;
  fa.x = p.x.data(); fa.src = p.src.data(); fa.dst = p.dst.data(); fa.wigner = p.wigner.data(); fa.out = t.fwd_a.data();
  fa.n_atoms = N; fa.n_edges = E; fa.channels = C;
  gather_rotate_fwd_reference(fa);
  GatherRotateBwdParams<double> ba;
  ba.grad_out = p.grad_a.data(); ba.x = p.x.data(); ba.src = p.src.data(); ba.dst = p.dst.data();
  ba.wigner = p.wigner.data(); ba.grad_x = t.grad_x.data(); ba.grad_wigner = t.grad_wigner.data();
  ba.n_atoms = N; ba.n_edges = E; ba.channels = C;
  gather_rotate_bwd_reference(ba);
  RotateBackScatterFwdParams<double> fb;
  fb.msg = p.msg.data(); fb.wigner_inv = p.wigner.data(); fb.dst = p.dst.data(); fb.out = t.fwd_b.data();
  fb.n_atoms = N; fb.n_edges = E; fb.channels = C;
  rotate_back_scatter_fwd_reference(fb);
  RotateBackScatterBwdParams<double> bb;
  bb.grad_out = p.grad_b.data(); bb.msg = p.msg.data(); bb.wigner_inv = p.wigner.data(); bb.dst = p.dst.data();
  bb.grad_msg = t.grad_msg.data(); bb.grad_wigner_inv = t.grad_wigner_inv.data();
  bb.n_atoms = N; bb.n_edges = E; bb.channels = C;
  rotate_back_scatter_bwd_reference(bb);
  return t;
}

// Relative (to max |truth|) error bounds. fp32: each output is a dot of ≤ 5 products, or a sum of ≤ deg·5 (scatter)
// or 2C·… (grad_wigner: C = 128 channels × 2 halves, summed per lane then over the warp) O(1) terms; fp32 unit
// round-off 6e-8 times √terms·few stays below 1e-5 relative to the largest entry (METHOD.md: fp32 lands far
// under 1e-3). fp64: the same argument with 1.1e-16 gives ≲1e-13; 1e-12 leaves slack for the atomic order.
template <typename T>
constexpr double kTol = sizeof(T) == 4 ? 1e-5 : 1e-12;

struct Case {
  int64_t n_atoms, n_edges, channels;
};

// C = 128 is UMA's sphere_channels (16-byte vector path, one slice per lane in fp32, two in fp64);
// C = 5 takes the scalar path (C not a multiple of the vector width); C = 160 makes lanes partly idle on the
// last slice. n_edges < n_atoms leaves atoms without incoming edges (their scatter rows must be exactly 0).
const Case kCases[] = {{40, 700, 128}, {300, 200, 128}, {33, 250, 5}, {20, 333, 160}};

template <typename T>
class WignerCuda : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(WignerCuda, Scalars);

TYPED_TEST(WignerCuda, GatherRotateMatchesReference) {
  using T = TypeParam;
  UMA_REQUIRE_CUDA_DEVICE();
  uint64_t seed = 1000;
  for (const Case& cs : kCases) {
    const auto p = make_problem<T>(cs.n_atoms, cs.n_edges, cs.channels, seed++);
    const auto truth = reference_truth(p);
    const int64_t N = p.n_atoms, E = p.n_edges, C = p.channels;
    const std::string tag = " (N=" + std::to_string(N) + ", E=" + std::to_string(E) + ", C=" + std::to_string(C) + ")";
    DeviceArray<T> x(p.x), wig(p.wigner), ga(p.grad_a), out(E * 9 * 2 * C), gx(N * 9 * C), gw(E * 81);
    DeviceArray<int64_t> src(p.src), dst(p.dst);
    const auto src_csr = make_edge_csr(p.src.data(), E, N), dst_csr = make_edge_csr(p.dst.data(), E, N);
    DeviceArray<int64_t> sp(src_csr.row_ptr), sperm(src_csr.perm), dp(dst_csr.row_ptr), dperm(dst_csr.perm);

    out.poison();
    GatherRotateFwdParams<T> f;
    f.x = x.ptr; f.src = src.ptr; f.dst = dst.ptr; f.wigner = wig.ptr; f.out = out.ptr;
    f.n_atoms = N; f.n_edges = E; f.channels = C;
    ASSERT_NO_THROW(gather_rotate_fwd(f, nullptr));
    UMA_CUDA_OK(cudaDeviceSynchronize());
    const auto mf = compare(out.host(), truth.fwd_a);
    EXPECT_TRUE(mf.finite && mf.rel() <= kTol<T>) << mf.str("gather_rotate_fwd" + tag);

    GatherRotateBwdParams<T> b;
    b.grad_out = ga.ptr; b.x = x.ptr; b.src = src.ptr; b.dst = dst.ptr; b.wigner = wig.ptr;
    b.grad_x = gx.ptr; b.grad_wigner = gw.ptr; b.n_atoms = N; b.n_edges = E; b.channels = C;
    b.src_csr = {sp.ptr, sperm.ptr};
    b.dst_csr = {dp.ptr, dperm.ptr};
    std::vector<T> gx_det_first;
    for (ScatterMode mode : {ScatterMode::kAtomic, ScatterMode::kDeterministic, ScatterMode::kDeterministic}) {
      const std::string m = mode == ScatterMode::kAtomic ? " atomic" : " deterministic";
      gx.poison();
      gw.poison();
      ASSERT_NO_THROW(gather_rotate_bwd(b, mode, nullptr));
      UMA_CUDA_OK(cudaDeviceSynchronize());
      const auto gx_h = gx.host();
      const auto mx = compare(gx_h, truth.grad_x);
      EXPECT_TRUE(mx.finite && mx.rel() <= kTol<T>) << mx.str("gather_rotate_bwd grad_x" + m + tag);
      const auto mw = compare(gw.host(), truth.grad_wigner);
      EXPECT_TRUE(mw.finite && mw.rel() <= kTol<T>) << mw.str("gather_rotate_bwd grad_wigner" + m + tag);
      if (mode == ScatterMode::kDeterministic) {
        if (gx_det_first.empty())
          gx_det_first = gx_h;
        else
          EXPECT_EQ(std::memcmp(gx_det_first.data(), gx_h.data(), sizeof(T) * gx_h.size()), 0)
              << "deterministic grad_x differs bitwise between two runs" << tag;
      }
    }

    // Each gradient alone (the other pointer null) takes its own kernel instantiation.
    gx.poison();
    b.grad_wigner = nullptr;
    ASSERT_NO_THROW(gather_rotate_bwd(b, ScatterMode::kAtomic, nullptr));
    UMA_CUDA_OK(cudaDeviceSynchronize());
    const auto mx_only = compare(gx.host(), truth.grad_x);
    EXPECT_TRUE(mx_only.finite && mx_only.rel() <= kTol<T>) << mx_only.str("grad_x only" + tag);
    gw.poison();
    b.grad_wigner = gw.ptr;
    b.grad_x = nullptr;
    ASSERT_NO_THROW(gather_rotate_bwd(b, ScatterMode::kAtomic, nullptr));
    UMA_CUDA_OK(cudaDeviceSynchronize());
    const auto mw_only = compare(gw.host(), truth.grad_wigner);
    EXPECT_TRUE(mw_only.finite && mw_only.rel() <= kTol<T>) << mw_only.str("grad_wigner only" + tag);

    // With the conv-1 radial scale folded in (forward, and the backward with grad_radial), against the fp64
    // CPU reference with the same radial (test_wigner_reference.cpp checks the reference itself).
    std::vector<T> radial(static_cast<size_t>(E * kRadialGroups * 2 * C));
    for (size_t t = 0; t < radial.size(); ++t) radial[t] = T(std::cos(0.61 * double(t) + 0.3));
    const auto rd = testing::cast<double>(radial), xd = testing::cast<double>(p.x);
    const auto wd = testing::cast<double>(p.wigner), gd = testing::cast<double>(p.grad_a);
    std::vector<double> t_out(E * 9 * 2 * C), t_gx(N * 9 * C), t_gw(E * 81), t_gr(radial.size());
    GatherRotateFwdParams<double> rf;
    rf.x = xd.data(); rf.src = p.src.data(); rf.dst = p.dst.data(); rf.wigner = wd.data(); rf.out = t_out.data();
    rf.n_atoms = N; rf.n_edges = E; rf.channels = C;
    rf.radial = rd.data();
    gather_rotate_fwd_reference(rf);
    GatherRotateBwdParams<double> rb;
    rb.grad_out = gd.data(); rb.x = xd.data(); rb.src = p.src.data(); rb.dst = p.dst.data(); rb.wigner = wd.data();
    rb.grad_x = t_gx.data(); rb.grad_wigner = t_gw.data(); rb.radial = rd.data(); rb.grad_radial = t_gr.data();
    rb.n_atoms = N; rb.n_edges = E; rb.channels = C;
    gather_rotate_bwd_reference(rb);
    DeviceArray<T> rad(radial), grad_rad(radial.size());
    out.poison();
    f.radial = rad.ptr;
    ASSERT_NO_THROW(gather_rotate_fwd(f, nullptr));
    UMA_CUDA_OK(cudaDeviceSynchronize());
    const auto mrf = compare(out.host(), t_out);
    EXPECT_TRUE(mrf.finite && mrf.rel() <= kTol<T>) << mrf.str("gather_rotate_fwd radial" + tag);
    b.grad_x = gx.ptr;
    b.grad_wigner = gw.ptr;
    b.radial = rad.ptr;
    b.grad_radial = grad_rad.ptr;
    for (ScatterMode mode : {ScatterMode::kAtomic, ScatterMode::kDeterministic}) {
      const std::string m = mode == ScatterMode::kAtomic ? " radial atomic" : " radial deterministic";
      gx.poison();
      gw.poison();
      grad_rad.poison();
      ASSERT_NO_THROW(gather_rotate_bwd(b, mode, nullptr));
      UMA_CUDA_OK(cudaDeviceSynchronize());
      const auto mx = compare(gx.host(), t_gx);
      EXPECT_TRUE(mx.finite && mx.rel() <= kTol<T>) << mx.str("gather_rotate_bwd grad_x" + m + tag);
      const auto mw = compare(gw.host(), t_gw);
      EXPECT_TRUE(mw.finite && mw.rel() <= kTol<T>) << mw.str("gather_rotate_bwd grad_wigner" + m + tag);
      const auto mr = compare(grad_rad.host(), t_gr);
      EXPECT_TRUE(mr.finite && mr.rel() <= kTol<T>) << mr.str("gather_rotate_bwd grad_radial" + m + tag);
    }
    // radial without grad_radial is refused (the launcher names the kernel).
    b.grad_radial = nullptr;
    EXPECT_THROW(gather_rotate_bwd(b, ScatterMode::kAtomic, nullptr), std::invalid_argument);

    // Output and gradient as m-groups with their own strides (the engine's SO(2) convolution inputs): rows of 2C,
    // one 16-byte vector of padding after each edge's rows (kept by the forward), both scatter modes backward.
    {
      const int64_t R = 2 * C, pad = 16 / sizeof(T);
      const T fill = T(7);
      auto out_g = testing::poisoned_m_groups(E, R, pad, fill);
      const auto grad_g = testing::to_m_groups(p.grad_a, E, R, pad, fill);
      DeviceArray<T> o0(out_g.group[0]), o1(out_g.group[1]), o2(out_g.group[2]);
      DeviceArray<T> g0(grad_g.group[0]), g1(grad_g.group[1]), g2(grad_g.group[2]);
      T* out_base[3] = {o0.ptr, o1.ptr, o2.ptr};
      const T* grad_base[3] = {g0.ptr, g1.ptr, g2.ptr};
      GatherRotateFwdParams<T> fg = f;
      fg.out = nullptr;
      fg.radial = nullptr;
      GatherRotateBwdParams<T> bg = b;
      bg.grad_out = nullptr;
      bg.grad_x = gx.ptr;
      bg.grad_wigner = gw.ptr;
      bg.radial = nullptr;
      bg.grad_radial = nullptr;
      for (int k = 0; k < 3; ++k) {
        fg.out_groups.base[k] = out_base[k];
        bg.grad_out_groups.base[k] = grad_base[k];
        fg.out_groups.edge_stride[k] = bg.grad_out_groups.edge_stride[k] = out_g.stride[k];
      }
      ASSERT_NO_THROW(gather_rotate_fwd(fg, nullptr));
      UMA_CUDA_OK(cudaDeviceSynchronize());
      for (int k = 0; k < 3; ++k) out_g.group[k] = (k == 0 ? o0 : k == 1 ? o1 : o2).host();
      const auto mg = compare(testing::from_m_groups(out_g, E, R), truth.fwd_a);
      EXPECT_TRUE(mg.finite && mg.rel() <= kTol<T>) << mg.str("gather_rotate_fwd into m-groups" + tag);
      EXPECT_TRUE(testing::padding_holds(out_g, E, R, fill)) << "gather_rotate_fwd m-groups: padding overwritten" << tag;
      for (ScatterMode mode : {ScatterMode::kAtomic, ScatterMode::kDeterministic}) {
        const std::string m = mode == ScatterMode::kAtomic ? " atomic" : " deterministic";
        gx.poison();
        gw.poison();
        ASSERT_NO_THROW(gather_rotate_bwd(bg, mode, nullptr));
        UMA_CUDA_OK(cudaDeviceSynchronize());
        const auto mx = compare(gx.host(), truth.grad_x);
        EXPECT_TRUE(mx.finite && mx.rel() <= kTol<T>) << mx.str("gather_rotate_bwd grad_x from m-groups" + m + tag);
        const auto mw = compare(gw.host(), truth.grad_wigner);
        EXPECT_TRUE(mw.finite && mw.rel() <= kTol<T>) << mw.str("gather_rotate_bwd grad_wigner from m-groups" + m + tag);
      }
    }
  }
}

TYPED_TEST(WignerCuda, RotateBackScatterMatchesReference) {
  using T = TypeParam;
  UMA_REQUIRE_CUDA_DEVICE();
  uint64_t seed = 2000;
  for (const Case& cs : kCases) {
    const auto p = make_problem<T>(cs.n_atoms, cs.n_edges, cs.channels, seed++);
    const auto truth = reference_truth(p);
    const int64_t N = p.n_atoms, E = p.n_edges, C = p.channels;
    const std::string tag = " (N=" + std::to_string(N) + ", E=" + std::to_string(E) + ", C=" + std::to_string(C) + ")";
    DeviceArray<T> msg(p.msg), wig(p.wigner), gb(p.grad_b), out(N * 9 * C), gm(E * 9 * C), gw(E * 81);
    DeviceArray<int64_t> dst(p.dst);
    const auto dst_csr = make_edge_csr(p.dst.data(), E, N);
    DeviceArray<int64_t> dp(dst_csr.row_ptr), dperm(dst_csr.perm);

    RotateBackScatterFwdParams<T> f;
    f.msg = msg.ptr; f.wigner_inv = wig.ptr; f.dst = dst.ptr; f.out = out.ptr;
    f.dst_csr = {dp.ptr, dperm.ptr};
    f.n_atoms = N; f.n_edges = E; f.channels = C;
    std::vector<T> det_first, atomic_out;
    for (ScatterMode mode : {ScatterMode::kAtomic, ScatterMode::kDeterministic, ScatterMode::kDeterministic}) {
      const std::string m = mode == ScatterMode::kAtomic ? " atomic" : " deterministic";
      out.poison();
      ASSERT_NO_THROW(rotate_back_scatter_fwd(f, mode, nullptr));
      UMA_CUDA_OK(cudaDeviceSynchronize());
      const auto h = out.host();
      const auto mo = compare(h, truth.fwd_b);
      EXPECT_TRUE(mo.finite && mo.rel() <= kTol<T>) << mo.str("rotate_back_scatter_fwd" + m + tag);
      if (mode == ScatterMode::kAtomic) {
        atomic_out = h;
      } else if (det_first.empty()) {
        det_first = h;
        // Atomic and deterministic sums differ only in summation order: same bound as against the truth.
        const auto mad = compare(atomic_out, det_first);
        EXPECT_LE(mad.rel(), kTol<T>) << mad.str("atomic vs deterministic scatter" + tag);
      } else {
        EXPECT_EQ(std::memcmp(det_first.data(), h.data(), sizeof(T) * h.size()), 0)
            << "deterministic scatter differs bitwise between two runs" << tag;
      }
    }

    RotateBackScatterBwdParams<T> b;
    b.grad_out = gb.ptr; b.msg = msg.ptr; b.wigner_inv = wig.ptr; b.dst = dst.ptr;
    b.grad_msg = gm.ptr; b.grad_wigner_inv = gw.ptr; b.n_atoms = N; b.n_edges = E; b.channels = C;
    gm.poison();
    gw.poison();
    ASSERT_NO_THROW(rotate_back_scatter_bwd(b, nullptr));
    UMA_CUDA_OK(cudaDeviceSynchronize());
    const auto mm = compare(gm.host(), truth.grad_msg);
    EXPECT_TRUE(mm.finite && mm.rel() <= kTol<T>) << mm.str("rotate_back_scatter_bwd grad_msg" + tag);
    const auto mw = compare(gw.host(), truth.grad_wigner_inv);
    EXPECT_TRUE(mw.finite && mw.rel() <= kTol<T>) << mw.str("rotate_back_scatter_bwd grad_wigner_inv" + tag);

    // The same through m-groups with their own strides (the engine's SO(2) convolution outputs). A padding of one
    // 16-byte vector keeps the vector path where C allows it; the gradient's padding must keep its fill.
    const int64_t pad = 16 / sizeof(T);
    const T fill = T(7);
    const auto msg_g = testing::to_m_groups(p.msg, E, C, pad, fill);
    auto grad_g = testing::poisoned_m_groups(E, C, pad, fill);
    DeviceArray<T> m0(msg_g.group[0]), m1(msg_g.group[1]), m2(msg_g.group[2]);
    DeviceArray<T> g0(grad_g.group[0]), g1(grad_g.group[1]), g2(grad_g.group[2]);
    const T* msg_base[3] = {m0.ptr, m1.ptr, m2.ptr};
    T* grad_base[3] = {g0.ptr, g1.ptr, g2.ptr};
    RotateBackScatterFwdParams<T> fg = f;
    fg.msg = nullptr;
    RotateBackScatterBwdParams<T> bg = b;
    bg.msg = nullptr;
    bg.grad_msg = nullptr;
    for (int k = 0; k < 3; ++k) {
      fg.msg_groups.base[k] = bg.msg_groups.base[k] = msg_base[k];
      fg.msg_groups.edge_stride[k] = bg.msg_groups.edge_stride[k] = bg.grad_msg_groups.edge_stride[k] = msg_g.stride[k];
      bg.grad_msg_groups.base[k] = grad_base[k];
    }
    for (ScatterMode mode : {ScatterMode::kAtomic, ScatterMode::kDeterministic}) {
      out.poison();
      ASSERT_NO_THROW(rotate_back_scatter_fwd(fg, mode, nullptr));
      UMA_CUDA_OK(cudaDeviceSynchronize());
      const auto mo = compare(out.host(), truth.fwd_b);
      EXPECT_TRUE(mo.finite && mo.rel() <= kTol<T>)
          << mo.str(std::string("rotate_back_scatter_fwd from m-groups") +
                    (mode == ScatterMode::kAtomic ? " atomic" : " deterministic") + tag);
    }
    gw.poison();
    ASSERT_NO_THROW(rotate_back_scatter_bwd(bg, nullptr));
    UMA_CUDA_OK(cudaDeviceSynchronize());
    for (int k = 0; k < 3; ++k) grad_g.group[k] = (k == 0 ? g0 : k == 1 ? g1 : g2).host();
    const auto mg = compare(testing::from_m_groups(grad_g, E, C), truth.grad_msg);
    EXPECT_TRUE(mg.finite && mg.rel() <= kTol<T>) << mg.str("rotate_back_scatter_bwd grad_msg as m-groups" + tag);
    EXPECT_TRUE(testing::padding_holds(grad_g, E, C, fill)) << "grad_msg m-groups: padding overwritten" << tag;
    const auto mwg = compare(gw.host(), truth.grad_wigner_inv);
    EXPECT_TRUE(mwg.finite && mwg.rel() <= kTol<T>) << mwg.str("grad_wigner_inv from m-groups" + tag);
  }
}

// Absent m-groups (null base: zero rows, not read; their gradient not written) against explicit zero groups on the
// device, for each non-empty subset of present groups, both scatter modes forward and the backward. Comparisons:
//   * forward deterministic, grad_msg of present groups and grad_wigner_inv: bitwise. The kernels set an absent
//     group's rows to zero in registers and then run the same instructions as on loaded zeros, in the same order
//     (no atomics in these), so every bit matches.
//   * forward atomic: within kTol, as atomic vs deterministic above (the atomics' order varies between the runs).
//   * the absent gradient groups are real buffers here, poisoned: they must still hold the poison.
// Plus the fp64 CPU reference of the zeroed message as truth, so that "equal to explicit zeros" cannot pass by both
// being wrong the same way.
TYPED_TEST(WignerCuda, RotateBackScatterAbsentGroupsAreZeroRows) {
  using T = TypeParam;
  UMA_REQUIRE_CUDA_DEVICE();
  uint64_t seed = 3000;
  for (const Case& cs : kCases) {
    auto p = make_problem<T>(cs.n_atoms, cs.n_edges, cs.channels, seed++);
    const int64_t N = p.n_atoms, E = p.n_edges, C = p.channels, pad = 16 / sizeof(T);
    const T fill = T(7);
    const auto dst_csr = make_edge_csr(p.dst.data(), E, N);
    DeviceArray<T> wig(p.wigner), gb(p.grad_b), out_z(N * 9 * C), out_a(N * 9 * C), gw_z(E * 81), gw_a(E * 81);
    DeviceArray<int64_t> dst(p.dst), dp(dst_csr.row_ptr), dperm(dst_csr.perm);
    for (int mask = 1; mask < 8; ++mask) {
      const std::string tag = " (N=" + std::to_string(N) + ", E=" + std::to_string(E) + ", C=" + std::to_string(C) +
                              ", present groups mask " + std::to_string(mask) + ")";
      WignerProblem<T> pz = p;  // the message with the absent groups' rows explicitly zero
      for (int64_t e = 0; e < E; ++e)
        for (int k = 0; k < 9; ++k)
          if (!(mask >> testing::group_of_row(k) & 1)) std::fill_n(pz.msg.begin() + (e * 9 + k) * C, C, T(0));
      const Truth truth = reference_truth(pz);
      const auto msg_g = testing::to_m_groups(pz.msg, E, C, pad, fill);
      const auto poison = testing::poisoned_m_groups(E, C, pad, fill);
      DeviceArray<T> m0(msg_g.group[0]), m1(msg_g.group[1]), m2(msg_g.group[2]);
      DeviceArray<T> gz0(poison.group[0]), gz1(poison.group[1]), gz2(poison.group[2]);
      DeviceArray<T> ga0(poison.group[0]), ga1(poison.group[1]), ga2(poison.group[2]);
      const T* msg_base[3] = {m0.ptr, m1.ptr, m2.ptr};
      T* gz_base[3] = {gz0.ptr, gz1.ptr, gz2.ptr};
      T* ga_base[3] = {ga0.ptr, ga1.ptr, ga2.ptr};
      RotateBackScatterFwdParams<T> fz, fa;
      fz.wigner_inv = wig.ptr; fz.dst = dst.ptr; fz.dst_csr = {dp.ptr, dperm.ptr};
      fz.n_atoms = N; fz.n_edges = E; fz.channels = C; fz.out = out_z.ptr;
      RotateBackScatterBwdParams<T> bz;
      bz.grad_out = gb.ptr; bz.wigner_inv = wig.ptr; bz.dst = dst.ptr; bz.grad_wigner_inv = gw_z.ptr;
      bz.n_atoms = N; bz.n_edges = E; bz.channels = C;
      for (int g = 0; g < 3; ++g) {
        fz.msg_groups.base[g] = bz.msg_groups.base[g] = msg_base[g];
        fz.msg_groups.edge_stride[g] = bz.msg_groups.edge_stride[g] = msg_g.stride[g];
        bz.grad_msg_groups.edge_stride[g] = msg_g.stride[g];
        bz.grad_msg_groups.base[g] = gz_base[g];
      }
      fa = fz;
      fa.out = out_a.ptr;
      RotateBackScatterBwdParams<T> ba = bz;
      ba.grad_wigner_inv = gw_a.ptr;
      for (int g = 0; g < 3; ++g) {
        const bool present = mask >> g & 1;
        fa.msg_groups.base[g] = ba.msg_groups.base[g] = present ? msg_base[g] : nullptr;
        ba.grad_msg_groups.base[g] = present ? ga_base[g] : nullptr;
        if (!present) {
          fa.msg_groups.edge_stride[g] = ba.msg_groups.edge_stride[g] = 0;
          ba.grad_msg_groups.edge_stride[g] = 0;
        }
      }

      for (ScatterMode mode : {ScatterMode::kAtomic, ScatterMode::kDeterministic}) {
        const std::string m = mode == ScatterMode::kAtomic ? " atomic" : " deterministic";
        out_z.poison();
        out_a.poison();
        ASSERT_NO_THROW(rotate_back_scatter_fwd(fz, mode, nullptr));
        ASSERT_NO_THROW(rotate_back_scatter_fwd(fa, mode, nullptr));
        UMA_CUDA_OK(cudaDeviceSynchronize());
        const auto hz = out_z.host(), ha = out_a.host();
        const auto mt = compare(ha, truth.fwd_b);
        EXPECT_TRUE(mt.finite && mt.rel() <= kTol<T>) << mt.str("forward, absent groups, vs reference" + m + tag);
        if (mode == ScatterMode::kDeterministic)
          EXPECT_EQ(std::memcmp(hz.data(), ha.data(), sizeof(T) * hz.size()), 0)
              << "forward: absent groups differ bitwise from explicit zeros" << m << tag;
        else
          EXPECT_LE(compare(ha, hz).rel(), kTol<T>) << compare(ha, hz).str("forward absent vs zeros" + m + tag);
      }

      gw_z.poison();
      gw_a.poison();
      ASSERT_NO_THROW(rotate_back_scatter_bwd(bz, nullptr));
      ASSERT_NO_THROW(rotate_back_scatter_bwd(ba, nullptr));
      UMA_CUDA_OK(cudaDeviceSynchronize());
      const auto wz = gw_z.host(), wa = gw_a.host();
      EXPECT_EQ(std::memcmp(wz.data(), wa.data(), sizeof(T) * wz.size()), 0)
          << "grad_wigner_inv: absent groups differ bitwise from explicit zeros" << tag;
      const auto mw = compare(wa, truth.grad_wigner_inv);
      EXPECT_TRUE(mw.finite && mw.rel() <= kTol<T>) << mw.str("grad_wigner_inv, absent groups, vs reference" + tag);
      const DeviceArray<T>* gz[3] = {&gz0, &gz1, &gz2};
      const DeviceArray<T>* ga[3] = {&ga0, &ga1, &ga2};
      for (int g = 0; g < 3; ++g) {
        const auto hz = gz[g]->host(), ha = ga[g]->host();
        if (mask >> g & 1) {
          EXPECT_EQ(std::memcmp(hz.data(), ha.data(), sizeof(T) * hz.size()), 0)
              << "grad_msg group " << g << ": absent groups elsewhere changed its bits" << tag;
        } else {
          // Never written: the poison (NaN rows, `fill` padding) byte for byte.
          EXPECT_EQ(std::memcmp(poison.group[g].data(), ha.data(), sizeof(T) * ha.size()), 0)
              << "grad_msg group " << g << " is absent but was written" << tag;
        }
      }
    }
    // No group present: the launchers refuse, naming the rule.
    RotateBackScatterFwdParams<T> f0;
    f0.wigner_inv = wig.ptr; f0.dst = dst.ptr; f0.out = out_a.ptr; f0.n_atoms = N; f0.n_edges = E; f0.channels = C;
    try {
      rotate_back_scatter_fwd(f0, ScatterMode::kAtomic, nullptr);
      ADD_FAILURE() << "expected std::invalid_argument for no m-group present";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("at least one must"), std::string::npos) << e.what();
    }
  }
}

TEST(WignerCudaLaunch, BadArgumentsThrowWithKernelName) {
  UMA_REQUIRE_CUDA_DEVICE();
  GatherRotateFwdParams<float> f;
  f.n_atoms = 4;
  f.n_edges = 3;
  f.channels = 0;
  try {
    gather_rotate_fwd(f, nullptr);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("uma::gather_rotate_fwd"), std::string::npos) << e.what();
  }
  RotateBackScatterFwdParams<double> b;
  b.n_atoms = 4; b.n_edges = 3; b.channels = 8;
  std::vector<double> dummy(1);
  b.out = reinterpret_cast<double*>(0x10);  // never touched: the CSR check fires first
  b.msg = b.wigner_inv = dummy.data();
  int64_t idx = 0;
  b.dst = &idx;
  EXPECT_THROW(rotate_back_scatter_fwd(b, ScatterMode::kDeterministic, nullptr), std::invalid_argument);
}

}  // namespace
}  // namespace kernels
}  // namespace uma
