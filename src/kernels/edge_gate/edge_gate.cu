// Fused edge gate kernels and launchers (edge_gate_launch.h), fp32 and fp64. One thread per (edge, channel): the
// two gate logits and the nine rows of that channel are read once and the nine outputs written once, where the
// Torch form is a sigmoid, a SiLU, three broadcast products and a concatenation forward, and twice that many kernels
// (with zero-filled slice gradients and broadcast reductions) backward. Elementwise and memory-bound: coalesced
// along the channels, no shared memory.
#include <cuda_runtime.h>

#include <sstream>
#include <stdexcept>
#include <string>

#include "edge_gate_launch.h"
#include "kernels/device_math.cuh"
#include "kernels/launch_check.h"
#include "kernels/tf32_operand.cuh"

namespace uma {
namespace kernels {
namespace {

constexpr int kGateThreads = 256;

template <typename T>
__global__ void __launch_bounds__(kGateThreads) edge_gate_fwd_kernel(const EdgeGateFwdParams<T> p) {
  const int64_t H = p.channels, n = p.n_edges * H;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t e = i / H, c = i - e * H;
    const T* row = p.m0g + e * p.ld + c;
    const T s1 = sigmoid_of(row[0]), s2 = sigmoid_of(row[H]);
    const T x0 = row[2 * H];
    const bool rn = p.round_tf32;
    T* o0 = p.out0 + e * 3 * H + c;
    o0[0] = tf32_operand_if(rn, x0 * sigmoid_of(x0));
    o0[H] = tf32_operand_if(rn, row[3 * H] * s1);
    o0[2 * H] = tf32_operand_if(rn, row[4 * H] * s2);
    const T* x1 = p.m1 + e * 4 * H + c;
    T* o1 = p.out1 + e * 4 * H + c;
#pragma unroll
    for (int r = 0; r < 4; ++r) o1[r * H] = tf32_operand_if(rn, x1[r * H] * (r % 2 == 0 ? s1 : s2));  // kGateDegreeOfM1Row
    const T* x2 = p.m2 + e * 2 * H + c;
    T* o2 = p.out2 + e * 2 * H + c;
    o2[0] = tf32_operand_if(rn, x2[0] * s2);
    o2[H] = tf32_operand_if(rn, x2[H] * s2);
  }
}

template <typename T>
__global__ void __launch_bounds__(kGateThreads) edge_gate_bwd_kernel(const EdgeGateBwdParams<T> p) {
  const int64_t H = p.channels, n = p.n_edges * H;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t e = i / H, c = i - e * H;
    const T* row = p.m0g + e * p.ld + c;
    const T s1 = sigmoid_of(row[0]), s2 = sigmoid_of(row[H]);
    const bool rn = p.round_tf32;
    const T* G0 = p.grad_out0 + e * 3 * H + c;
    const T* G1 = p.grad_out1 + e * 4 * H + c;
    const T* G2 = p.grad_out2 + e * 2 * H + c;
    const T* x1 = p.m1 + e * 4 * H + c;
    const T* x2 = p.m2 + e * 2 * H + c;
    const T g0 = G0[0], g01 = G0[H], g02 = G0[2 * H];
    T dot1 = g01 * row[3 * H], dot2 = g02 * row[4 * H];
    T* gm1 = p.grad_m1 + e * 4 * H + c;
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      const T g = G1[r * H];
      if (r % 2 == 0) {
        dot1 += g * x1[r * H];
        gm1[r * H] = tf32_operand_if(rn, g * s1);
      } else {
        dot2 += g * x1[r * H];
        gm1[r * H] = tf32_operand_if(rn, g * s2);
      }
    }
    T* gm2 = p.grad_m2 + e * 2 * H + c;
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const T g = G2[r * H];
      dot2 += g * x2[r * H];
      gm2[r * H] = tf32_operand_if(rn, g * s2);
    }
    const T x0 = row[2 * H], s0 = sigmoid_of(x0);
    T* gy = p.grad_m0g + e * 5 * H + c;
    gy[0] = tf32_operand_if(rn, dot1 * s1 * (T(1) - s1));
    gy[H] = tf32_operand_if(rn, dot2 * s2 * (T(1) - s2));
    gy[2 * H] = tf32_operand_if(rn, g0 * s0 * (T(1) + x0 * (T(1) - s0)));
    gy[3 * H] = tf32_operand_if(rn, g01 * s1);
    gy[4 * H] = tf32_operand_if(rn, g02 * s2);
  }
}

