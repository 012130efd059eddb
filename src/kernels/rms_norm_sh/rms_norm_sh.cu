// Fused equivariant RMS norm kernels and launchers (rms_norm_sh_launch.h), fp32 and fp64. One warp per node: the
// node's 9 rows of C are read once into registers (16-byte vector loads; lane `lane` holds the vectors at channels
// (j·32 + lane)·kVec, j < kChunks, of every row), the l = 0 mean and the balanced mean square come from two
// warp-shuffle reductions (the second over the centred values: no cancellation), and y is written once; torch's form
// is ~12 kernels forward (split, mean, cat, pow, mul, sum, mean, add, pow, index_select, mul, cat) and ~20 backward.
// The backward reads x, recomputes f and s from it (the forward saves nothing but its input), reads dy and the
// weights once to form D = Σ a·f (one reduction), then again (from L1/L2) to write dx, the l = 0 row first for the
// mean its centring subtracts (one more reduction); so only x stays in registers. Everything in the working
// precision, as torch's form. Channel counts past the register tiles (fp32: 512, fp64: 256), or not a multiple of
// the vector width, or misaligned arrays take a loop kernel that reads the node from global memory on every pass
// instead. Memory-bound: no shared memory. No atomics: bitwise repeatable.
#include <cuda_runtime.h>

#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>

#include "rms_norm_sh_launch.h"
#include "kernels/device_math.cuh"
#include "kernels/launch_check.h"

