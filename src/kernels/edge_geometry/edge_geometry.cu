// Fused edge geometry kernels and launchers (edge_geometry_launch.h), fp32 and fp64. One thread per edge runs the
// per-edge maths (edge_geometry_math.h: forward, or the forward-mode Jacobian for the backward); the 9x9 rows go
// through shared memory so that global memory is read and written in whole contiguous blocks of edges, where a
// thread per edge would touch 81-element strides. Replaces the ~40 Torch kernels of engine/so3/wigner.cpp's forward
// (with its K = 3 batched GEMMs on the FP32 pipes) and the ~100 of their autograd backward.
#include <cuda_runtime.h>

#include <sstream>
#include <stdexcept>
#include <string>

#include "edge_geometry_launch.h"
#include "kernels/launch_check.h"
#include "edge_geometry_math.h"

namespace uma {
namespace kernels {
namespace {

constexpr int kD = kGeometryCoefficients * kGeometryCoefficients;

// Edges (= threads) per block: two [edges][81] staging buffers stay within the 48 KiB of static shared memory.
template <typename T>
struct EdgesPerBlock {
  static constexpr int value = sizeof(T) == 4 ? 64 : 32;
};

template <typename T>
__global__ void __launch_bounds__(EdgesPerBlock<T>::value) edge_geometry_fwd_kernel(const EdgeGeometryFwdParams<T> p) {
  constexpr int kB = EdgesPerBlock<T>::value;
  __shared__ T w_s[kB * kD];
  __shared__ T wi_s[kB * kD];
  __shared__ T dist_s[kB];
  const int64_t e0 = int64_t(blockIdx.x) * kB;
  const int n = int(p.n_edges - e0 < kB ? p.n_edges - e0 : kB);
  const int t = threadIdx.x;
  if (t < n) {
    const T vec[3] = {p.vec[3 * (e0 + t)], p.vec[3 * (e0 + t) + 1], p.vec[3 * (e0 + t) + 2]};
    dist_s[t] = geometry::edge_forward(vec, p.c.cutoff, w_s + kD * t, wi_s + kD * t);
  }
  __syncthreads();
  for (int i = t; i < n * kD; i += kB) {
    p.wigner[kD * e0 + i] = w_s[i];
    p.wigner_inv_env[kD * e0 + i] = wi_s[i];
  }
  const int G = int(p.c.num_gaussians);
  for (int i = t; i < n * G; i += kB) {
    const int e = i / G, q = i - e * G;
    p.gauss[G * e0 + i] = geometry::gaussian(dist_s[e], p.c.gauss_coeff, p.c.offsets[q]);
  }
}

template <typename T>
__global__ void __launch_bounds__(EdgesPerBlock<T>::value) edge_geometry_bwd_kernel(const EdgeGeometryBwdParams<T> p) {
  constexpr int kB = EdgesPerBlock<T>::value;
  __shared__ T gw_s[kB * kD];
  __shared__ T gwi_s[kB * kD];
  const int64_t e0 = int64_t(blockIdx.x) * kB;
  const int n = int(p.n_edges - e0 < kB ? p.n_edges - e0 : kB);
  const int t = threadIdx.x;
  for (int i = t; i < n * kD; i += kB) {
    if (p.grad_wigner) gw_s[i] = p.grad_wigner[kD * e0 + i];
    if (p.grad_wigner_inv_env) gwi_s[i] = p.grad_wigner_inv_env[kD * e0 + i];
  }
  __syncthreads();
  if (t < n) {
    const int64_t e = e0 + t;
    const T vec[3] = {p.vec[3 * e], p.vec[3 * e + 1], p.vec[3 * e + 2]};
    T g[3];
    geometry::edge_backward(vec, p.grad_wigner ? gw_s + kD * t : nullptr,
                            p.grad_wigner_inv_env ? gwi_s + kD * t : nullptr,
                            p.grad_gauss ? p.grad_gauss + p.c.num_gaussians * e : nullptr, p.c, g);
    for (int k = 0; k < 3; ++k) p.grad_vec[3 * e + k] = g[k];
  }
}

std::string sizes(int64_t n_edges, int64_t G) {
  std::ostringstream s;
  s << "(n_edges " << n_edges << ", num_gaussians " << G << ")";
  return s.str();
}

template <typename T>
void check_common(const char* label, int64_t n_edges, const EdgeGeometryConstants<T>& c) {
  if (n_edges < 0 || c.num_gaussians < 1 || c.num_gaussians > (int64_t(1) << 20) || !c.offsets || !(c.cutoff > T(0)))
    throw std::invalid_argument(std::string(label) + ": need n_edges >= 0, 1 <= num_gaussians <= 2^20, offsets and "
                                "cutoff > 0 " + sizes(n_edges, c.num_gaussians));
  if (n_edges > (int64_t(1) << 40))
    throw std::invalid_argument(std::string(label) + ": too many edges " + sizes(n_edges, c.num_gaussians));
}

void check_launch(const char* label, int64_t n_edges, int64_t G) { throw_if_launch_failed(label, sizes(n_edges, G)); }

}  // namespace

template <typename T>
void edge_geometry_fwd(const EdgeGeometryFwdParams<T>& p, cudaStream_t stream) {
  constexpr const char* kLabel = "edge_geometry_fwd";
  check_common(kLabel, p.n_edges, p.c);
  if (p.n_edges == 0) return;
  if (!p.vec || !p.wigner || !p.wigner_inv_env || !p.gauss)
    throw std::invalid_argument(std::string(kLabel) + ": vec and all three outputs are required");
  constexpr int kB = EdgesPerBlock<T>::value;
  const int64_t blocks = (p.n_edges + kB - 1) / kB;
  edge_geometry_fwd_kernel<T><<<unsigned(blocks), kB, 0, stream>>>(p);
  check_launch(kLabel, p.n_edges, p.c.num_gaussians);
}

template <typename T>
void edge_geometry_bwd(const EdgeGeometryBwdParams<T>& p, cudaStream_t stream) {
  constexpr const char* kLabel = "edge_geometry_bwd";
  check_common(kLabel, p.n_edges, p.c);
  if (p.n_edges == 0) return;
  if (!p.vec || !p.grad_vec) throw std::invalid_argument(std::string(kLabel) + ": vec and grad_vec are required");
  constexpr int kB = EdgesPerBlock<T>::value;
  const int64_t blocks = (p.n_edges + kB - 1) / kB;
  edge_geometry_bwd_kernel<T><<<unsigned(blocks), kB, 0, stream>>>(p);
  check_launch(kLabel, p.n_edges, p.c.num_gaussians);
}

template void edge_geometry_fwd<float>(const EdgeGeometryFwdParams<float>&, cudaStream_t);
template void edge_geometry_fwd<double>(const EdgeGeometryFwdParams<double>&, cudaStream_t);
template void edge_geometry_bwd<float>(const EdgeGeometryBwdParams<float>&, cudaStream_t);
template void edge_geometry_bwd<double>(const EdgeGeometryBwdParams<double>&, cudaStream_t);

}  // namespace kernels
}  // namespace uma
