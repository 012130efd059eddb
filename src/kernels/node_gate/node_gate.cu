// Fused node gate kernels and launchers (node_gate_launch.h), fp32 and fp64. One thread per (node, channel): the two
// gate logits and the nine rows of that channel are read once and the nine outputs written once, where the Torch
// form is a SiLU, a sigmoid, a split, a SiLU, two broadcast products and a concatenation forward, and about twice
// that many kernels (with zero-filled slice gradients and broadcast reductions) backward. Elementwise and
// memory-bound: coalesced along the channels, no shared memory.
#include <cuda_runtime.h>

#include <sstream>
#include <stdexcept>
#include <string>

#include "kernels/device_math.cuh"
#include "kernels/launch_check.h"
#include "node_gate_launch.h"

namespace uma {
namespace kernels {
namespace {

constexpr int kGateThreads = 256;

// silu(x) and its derivative σ(x) (1 + x (1 - σ(x))) from one σ.
template <typename T>
__device__ __forceinline__ T silu_of(T x) {
  return x * sigmoid_of(x);
}
template <typename T>
__device__ __forceinline__ T silu_grad_of(T x) {
  const T s = sigmoid_of(x);
  return s * (T(1) + x * (T(1) - s));
}

template <typename T>
__global__ void __launch_bounds__(kGateThreads) node_gate_fwd_kernel(const NodeGateFwdParams<T> p) {
  const int64_t H = p.channels, n_all = p.n_nodes * H;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n_all; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t n = i / H, c = i - n * H;
    const T* z = p.z + n * p.ld_z + c;
    const T s1 = sigmoid_of(silu_of(z[0])), s2 = sigmoid_of(silu_of(z[H]));
    const T* h = p.h.p + n * p.h.node_stride + c;
    T* o = p.out.p + n * p.out.node_stride + c;
    o[0] = silu_of(h[0]);
#pragma unroll
    for (int r = 1; r < kNodeGateRows; ++r)
      o[r * p.out.row_stride] = h[r * p.h.row_stride] * (r < 4 ? s1 : s2);  // node_gate_degree_of_row
  }
}

template <typename T>
__global__ void __launch_bounds__(kGateThreads) node_gate_bwd_kernel(const NodeGateBwdParams<T> p) {
  const int64_t H = p.channels, n_all = p.n_nodes * H;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n_all; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t n = i / H, c = i - n * H;
    const T* z = p.z + n * p.ld_z + c;
    const T z1 = z[0], z2 = z[H];
    const T s1 = sigmoid_of(silu_of(z1)), s2 = sigmoid_of(silu_of(z2));
    const T* G = p.grad_out.p + n * p.grad_out.node_stride + c;
    const T* h = p.h.p + n * p.h.node_stride + c;
    T* dh = p.grad_h.p + n * p.grad_h.node_stride + c;
    dh[0] = G[0] * silu_grad_of(h[0]);
    T dot1 = 0, dot2 = 0;
#pragma unroll
    for (int r = 1; r < kNodeGateRows; ++r) {
      const T g = G[r * p.grad_out.row_stride], x = h[r * p.h.row_stride];
      if (r < 4) {  // degree 1 (node_gate_degree_of_row)
        dot1 += g * x;
        dh[r * p.grad_h.row_stride] = g * s1;
      } else {
        dot2 += g * x;
        dh[r * p.grad_h.row_stride] = g * s2;
      }
    }
    T* dz = p.grad_z + n * 2 * H + c;
    dz[0] = silu_grad_of(z1) * (s1 * (T(1) - s1)) * dot1;
    dz[H] = silu_grad_of(z2) * (s2 * (T(1) - s2)) * dot2;
  }
}

std::string sizes(int64_t n_nodes, int64_t H, int64_t ld_z) {
  std::ostringstream s;
  s << "(n_nodes=" << n_nodes << ", channels=" << H << ", ld_z=" << ld_z << ")";
  return s.str();
}

// A [nodes, 9, H] layout whose elements do not overlap: rows inside nodes, or nodes inside rows.
template <typename T>
bool layout_ok(const NodeRows<T>& t, int64_t n_nodes, int64_t H) {
  return (t.row_stride >= H && t.node_stride >= kNodeGateRows * t.row_stride) ||
         (t.node_stride >= H && t.row_stride >= n_nodes * t.node_stride);
}

void require(bool ok, const char* label, const char* what, int64_t n_nodes, int64_t H, int64_t ld_z) {
  if (!ok) throw std::invalid_argument(std::string(label) + ": " + what + " " + sizes(n_nodes, H, ld_z));
}

unsigned int blocks_for(int64_t n) { return grid_stride_blocks(n, kGateThreads); }

}  // namespace

template <typename T>
void node_gate_fwd(const NodeGateFwdParams<T>& p, cudaStream_t stream) {
  constexpr const char* kLabel = "uma::node_gate_fwd";
  const int64_t N = p.n_nodes, H = p.channels;
  require(N >= 0 && H > 0 && p.ld_z >= 2 * H && layout_ok(p.h, N, H) && layout_ok(p.out, N, H), kLabel, "bad sizes",
          N, H, p.ld_z);
  if (N == 0) return;
  require(p.h.p && p.z && p.out.p, kLabel, "null pointer", N, H, p.ld_z);
  node_gate_fwd_kernel<T><<<blocks_for(N * H), kGateThreads, 0, stream>>>(p);
  throw_if_launch_failed(kLabel, sizes(N, H, p.ld_z));
}

template <typename T>
void node_gate_bwd(const NodeGateBwdParams<T>& p, cudaStream_t stream) {
  constexpr const char* kLabel = "uma::node_gate_bwd";
  const int64_t N = p.n_nodes, H = p.channels;
  require(N >= 0 && H > 0 && p.ld_z >= 2 * H && layout_ok(p.grad_out, N, H) && layout_ok(p.h, N, H) &&
              layout_ok(p.grad_h, N, H),
          kLabel, "bad sizes", N, H, p.ld_z);
  if (N == 0) return;
  require(p.grad_out.p && p.h.p && p.z && p.grad_h.p && p.grad_z, kLabel, "null pointer", N, H, p.ld_z);
  node_gate_bwd_kernel<T><<<blocks_for(N * H), kGateThreads, 0, stream>>>(p);
  throw_if_launch_failed(kLabel, sizes(N, H, p.ld_z));
}

template void node_gate_fwd<float>(const NodeGateFwdParams<float>&, cudaStream_t);
template void node_gate_fwd<double>(const NodeGateFwdParams<double>&, cudaStream_t);
template void node_gate_bwd<float>(const NodeGateBwdParams<float>&, cudaStream_t);
template void node_gate_bwd<double>(const NodeGateBwdParams<double>&, cudaStream_t);

}  // namespace kernels
}  // namespace uma