// The gate factors (EdgeGateFactorsParams): three sigmoids per (edge, channel), for K2 on the TMA host.
template <typename T>
__global__ void __launch_bounds__(kGateThreads) edge_gate_factors_kernel(const EdgeGateFactorsParams<T> p) {
  const int64_t H = p.channels, n = p.n_edges * H;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t e = i / H, c = i - e * H;
    const T* row = p.m0g + e * p.ld + c;
    T* f = p.factors + e * 3 * H + c;
    f[0] = sigmoid_of(row[2 * H]);
    f[H] = sigmoid_of(row[0]);
    f[2 * H] = sigmoid_of(row[H]);
  }
}

std::string sizes(int64_t n_edges, int64_t H, int64_t ld) {
  std::ostringstream s;
  s << "(n_edges=" << n_edges << ", channels=" << H << ", ld=" << ld << ")";
  return s.str();
}

void require(bool ok, const char* label, const char* what, int64_t n_edges, int64_t H, int64_t ld) {
  if (!ok) throw std::invalid_argument(std::string(label) + ": " + what + " " + sizes(n_edges, H, ld));
}

void check_launch(const char* label, int64_t n_edges, int64_t H, int64_t ld) {
  throw_if_launch_failed(label, sizes(n_edges, H, ld));
}

unsigned int blocks_for(int64_t n) { return grid_stride_blocks(n, kGateThreads); }

}  // namespace

template <typename T>
void edge_gate_fwd(const EdgeGateFwdParams<T>& p, cudaStream_t stream) {
  constexpr const char* kLabel = "uma::edge_gate_fwd";
  require(p.n_edges >= 0 && p.channels > 0 && p.ld >= 5 * p.channels, kLabel, "bad sizes", p.n_edges, p.channels,
          p.ld);
  if (p.n_edges == 0) return;
  require(p.m0g && p.m1 && p.m2 && p.out0 && p.out1 && p.out2, kLabel, "null pointer", p.n_edges, p.channels, p.ld);
  edge_gate_fwd_kernel<T><<<blocks_for(p.n_edges * p.channels), kGateThreads, 0, stream>>>(p);
  check_launch(kLabel, p.n_edges, p.channels, p.ld);
}

template <typename T>
void edge_gate_bwd(const EdgeGateBwdParams<T>& p, cudaStream_t stream) {
  constexpr const char* kLabel = "uma::edge_gate_bwd";
  require(p.n_edges >= 0 && p.channels > 0 && p.ld >= 5 * p.channels, kLabel, "bad sizes", p.n_edges, p.channels,
          p.ld);
  if (p.n_edges == 0) return;
  require(p.grad_out0 && p.grad_out1 && p.grad_out2 && p.m0g && p.m1 && p.m2 && p.grad_m0g && p.grad_m1 &&
              p.grad_m2,
          kLabel, "null pointer", p.n_edges, p.channels, p.ld);
  edge_gate_bwd_kernel<T><<<blocks_for(p.n_edges * p.channels), kGateThreads, 0, stream>>>(p);
  check_launch(kLabel, p.n_edges, p.channels, p.ld);
}

template <typename T>
void edge_gate_factors(const EdgeGateFactorsParams<T>& p, cudaStream_t stream) {
  constexpr const char* kLabel = "uma::edge_gate_factors";
  require(p.n_edges >= 0 && p.channels > 0 && p.ld >= 5 * p.channels, kLabel, "bad sizes", p.n_edges, p.channels,
          p.ld);
  if (p.n_edges == 0) return;
  require(p.m0g && p.factors, kLabel, "null pointer", p.n_edges, p.channels, p.ld);
  edge_gate_factors_kernel<T><<<blocks_for(p.n_edges * p.channels), kGateThreads, 0, stream>>>(p);
  check_launch(kLabel, p.n_edges, p.channels, p.ld);
}

template void edge_gate_fwd<float>(const EdgeGateFwdParams<float>&, cudaStream_t);
template void edge_gate_fwd<double>(const EdgeGateFwdParams<double>&, cudaStream_t);
template void edge_gate_bwd<float>(const EdgeGateBwdParams<float>&, cudaStream_t);
template void edge_gate_bwd<double>(const EdgeGateBwdParams<double>&, cudaStream_t);
template void edge_gate_factors<float>(const EdgeGateFactorsParams<float>&, cudaStream_t);
template void edge_gate_factors<double>(const EdgeGateFactorsParams<double>&, cudaStream_t);

}  // namespace kernels
}  // namespace uma
