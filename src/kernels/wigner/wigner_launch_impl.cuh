// Definitions of the launchers declared in wigner_launch.h. Included only by the per-precision instantiation
// files wigner_launch_f32.cu and wigner_launch_f64.cu.
#ifndef UMA_KERNELS_WIGNER_LAUNCH_IMPL_CUH
#define UMA_KERNELS_WIGNER_LAUNCH_IMPL_CUH

#include <cuda_runtime.h>

#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "gather_rotate_bwd.cuh"
#include "gather_rotate_bwd_det.cuh"
#include "gather_rotate_fwd.cuh"
#include "kernels/launch_check.h"
#include "rotate_back_scatter_bwd.cuh"
#include "rotate_back_scatter_fwd.cuh"
#include "rotate_back_scatter_fwd_det.cuh"
#include "wigner_launch.h"

namespace uma {
namespace kernels {
namespace detail {

inline std::string sizes(int64_t n_atoms, int64_t n_edges, int64_t channels) {
  std::ostringstream s;
  s << "(n_atoms=" << n_atoms << ", n_edges=" << n_edges << ", channels=" << channels << ")";
  return s.str();
}

// Throws with the kernel label and sizes if the last launch (or an earlier asynchronous error) failed.
inline void check_launch(const char* label, int64_t n_atoms, int64_t n_edges, int64_t channels) {
  throw_if_launch_failed(label, sizes(n_atoms, n_edges, channels));
}

inline void check_cuda(cudaError_t err, const char* label, const char* what, int64_t n_atoms, int64_t n_edges,
                       int64_t channels) {
  if (err != cudaSuccess) {
    throw std::runtime_error(std::string(label) + ": " + what + " failed: '" + cudaGetErrorString(err) + "' " +
                             sizes(n_atoms, n_edges, channels));
  }
}

inline void require(bool ok, const char* label, const char* what, int64_t n_atoms, int64_t n_edges,
                    int64_t channels) {
  if (!ok) throw std::invalid_argument(std::string(label) + ": " + what + " " + sizes(n_atoms, n_edges, channels));
}

inline void require_sizes(const char* label, int64_t n_atoms, int64_t n_edges, int64_t channels) {
  require(n_atoms >= 0 && n_edges >= 0, label, "negative size", n_atoms, n_edges, channels);
  require(channels > 0, label, "channels must be positive", n_atoms, n_edges, channels);
  require(n_edges == 0 || n_atoms > 0, label, "edges given but no atoms", n_atoms, n_edges, channels);
}

inline bool aligned16(const void* ptr) { return ptr == nullptr || reinterpret_cast<std::uintptr_t>(ptr) % 16 == 0; }

// 16-byte vectors when every channel slice starts on a 16-byte boundary: C a multiple of the vector width and
// every feature pointer 16-byte aligned. Otherwise scalar lanes (correct for any C, slower).
template <typename T>
constexpr int kVecWide = 16 / static_cast<int>(sizeof(T));

template <typename T>
bool use_wide(int64_t channels, std::initializer_list<const void*> ptrs) {
  if (channels % kVecWide<T> != 0) return false;
  for (const void* q : ptrs)
    if (!aligned16(q)) return false;
  return true;
}

// 16-byte accesses need every group base aligned and every edge stride a multiple of the vector width.
template <typename T, typename P>
bool rows_wide(const MGroupRows<P>& r) {
  for (int g = 0; g < kMGroups; ++g)
    if (!aligned16(r.base[g]) || r.edge_stride[g] % kVecWide<T> != 0) return false;
  return true;
}

template <typename P>
bool all_present(const MGroupRows<P>& r) {
  return r.present(0) && r.present(1) && r.present(2);
}

// Calls f(std::integral_constant<bool, all>): the rotate_back_scatter kernels are instantiated with and without
// their absent-group tests (kAllGroups), so that the common all-present case compiles them out.
template <typename F>
void with_all_groups(bool all, F&& f) {
  if (all)
    f(std::true_type{});
  else
    f(std::false_type{});
}

// 8-byte stores of four halves: every group base 8-byte aligned and every edge stride a multiple of four.
inline bool half_rows_wide(const MGroupRows<uint16_t*>& r) {
  for (int g = 0; g < kMGroups; ++g)
    if (reinterpret_cast<std::uintptr_t>(r.base[g]) % 8 != 0 || r.edge_stride[g] % 4 != 0) return false;
  return true;
}

// gather_rotate_fwd into TF32 values held in fp16 (GatherRotateFwdParams::out_half_groups).
template <typename T>
void launch_gather_rotate_fwd_half(const GatherRotateFwdParams<T>& p, cudaStream_t stream) {
  constexpr const char* kLabel = "uma::gather_rotate_fwd (fp16 output)";
  require(std::is_same_v<T, float> && p.round_tf32, kLabel,
          "fp16 output holds TF32 values: fp32 inputs with round_tf32 only", p.n_atoms, p.n_edges, p.channels);
  require(p.x && p.src && p.dst && p.wigner && all_present(p.out_half_groups) &&
              rows_valid(p.out_half_groups, 2 * p.channels),
          kLabel, "null input or output pointer, or an m-group stride shorter than its rows", p.n_atoms, p.n_edges,
          p.channels);
  if constexpr (std::is_same_v<T, float>) {
    const dim3 grid(grid_for(p.n_edges)), block(kThreadsPerBlock);
    if (use_wide<T>(p.channels, {p.x, p.radial}) && half_rows_wide(p.out_half_groups))
      gather_rotate_fwd_kernel<T, kVecWide<T>, true><<<grid, block, 0, stream>>>(p);
    else
      gather_rotate_fwd_kernel<T, 1, true><<<grid, block, 0, stream>>>(p);
    check_launch(kLabel, p.n_atoms, p.n_edges, p.channels);
  }
}
}  // namespace detail

template <typename T>
void gather_rotate_fwd(const GatherRotateFwdParams<T>& p_in, cudaStream_t stream) {
  using namespace detail;
  constexpr const char* kLabel = "uma::gather_rotate_fwd";
  require_sizes(kLabel, p_in.n_atoms, p_in.n_edges, p_in.channels);
  if (p_in.n_edges == 0) return;
  GatherRotateFwdParams<T> p = p_in;
  if (p.out_half_groups.defined()) {
    launch_gather_rotate_fwd_half(p, stream);
    return;
  }
  p.out_groups = resolve_rows(p.out, p.out_groups, 2 * p.channels);
  require(p.x && p.src && p.dst && p.wigner && rows_valid(p.out_groups, 2 * p.channels), kLabel,
          "null input or output pointer, or an m-group stride shorter than its rows", p.n_atoms, p.n_edges,
          p.channels);
  const dim3 grid(grid_for(p.n_edges)), block(kThreadsPerBlock);
  if (use_wide<T>(p.channels, {p.x, p.radial}) && rows_wide<T>(p.out_groups))
    gather_rotate_fwd_kernel<T, kVecWide<T>><<<grid, block, 0, stream>>>(p);
  else
    gather_rotate_fwd_kernel<T, 1><<<grid, block, 0, stream>>>(p);
  check_launch(kLabel, p.n_atoms, p.n_edges, p.channels);
}

namespace detail {
template <typename T, int kVec>
void launch_gather_rotate_bwd_edges(const GatherRotateBwdParams<T>& p, bool grad_x, bool grad_w, cudaStream_t stream) {
  const dim3 grid(grid_for(p.n_edges)), block(kThreadsPerBlock);
  if (grad_x && grad_w)
    gather_rotate_bwd_kernel<T, kVec, true, true><<<grid, block, 0, stream>>>(p);
  else if (grad_x)
    gather_rotate_bwd_kernel<T, kVec, true, false><<<grid, block, 0, stream>>>(p);
  else if (grad_w)
    gather_rotate_bwd_kernel<T, kVec, false, true><<<grid, block, 0, stream>>>(p);
}
}  // namespace detail

template <typename T>
void gather_rotate_bwd(const GatherRotateBwdParams<T>& p_in, ScatterMode mode, cudaStream_t stream) {
  using namespace detail;
  const char* label =
      mode == ScatterMode::kAtomic ? "uma::gather_rotate_bwd" : "uma::gather_rotate_bwd_det";
  require_sizes(label, p_in.n_atoms, p_in.n_edges, p_in.channels);
  GatherRotateBwdParams<T> p = p_in;
  p.grad_out_groups = resolve_rows(p.grad_out, p.grad_out_groups, 2 * p.channels);
  const bool want_x = p.grad_x != nullptr, want_w = p.grad_wigner != nullptr;
  if (!want_x && !want_w) return;
  require(p.n_edges == 0 || (rows_valid(p.grad_out_groups, 2 * p.channels) && p.src && p.dst), label,
          "null grad_out/src/dst, or an m-group stride shorter than its rows", p.n_atoms, p.n_edges, p.channels);
  require(!want_x || p.n_edges == 0 || p.wigner, label, "grad_x wanted but wigner is null", p.n_atoms, p.n_edges,
          p.channels);
  require(!want_w || p.n_edges == 0 || p.x, label, "grad_wigner wanted but x is null", p.n_atoms, p.n_edges,
          p.channels);
  require(!p.radial || (p.grad_radial && want_w && p.wigner), label,
          "radial given: grad_radial and grad_wigner must be wanted and wigner given", p.n_atoms, p.n_edges,
          p.channels);
  const bool wide = use_wide<T>(p.channels, {p.x, p.grad_x, p.radial, p.grad_radial}) &&
                    (p.n_edges == 0 || rows_wide<T>(p.grad_out_groups));

  if (mode == ScatterMode::kAtomic) {
    if (want_x) {
      check_cuda(cudaMemsetAsync(p.grad_x, 0, sizeof(T) * p.n_atoms * kNumCoeffs * p.channels, stream), label,
                 "cudaMemsetAsync(grad_x)", p.n_atoms, p.n_edges, p.channels);
    }
    if (p.n_edges == 0) return;
    if (wide)
      launch_gather_rotate_bwd_edges<T, kVecWide<T>>(p, want_x, want_w, stream);
    else
      launch_gather_rotate_bwd_edges<T, 1>(p, want_x, want_w, stream);
    check_launch(label, p.n_atoms, p.n_edges, p.channels);
    return;
  }

  if (want_w && p.n_edges > 0) {
    if (wide)
      launch_gather_rotate_bwd_edges<T, kVecWide<T>>(p, false, true, stream);
    else
      launch_gather_rotate_bwd_edges<T, 1>(p, false, true, stream);
    check_launch(label, p.n_atoms, p.n_edges, p.channels);
  }
  if (want_x && p.n_atoms > 0) {
    require(p.src_csr.row_ptr && p.dst_csr.row_ptr, label, "deterministic mode needs src_csr and dst_csr row_ptr",
            p.n_atoms, p.n_edges, p.channels);
    const dim3 grid(grid_for(p.n_atoms)), block(kThreadsPerBlock);
    if (wide)
      gather_rotate_bwd_x_det_kernel<T, kVecWide<T>><<<grid, block, 0, stream>>>(p);
    else
      gather_rotate_bwd_x_det_kernel<T, 1><<<grid, block, 0, stream>>>(p);
    check_launch(label, p.n_atoms, p.n_edges, p.channels);
  }
}

template <typename T>
void rotate_back_scatter_fwd(const RotateBackScatterFwdParams<T>& p_in, ScatterMode mode, cudaStream_t stream) {
  using namespace detail;
  const char* label =
      mode == ScatterMode::kAtomic ? "uma::rotate_back_scatter_fwd" : "uma::rotate_back_scatter_fwd_det";
  require_sizes(label, p_in.n_atoms, p_in.n_edges, p_in.channels);
  if (p_in.n_atoms == 0) return;
  RotateBackScatterFwdParams<T> p = p_in;
  p.msg_groups = resolve_rows(p.msg, p.msg_groups, p.channels);
  require(p.out != nullptr, label, "null output pointer", p.n_atoms, p.n_edges, p.channels);
  require(p.n_edges == 0 || (present_rows_valid(p.msg_groups, p.channels) && p.wigner_inv && p.dst), label,
          "null wigner_inv/dst, no msg m-group present (any may be absent, meaning zero rows, but at least one must "
          "be given), or an m-group stride shorter than its rows",
          p.n_atoms, p.n_edges, p.channels);
  const bool wide = use_wide<T>(p.channels, {p.out}) && rows_wide<T>(p.msg_groups);
  const bool all = all_present(p.msg_groups);

  if (mode == ScatterMode::kAtomic) {
    check_cuda(cudaMemsetAsync(p.out, 0, sizeof(T) * p.n_atoms * kNumCoeffs * p.channels, stream), label,
               "cudaMemsetAsync(out)", p.n_atoms, p.n_edges, p.channels);
    if (p.n_edges == 0) return;
    const dim3 grid(grid_for(p.n_edges)), block(kThreadsPerBlock);
    with_all_groups(all, [&](auto all_c) {
      if (wide)
        rotate_back_scatter_fwd_kernel<T, kVecWide<T>, all_c()><<<grid, block, 0, stream>>>(p);
      else
        rotate_back_scatter_fwd_kernel<T, 1, all_c()><<<grid, block, 0, stream>>>(p);
    });
    check_launch(label, p.n_atoms, p.n_edges, p.channels);
    return;
  }

  require(p.dst_csr.row_ptr != nullptr, label, "deterministic mode needs dst_csr.row_ptr", p.n_atoms, p.n_edges,
          p.channels);
  const dim3 grid(grid_for(p.n_atoms)), block(kThreadsPerBlock);
  with_all_groups(all, [&](auto all_c) {
    if (wide)
      rotate_back_scatter_fwd_det_kernel<T, kVecWide<T>, all_c()><<<grid, block, 0, stream>>>(p);
    else
      rotate_back_scatter_fwd_det_kernel<T, 1, all_c()><<<grid, block, 0, stream>>>(p);
  });
  check_launch(label, p.n_atoms, p.n_edges, p.channels);
}

namespace detail {
template <typename T, int kVec, bool kAll>
void launch_rotate_back_scatter_bwd(const RotateBackScatterBwdParams<T>& p, bool grad_msg, bool grad_w,
                                    cudaStream_t stream) {
  const dim3 grid(grid_for(p.n_edges)), block(kThreadsPerBlock);
  if (grad_msg && grad_w)
    rotate_back_scatter_bwd_kernel<T, kVec, true, true, kAll><<<grid, block, 0, stream>>>(p);
  else if (grad_msg)
    rotate_back_scatter_bwd_kernel<T, kVec, true, false, kAll><<<grid, block, 0, stream>>>(p);
  else if (grad_w)
    rotate_back_scatter_bwd_kernel<T, kVec, false, true, kAll><<<grid, block, 0, stream>>>(p);
}
}  // namespace detail

template <typename T>
void rotate_back_scatter_bwd(const RotateBackScatterBwdParams<T>& p_in, cudaStream_t stream) {
  using namespace detail;
  constexpr const char* kLabel = "uma::rotate_back_scatter_bwd";
  require_sizes(kLabel, p_in.n_atoms, p_in.n_edges, p_in.channels);
  RotateBackScatterBwdParams<T> p = p_in;
  p.msg_groups = resolve_rows(p.msg, p.msg_groups, p.channels);
  p.grad_msg_groups = resolve_rows(p.grad_msg, p.grad_msg_groups, p.channels);
  const bool want_msg = p.grad_msg_groups.defined(), want_w = p.grad_wigner_inv != nullptr;
  if (p.n_edges == 0 || (!want_msg && !want_w)) return;
  require(p.grad_out && p.dst, kLabel, "null grad_out/dst", p.n_atoms, p.n_edges, p.channels);
  // want_msg means at least one grad_msg group is present; absent ones are not written.
  require(!want_msg || (p.wigner_inv && present_rows_valid(p.grad_msg_groups, p.channels)), kLabel,
          "grad_msg wanted but wigner_inv is null or an m-group stride is shorter than its rows", p.n_atoms,
          p.n_edges, p.channels);
  require(!want_w || present_rows_valid(p.msg_groups, p.channels), kLabel,
          "grad_wigner_inv wanted but no msg m-group is present (any may be absent, meaning zero rows, but at least "
          "one must be given) or an m-group stride is shorter than its rows",
          p.n_atoms, p.n_edges, p.channels);
  const bool wide = use_wide<T>(p.channels, {p.grad_out}) && (!want_w || rows_wide<T>(p.msg_groups)) &&
                    (!want_msg || rows_wide<T>(p.grad_msg_groups));
  // A group only needs its presence tested where the kernel reads or writes it.
  const bool all = (!want_w || all_present(p.msg_groups)) && (!want_msg || all_present(p.grad_msg_groups));
  with_all_groups(all, [&](auto all_c) {
    if (wide)
      launch_rotate_back_scatter_bwd<T, kVecWide<T>, all_c()>(p, want_msg, want_w, stream);
    else
      launch_rotate_back_scatter_bwd<T, 1, all_c()>(p, want_msg, want_w, stream);
  });
  check_launch(kLabel, p.n_atoms, p.n_edges, p.channels);
}

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_WIGNER_LAUNCH_IMPL_CUH
