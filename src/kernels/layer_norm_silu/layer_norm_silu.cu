// Fused LayerNorm + SiLU kernels and launchers (layer_norm_silu_launch.h), fp32 and fp64. One warp per row: the row
// is read once into registers (16-byte vector loads where every row and vector is aligned, else coalesced scalar
// loads), its mean and variance come from two warp-shuffle reductions (two passes over the registers: the centred
// sum of squares, no cancellation), and y is written once; torch's form is a LayerNorm kernel that writes its
// output (and the row statistics), then a SiLU kernel that reads it back, and twice that backward. The backward
// reads x and dy once, recomputes the statistics from x (the forward saves nothing but its input) and writes dx.
// Statistics and everything else in the working precision, as torch does. Rows wider than the register tiles
// (fp32: 1024 when vectorised, else 256; fp64: 512 / 256) take a loop kernel that reads the row from global memory
// once per pass instead. Memory-bound: no shared memory.
#include <cuda_runtime.h>

#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>

#include "layer_norm_silu_launch.h"
#include "kernels/device_math.cuh"
#include "kernels/launch_check.h"
#include "kernels/tf32_operand.cuh"

namespace uma {
namespace kernels {
namespace {

constexpr int kThreads = 256;
constexpr int kRowsPerBlock = kThreads / kWarp;  // one row per warp at a time, grid-stride over rows
static_assert(kThreads % kWarp == 0, "a block is whole warps: every lane of a warp takes part in its row's shuffles");

// The widest register tile: kMaxChunks vectors per lane.
constexpr int kMaxChunks = 8;

// silu(z) = z / (1 + exp(-z)), as torch's SiLU kernel writes it.
template <typename T>
__device__ __forceinline__ T silu(T z) {
  return z / (T(1) + exp_of(-z));
}

// d silu / dz · dy = dy · σ(z) · (1 + z (1 - σ(z))), as torch's SiLU backward.
template <typename T>
__device__ __forceinline__ T silu_grad(T z, T dy) {
  const T s = T(1) / (T(1) + exp_of(-z));
  return dy * s * (T(1) + z * (T(1) - s));
}

// ---- register tiles: lane `lane` holds the vectors starting at columns (j·32 + lane)·kVec, j < kChunks ----

// The row bias of `row` (params.h), or null.
template <typename Params>
__device__ __forceinline__ decltype(Params::row_bias) row_bias_of(const Params& p, int64_t row) {
  return p.row_bias ? p.row_bias + __ldg(p.row_bias_index + row) * p.width : nullptr;
}

// Loads the row (plus its row bias rb, if any; zeros past the width) and returns its mean and rstd.
template <typename T, int kVec, int kChunks>
__device__ __forceinline__ void load_row_stats(const T* x, const T* rb, int64_t W, T eps, int lane,
                                               T (&v)[kChunks][kVec], T& mean, T& rstd) {
  T sum = T(0);
#pragma unroll
  for (int j = 0; j < kChunks; ++j) {
    const int64_t c = (int64_t(j) * kWarp + lane) * kVec;
    if (c < W) {  // W % kVec == 0 on the vector path: the whole vector is inside the row
      load(x + c, v[j]);
      if (rb) {
        T b[kVec];
        load(rb + c, b);
#pragma unroll
        for (int i = 0; i < kVec; ++i) v[j][i] += b[i];
      }
#pragma unroll
      for (int i = 0; i < kVec; ++i) sum += v[j][i];
    } else {
#pragma unroll
      for (int i = 0; i < kVec; ++i) v[j][i] = T(0);
    }
  }
  mean = warp_sum(sum) / T(W);
  T sq = T(0);
#pragma unroll
  for (int j = 0; j < kChunks; ++j) {
    const int64_t c = (int64_t(j) * kWarp + lane) * kVec;
    if (c < W) {
#pragma unroll
      for (int i = 0; i < kVec; ++i) {
        const T d = v[j][i] - mean;
        sq += d * d;
      }
    }
  }
  rstd = inv_sqrt(warp_sum(sq) / T(W) + eps);
}

template <typename T, int kVec, int kChunks>
__global__ void __launch_bounds__(kThreads) layer_norm_silu_fwd_tile_kernel(const LayerNormSiluFwdParams<T> p) {
  const int lane = threadIdx.x % kWarp;
  const int64_t W = p.width, stride = int64_t(gridDim.x) * kRowsPerBlock;
  const T eps = T(p.eps);
  for (int64_t row = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.x / kWarp; row < p.rows; row += stride) {
    T v[kChunks][kVec];
    T mean, rstd;
    load_row_stats<T, kVec, kChunks>(p.x + row * p.ld, row_bias_of(p, row), W, eps, lane, v, mean, rstd);
    T* y = p.y + row * W;
#pragma unroll
    for (int j = 0; j < kChunks; ++j) {
      const int64_t c = (int64_t(j) * kWarp + lane) * kVec;
      if (c < W) {
        T w[kVec], b[kVec], out[kVec];
        load(p.weight + c, w);
        load(p.bias + c, b);
#pragma unroll
        for (int i = 0; i < kVec; ++i) out[i] = tf32_operand_if(p.round_tf32, silu((v[j][i] - mean) * rstd * w[i] + b[i]));
        store(y + c, out);
      }
    }
  }
}

template <typename T, int kVec, int kChunks>
__global__ void __launch_bounds__(kThreads) layer_norm_silu_bwd_tile_kernel(const LayerNormSiluBwdParams<T> p) {
  const int lane = threadIdx.x % kWarp;
  const int64_t W = p.width, stride = int64_t(gridDim.x) * kRowsPerBlock;
  const T eps = T(p.eps);
  for (int64_t row = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.x / kWarp; row < p.rows; row += stride) {
    T v[kChunks][kVec], g[kChunks][kVec];  // v: x, then x̂; g: d loss / d x̂
    T mean, rstd;
    load_row_stats<T, kVec, kChunks>(p.x + row * p.ld, row_bias_of(p, row), W, eps, lane, v, mean, rstd);
    const T* dy = p.grad_y + row * W;
    T sum_g = T(0), sum_gx = T(0);
#pragma unroll
    for (int j = 0; j < kChunks; ++j) {
      const int64_t c = (int64_t(j) * kWarp + lane) * kVec;
      if (c < W) {
        T w[kVec], b[kVec], d[kVec];
        load(p.weight + c, w);
        load(p.bias + c, b);
        load(dy + c, d);
#pragma unroll
        for (int i = 0; i < kVec; ++i) {
          const T xh = (v[j][i] - mean) * rstd;
          g[j][i] = silu_grad(xh * w[i] + b[i], d[i]) * w[i];
          v[j][i] = xh;
          sum_g += g[j][i];
          sum_gx += g[j][i] * xh;
        }
      }
    }
    const T mean_g = warp_sum(sum_g) / T(W), mean_gx = warp_sum(sum_gx) / T(W);
    T* dx = p.grad_x + row * W;
#pragma unroll
    for (int j = 0; j < kChunks; ++j) {
      const int64_t c = (int64_t(j) * kWarp + lane) * kVec;
      if (c < W) {
        T out[kVec];
#pragma unroll
        for (int i = 0; i < kVec; ++i) out[i] = tf32_operand_if(p.round_tf32, rstd * (g[j][i] - mean_g - v[j][i] * mean_gx));
        store(dx + c, out);
      }
    }
  }
}

// ---- any width: scalar, coalesced, the row re-read from global memory (L1/L2) on every pass ----

// Row r's input (x_r plus its row bias, if any), read element by element.
template <typename T>
struct RowInput {
  const T* x;
  const T* rb;
  __device__ __forceinline__ T operator[](int64_t c) const { return rb ? x[c] + rb[c] : x[c]; }
};

template <typename T>
__device__ __forceinline__ void row_stats(const RowInput<T>& x, int64_t W, T eps, int lane, T& mean, T& rstd) {
  T sum = T(0);
  for (int64_t c = lane; c < W; c += kWarp) sum += x[c];
  mean = warp_sum(sum) / T(W);
  T sq = T(0);
  for (int64_t c = lane; c < W; c += kWarp) {
    const T d = x[c] - mean;
    sq += d * d;
  }
  rstd = inv_sqrt(warp_sum(sq) / T(W) + eps);
}

template <typename T>
__global__ void __launch_bounds__(kThreads) layer_norm_silu_fwd_loop_kernel(const LayerNormSiluFwdParams<T> p) {
  const int lane = threadIdx.x % kWarp;
  const int64_t W = p.width, stride = int64_t(gridDim.x) * kRowsPerBlock;
  const T eps = T(p.eps);
  for (int64_t row = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.x / kWarp; row < p.rows; row += stride) {
    const RowInput<T> x{p.x + row * p.ld, row_bias_of(p, row)};
    T mean, rstd;
    row_stats(x, W, eps, lane, mean, rstd);
    T* y = p.y + row * W;
    for (int64_t c = lane; c < W; c += kWarp) y[c] = tf32_operand_if(p.round_tf32, silu((x[c] - mean) * rstd * p.weight[c] + p.bias[c]));
  }
}

template <typename T>
__global__ void __launch_bounds__(kThreads) layer_norm_silu_bwd_loop_kernel(const LayerNormSiluBwdParams<T> p) {
  const int lane = threadIdx.x % kWarp;
  const int64_t W = p.width, stride = int64_t(gridDim.x) * kRowsPerBlock;
  const T eps = T(p.eps);
  for (int64_t row = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.x / kWarp; row < p.rows; row += stride) {
    const RowInput<T> x{p.x + row * p.ld, row_bias_of(p, row)};
    const T* dy = p.grad_y + row * W;
    T mean, rstd;
    row_stats(x, W, eps, lane, mean, rstd);
    T sum_g = T(0), sum_gx = T(0);
    for (int64_t c = lane; c < W; c += kWarp) {
      const T xh = (x[c] - mean) * rstd, w = p.weight[c];
      const T g = silu_grad(xh * w + p.bias[c], dy[c]) * w;
      sum_g += g;
      sum_gx += g * xh;
    }
    const T mean_g = warp_sum(sum_g) / T(W), mean_gx = warp_sum(sum_gx) / T(W);
    T* dx = p.grad_x + row * W;
    for (int64_t c = lane; c < W; c += kWarp) {  // recomputes g (cheaper than a scratch row in global memory)
      const T xh = (x[c] - mean) * rstd, w = p.weight[c];
      const T g = silu_grad(xh * w + p.bias[c], dy[c]) * w;
      dx[c] = tf32_operand_if(p.round_tf32, rstd * (g - mean_g - xh * mean_gx));
    }
  }
}

// ---- launch ----

std::string sizes(int64_t rows, int64_t W, int64_t ld) {
  std::ostringstream s;
  s << "(rows=" << rows << ", width=" << W << ", ld=" << ld << ")";
  return s.str();
}

void require(bool ok, const char* label, const char* what, int64_t rows, int64_t W, int64_t ld) {
  if (!ok) throw std::invalid_argument(std::string(label) + ": " + what + " " + sizes(rows, W, ld));
}

void check_launch(const char* label, int64_t rows, int64_t W, int64_t ld) {
  throw_if_launch_failed(label, sizes(rows, W, ld));
}

unsigned int blocks_for(int64_t rows) { return grid_stride_blocks(rows, kRowsPerBlock); }

// The smallest register tile of kVec-vectors that holds a row of W, or 0 for none (the loop kernel).
template <int kVec>
int chunks_for(int64_t W) {
  for (int chunks = 1; chunks <= kMaxChunks; chunks *= 2)
    if (W <= int64_t(chunks) * kWarp * kVec) return chunks;
  return 0;
}

// Launches Kernel<T, kVec, chunks> for the chunks that W needs (1, 2, 4 or 8); false if none fits.
template <typename T, int kVec, typename Params, template <typename, int, int> class Launch>
bool launch_tile(const Params& p, unsigned int blocks, cudaStream_t stream) {
  switch (chunks_for<kVec>(p.width)) {
    case 1: Launch<T, kVec, 1>::run(p, blocks, stream); return true;
    case 2: Launch<T, kVec, 2>::run(p, blocks, stream); return true;
    case 4: Launch<T, kVec, 4>::run(p, blocks, stream); return true;
    case 8: Launch<T, kVec, 8>::run(p, blocks, stream); return true;
    default: return false;
  }
}
static_assert(kMaxChunks == 8, "launch_tile's cases are the powers of two up to kMaxChunks");

template <typename T, int kVec, int kChunks>
struct FwdTile {
  static void run(const LayerNormSiluFwdParams<T>& p, unsigned int blocks, cudaStream_t stream) {
    layer_norm_silu_fwd_tile_kernel<T, kVec, kChunks><<<blocks, kThreads, 0, stream>>>(p);
  }
};

template <typename T, int kVec, int kChunks>
struct BwdTile {
  static void run(const LayerNormSiluBwdParams<T>& p, unsigned int blocks, cudaStream_t stream) {
    layer_norm_silu_bwd_tile_kernel<T, kVec, kChunks><<<blocks, kThreads, 0, stream>>>(p);
  }
};

}  // namespace

template <typename T>
void layer_norm_silu_fwd(const LayerNormSiluFwdParams<T>& p, cudaStream_t stream) {
  constexpr const char* kLabel = "uma::layer_norm_silu_fwd";
  require(p.rows >= 0 && p.width > 0 && p.ld >= p.width && p.eps >= 0, kLabel, "bad sizes", p.rows, p.width, p.ld);
  if (p.rows == 0) return;
  require(p.x && p.weight && p.bias && p.y, kLabel, "null pointer", p.rows, p.width, p.ld);
  constexpr int kVec = kVecOf<T>;
  require(!p.row_bias || p.row_bias_index, kLabel, "row_bias without row_bias_index", p.rows, p.width, p.ld);
  const bool vec = p.width % kVec == 0 && p.ld % kVec == 0 && aligned16(p.x) && aligned16(p.weight) &&
                   aligned16(p.bias) && aligned16(p.y) && aligned16(p.row_bias);
  const unsigned int blocks = blocks_for(p.rows);
  if (!(vec ? launch_tile<T, kVec, LayerNormSiluFwdParams<T>, FwdTile>(p, blocks, stream)
            : launch_tile<T, 1, LayerNormSiluFwdParams<T>, FwdTile>(p, blocks, stream)))
    layer_norm_silu_fwd_loop_kernel<T><<<blocks, kThreads, 0, stream>>>(p);
  check_launch(kLabel, p.rows, p.width, p.ld);
}

template <typename T>
void layer_norm_silu_bwd(const LayerNormSiluBwdParams<T>& p, cudaStream_t stream) {
  constexpr const char* kLabel = "uma::layer_norm_silu_bwd";
  require(p.rows >= 0 && p.width > 0 && p.ld >= p.width && p.eps >= 0, kLabel, "bad sizes", p.rows, p.width, p.ld);
  if (p.rows == 0) return;
  require(p.grad_y && p.x && p.weight && p.bias && p.grad_x, kLabel, "null pointer", p.rows, p.width, p.ld);
  constexpr int kVec = kVecOf<T>;
  require(!p.row_bias || p.row_bias_index, kLabel, "row_bias without row_bias_index", p.rows, p.width, p.ld);
  const bool vec = p.width % kVec == 0 && p.ld % kVec == 0 && aligned16(p.x) && aligned16(p.weight) &&
                   aligned16(p.bias) && aligned16(p.grad_y) && aligned16(p.grad_x) && aligned16(p.row_bias);
  const unsigned int blocks = blocks_for(p.rows);
  if (!(vec ? launch_tile<T, kVec, LayerNormSiluBwdParams<T>, BwdTile>(p, blocks, stream)
            : launch_tile<T, 1, LayerNormSiluBwdParams<T>, BwdTile>(p, blocks, stream)))
    layer_norm_silu_bwd_loop_kernel<T><<<blocks, kThreads, 0, stream>>>(p);
  check_launch(kLabel, p.rows, p.width, p.ld);
}

template void layer_norm_silu_fwd<float>(const LayerNormSiluFwdParams<float>&, cudaStream_t);
template void layer_norm_silu_fwd<double>(const LayerNormSiluFwdParams<double>&, cudaStream_t);
template void layer_norm_silu_bwd<float>(const LayerNormSiluBwdParams<float>&, cudaStream_t);
template void layer_norm_silu_bwd<double>(const LayerNormSiluBwdParams<double>&, cudaStream_t);

}  // namespace kernels
}  // namespace uma