namespace uma {
namespace kernels {
namespace {

constexpr int kThreads = 256;
constexpr int kNodesPerBlock = kThreads / kWarp;  // one node per warp at a time, grid-stride over nodes
constexpr int kRows = kRmsNormShRows;
static_assert(kThreads % kWarp == 0, "a block is whole warps: every lane of a warp takes part in its node's shuffles");
static_assert(kRows == 9 && kRmsNormShDegrees == 3, "degree_of and balance below are written for lmax = 2");

// The widest register tile: kMaxChunks vectors per lane and row (9 · 4 · 16 bytes = 144 words per lane).
constexpr int kMaxChunks = 4;

// l of row i, and its balance 1/((2l+1)(lmax+1)) rounded from double as LayerTables::degree_balance is. Constants
// wherever i is (every row loop is unrolled).
__host__ __device__ constexpr int degree_of(int i) { return i == 0 ? 0 : (i < 4 ? 1 : 2); }

template <typename T>
__device__ __forceinline__ T balance(int i) {
  return i == 0 ? T(1.0 / 3) : (i < 4 ? T(1.0 / 9) : T(1.0 / 15));
}


// ---- register tiles ----

// Loads node x (zeros past C), centres its l = 0 row in place (f) and returns s = 1/sqrt(norm + eps).
template <typename T, int kVec, int kChunks>
__device__ __forceinline__ T load_centred(const T* x, int64_t C, T eps, int lane, T (&f)[kRows][kChunks][kVec]) {
#pragma unroll
  for (int i = 0; i < kRows; ++i) {
#pragma unroll
    for (int j = 0; j < kChunks; ++j) {
      const int64_t c = (int64_t(j) * kWarp + lane) * kVec;
      if (c < C) {  // C % kVec == 0 on the tile path: the whole vector is inside the row
        load(x + i * C + c, f[i][j]);
      } else {
#pragma unroll
        for (int v = 0; v < kVec; ++v) f[i][j][v] = T(0);
      }
    }
  }
  T sum0 = T(0);
#pragma unroll
  for (int j = 0; j < kChunks; ++j)
#pragma unroll
    for (int v = 0; v < kVec; ++v) sum0 += f[0][j][v];  // zeros past C
  const T mean0 = warp_sum(sum0) / T(C);
  T sq = T(0);
#pragma unroll
  for (int i = 0; i < kRows; ++i) {
    T row = T(0);
#pragma unroll
    for (int j = 0; j < kChunks; ++j) {
      const int64_t c = (int64_t(j) * kWarp + lane) * kVec;
      if (c < C) {  // past C f stays 0 (row 0 too: not centred there)
#pragma unroll
        for (int v = 0; v < kVec; ++v) {
          if (i == 0) f[0][j][v] -= mean0;
          row += f[i][j][v] * f[i][j][v];
        }
      }
    }
    sq += balance<T>(i) * row;
  }
  return inv_sqrt(warp_sum(sq) / T(C) + eps);
}

template <typename T, int kVec, int kChunks>
__global__ void __launch_bounds__(kThreads) rms_norm_sh_fwd_tile_kernel(const RmsNormShFwdParams<T> p) {
  const int lane = threadIdx.x % kWarp;
  const int64_t C = p.channels, stride = int64_t(gridDim.x) * kNodesPerBlock;
  const T eps = T(p.eps);
  for (int64_t node = int64_t(blockIdx.x) * kNodesPerBlock + threadIdx.x / kWarp; node < p.nodes; node += stride) {
    T f[kRows][kChunks][kVec];
    const T s = load_centred<T, kVec, kChunks>(p.x + node * p.ld, C, eps, lane, f);
    T* y = p.y + node * kRows * C;
#pragma unroll
    for (int j = 0; j < kChunks; ++j) {
      const int64_t c = (int64_t(j) * kWarp + lane) * kVec;
      if (c < C) {
        T w[kRmsNormShDegrees][kVec], b[kVec], e[kVec];
#pragma unroll
        for (int l = 0; l < kRmsNormShDegrees; ++l) load(p.weight + l * C + c, w[l]);
        load(p.bias + c, b);
        if (p.extra_bias) load(p.extra_bias + c, e);
#pragma unroll
        for (int i = 0; i < kRows; ++i) {
          T out[kVec];
#pragma unroll
          for (int v = 0; v < kVec; ++v) {
            out[v] = f[i][j][v] * (s * w[degree_of(i)][v]);  // torch's form: feature · (norm · weight)
            if (i == 0) {
              out[v] += b[v];
              if (p.extra_bias) out[v] += e[v];
            }
          }
          store(y + i * C + c, out);
        }
      }
    }
  }
}

template <typename T, int kVec, int kChunks>
__global__ void __launch_bounds__(kThreads) rms_norm_sh_bwd_tile_kernel(const RmsNormShBwdParams<T> p) {
  const int lane = threadIdx.x % kWarp;
  const int64_t C = p.channels, stride = int64_t(gridDim.x) * kNodesPerBlock;
  const T eps = T(p.eps);
  for (int64_t node = int64_t(blockIdx.x) * kNodesPerBlock + threadIdx.x / kWarp; node < p.nodes; node += stride) {
    T f[kRows][kChunks][kVec];
    const T s = load_centred<T, kVec, kChunks>(p.x + node * p.ld, C, eps, lane, f);
    const T* dy = p.grad_y + node * kRows * C;
    T dot = T(0);  // D = Σ a·f, a = dy · weight[l]
#pragma unroll
    for (int j = 0; j < kChunks; ++j) {
      const int64_t c = (int64_t(j) * kWarp + lane) * kVec;
      if (c < C) {
        T w[kRmsNormShDegrees][kVec];
#pragma unroll
        for (int l = 0; l < kRmsNormShDegrees; ++l) load(p.weight + l * C + c, w[l]);
#pragma unroll
        for (int i = 0; i < kRows; ++i) {
          T g[kVec];
          load(dy + i * C + c, g);
#pragma unroll
          for (int v = 0; v < kVec; ++v) dot += g[v] * w[degree_of(i)][v] * f[i][j][v];
        }
      }
    }
    const T k = s * s * s / T(C) * warp_sum(dot);  // df_i = s·a_i - k·bal_i·f_i
    T* dx = p.grad_x + node * kRows * C;
    // Row 0: df_0 in registers for its mean (the centring's adjoint), then written.
    T df0[kChunks][kVec];
    T sum0 = T(0);
#pragma unroll
    for (int j = 0; j < kChunks; ++j) {
      const int64_t c = (int64_t(j) * kWarp + lane) * kVec;
      if (c < C) {
        T w[kVec], g[kVec];
        load(p.weight + c, w);
        load(dy + c, g);
#pragma unroll
        for (int v = 0; v < kVec; ++v) {
          df0[j][v] = s * (g[v] * w[v]) - k * balance<T>(0) * f[0][j][v];
          sum0 += df0[j][v];
        }
      }
    }
    const T mean0 = warp_sum(sum0) / T(C);
#pragma unroll
    for (int j = 0; j < kChunks; ++j) {
      const int64_t c = (int64_t(j) * kWarp + lane) * kVec;
      if (c < C) {
        T out[kVec];
#pragma unroll
        for (int v = 0; v < kVec; ++v) out[v] = df0[j][v] - mean0;
        store(dx + c, out);
        T w[2][kVec];  // degrees 1 and 2
        load(p.weight + C + c, w[0]);
        load(p.weight + 2 * C + c, w[1]);
#pragma unroll
        for (int i = 1; i < kRows; ++i) {
          T g[kVec];
          load(dy + i * C + c, g);
#pragma unroll
          for (int v = 0; v < kVec; ++v)
            out[v] = s * (g[v] * w[degree_of(i) - 1][v]) - k * balance<T>(i) * f[i][j][v];
          store(dx + i * C + c, out);
        }
      }
    }
  }
}

// ---- any channel count and alignment: scalar, coalesced, the node re-read from global memory (L1/L2) per pass ----

template <typename T>
__device__ __forceinline__ void node_stats(const T* x, int64_t C, T eps, int lane, T& mean0, T& s) {
  T sum0 = T(0);
  for (int64_t c = lane; c < C; c += kWarp) sum0 += x[c];
  mean0 = warp_sum(sum0) / T(C);
  T sq = T(0);
#pragma unroll
  for (int i = 0; i < kRows; ++i) {
    T row = T(0);
    for (int64_t c = lane; c < C; c += kWarp) {
      const T v = i == 0 ? x[c] - mean0 : x[i * C + c];
      row += v * v;
    }
    sq += balance<T>(i) * row;
  }
  s = inv_sqrt(warp_sum(sq) / T(C) + eps);
}

template <typename T>
__global__ void __launch_bounds__(kThreads) rms_norm_sh_fwd_loop_kernel(const RmsNormShFwdParams<T> p) {
  const int lane = threadIdx.x % kWarp;
  const int64_t C = p.channels, stride = int64_t(gridDim.x) * kNodesPerBlock;
  const T eps = T(p.eps);
  for (int64_t node = int64_t(blockIdx.x) * kNodesPerBlock + threadIdx.x / kWarp; node < p.nodes; node += stride) {
    const T* x = p.x + node * p.ld;
    T mean0, s;
    node_stats(x, C, eps, lane, mean0, s);
    T* y = p.y + node * kRows * C;
#pragma unroll
    for (int i = 0; i < kRows; ++i)
      for (int64_t c = lane; c < C; c += kWarp) {
        T out = (i == 0 ? x[c] - mean0 : x[i * C + c]) * (s * p.weight[degree_of(i) * C + c]);
        if (i == 0) {
          out += p.bias[c];
          if (p.extra_bias) out += p.extra_bias[c];
        }
        y[i * C + c] = out;
      }
  }
}

template <typename T>
__global__ void __launch_bounds__(kThreads) rms_norm_sh_bwd_loop_kernel(const RmsNormShBwdParams<T> p) {
  const int lane = threadIdx.x % kWarp;
  const int64_t C = p.channels, stride = int64_t(gridDim.x) * kNodesPerBlock;
  const T eps = T(p.eps);
  for (int64_t node = int64_t(blockIdx.x) * kNodesPerBlock + threadIdx.x / kWarp; node < p.nodes; node += stride) {
    const T* x = p.x + node * p.ld;
    const T* dy = p.grad_y + node * kRows * C;
    T mean0, s;
    node_stats(x, C, eps, lane, mean0, s);
    T dot = T(0);
#pragma unroll
    for (int i = 0; i < kRows; ++i)
      for (int64_t c = lane; c < C; c += kWarp)
        dot += dy[i * C + c] * p.weight[degree_of(i) * C + c] * (i == 0 ? x[c] - mean0 : x[i * C + c]);
    const T k = s * s * s / T(C) * warp_sum(dot);
    T sum0 = T(0);
    for (int64_t c = lane; c < C; c += kWarp)
      sum0 += s * (dy[c] * p.weight[c]) - k * balance<T>(0) * (x[c] - mean0);
    const T mean_df0 = warp_sum(sum0) / T(C);
    T* dx = p.grad_x + node * kRows * C;
#pragma unroll
    for (int i = 0; i < kRows; ++i)
      for (int64_t c = lane; c < C; c += kWarp) {  // recomputes df (cheaper than a scratch node in global memory)
        const T f = i == 0 ? x[c] - mean0 : x[i * C + c];
        const T df = s * (dy[i * C + c] * p.weight[degree_of(i) * C + c]) - k * balance<T>(i) * f;
        dx[i * C + c] = i == 0 ? df - mean_df0 : df;
      }
  }
}

// ---- launch ----

std::string sizes(int64_t nodes, int64_t C, int64_t ld) {
  std::ostringstream s;
  s << "(nodes=" << nodes << ", channels=" << C << ", ld=" << ld << ")";
  return s.str();
}

void require(bool ok, const char* label, const char* what, int64_t nodes, int64_t C, int64_t ld) {
  if (!ok) throw std::invalid_argument(std::string(label) + ": " + what + " " + sizes(nodes, C, ld));
}

bool sizes_ok(int64_t nodes, int64_t C, int64_t ld, double eps) {
  return nodes >= 0 && C > 0 && C <= (int64_t(1) << 40) && ld >= kRows * C && eps >= 0;
}

unsigned int blocks_for(int64_t nodes) { return grid_stride_blocks(nodes, kNodesPerBlock); }


// The smallest register tile of kVec-vectors that holds a row of C, or 0 for none (the loop kernel).
template <int kVec>
int chunks_for(int64_t C) {
  for (int chunks = 1; chunks <= kMaxChunks; chunks *= 2)
    if (C <= int64_t(chunks) * kWarp * kVec) return chunks;
  return 0;
}
static_assert(kMaxChunks == 4, "the launchers' cases are the powers of two up to kMaxChunks");

}  // namespace

template <typename T>
void rms_norm_sh_fwd(const RmsNormShFwdParams<T>& p, cudaStream_t stream) {
  constexpr const char* kLabel = "uma::rms_norm_sh_fwd";
  require(sizes_ok(p.nodes, p.channels, p.ld, p.eps), kLabel, "bad sizes", p.nodes, p.channels, p.ld);
  if (p.nodes == 0) return;
  require(p.x && p.weight && p.bias && p.y, kLabel, "null pointer", p.nodes, p.channels, p.ld);
  constexpr int kVec = kVecOf<T>;
  const bool vec = p.channels % kVec == 0 && p.ld % kVec == 0 && aligned16(p.x) && aligned16(p.weight) &&
                   aligned16(p.bias) && (!p.extra_bias || aligned16(p.extra_bias)) && aligned16(p.y);
  const unsigned int blocks = blocks_for(p.nodes);
  switch (vec ? chunks_for<kVec>(p.channels) : 0) {
    case 1: rms_norm_sh_fwd_tile_kernel<T, kVec, 1><<<blocks, kThreads, 0, stream>>>(p); break;
    case 2: rms_norm_sh_fwd_tile_kernel<T, kVec, 2><<<blocks, kThreads, 0, stream>>>(p); break;
    case 4: rms_norm_sh_fwd_tile_kernel<T, kVec, 4><<<blocks, kThreads, 0, stream>>>(p); break;
    default: rms_norm_sh_fwd_loop_kernel<T><<<blocks, kThreads, 0, stream>>>(p); break;
  }
  throw_if_launch_failed(kLabel, sizes(p.nodes, p.channels, p.ld));
}

template <typename T>
void rms_norm_sh_bwd(const RmsNormShBwdParams<T>& p, cudaStream_t stream) {
  constexpr const char* kLabel = "uma::rms_norm_sh_bwd";
  require(sizes_ok(p.nodes, p.channels, p.ld, p.eps), kLabel, "bad sizes", p.nodes, p.channels, p.ld);
  if (p.nodes == 0) return;
  require(p.grad_y && p.x && p.weight && p.grad_x, kLabel, "null pointer", p.nodes, p.channels, p.ld);
  constexpr int kVec = kVecOf<T>;
  const bool vec = p.channels % kVec == 0 && p.ld % kVec == 0 && aligned16(p.x) && aligned16(p.weight) &&
                   aligned16(p.grad_y) && aligned16(p.grad_x);
  const unsigned int blocks = blocks_for(p.nodes);
  switch (vec ? chunks_for<kVec>(p.channels) : 0) {
    case 1: rms_norm_sh_bwd_tile_kernel<T, kVec, 1><<<blocks, kThreads, 0, stream>>>(p); break;
    case 2: rms_norm_sh_bwd_tile_kernel<T, kVec, 2><<<blocks, kThreads, 0, stream>>>(p); break;
    case 4: rms_norm_sh_bwd_tile_kernel<T, kVec, 4><<<blocks, kThreads, 0, stream>>>(p); break;
    default: rms_norm_sh_bwd_loop_kernel<T><<<blocks, kThreads, 0, stream>>>(p); break;
  }
  throw_if_launch_failed(kLabel, sizes(p.nodes, p.channels, p.ld));
}

template void rms_norm_sh_fwd<float>(const RmsNormShFwdParams<float>&, cudaStream_t);
template void rms_norm_sh_fwd<double>(const RmsNormShFwdParams<double>&, cudaStream_t);
template void rms_norm_sh_bwd<float>(const RmsNormShBwdParams<float>&, cudaStream_t);
template void rms_norm_sh_bwd<double>(const RmsNormShBwdParams<double>&, cudaStream_t);

}  // namespace kernels
}  // namespace uma
