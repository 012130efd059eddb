// Device helpers the memory-bound fused kernels share (layer_norm_silu, rms_norm_sh, edge_gate, node_gate): 16-byte
// vector loads and stores of register arrays, the warp sum, and the fp32/fp64 special functions written the way the
// Torch forms they replace compute them (correctly rounded sqrt and division, no fast math). Internal to the .cu
// files of src/kernels/ (an anonymous namespace per translation unit), never included by host code.
#ifndef UMA_KERNELS_DEVICE_MATH_CUH
#define UMA_KERNELS_DEVICE_MATH_CUH

#include <cuda_runtime.h>

#include <cstdint>

namespace uma {
namespace kernels {
namespace {

constexpr int kWarp = 32;
constexpr unsigned kFullMask = 0xffffffffu;

template <typename T>
constexpr int kVecOf = 16 / int(sizeof(T));  // elements in one 16-byte load: 4 floats, 2 doubles

template <typename T, int N>
struct alignas(sizeof(T) * N) Pack {
  T v[N];
};

template <typename T, int N>
__device__ __forceinline__ void load(const T* p, T (&out)[N]) {
  const Pack<T, N> pk = *reinterpret_cast<const Pack<T, N>*>(p);
#pragma unroll
  for (int i = 0; i < N; ++i) out[i] = pk.v[i];
}

template <typename T, int N>
__device__ __forceinline__ void store(T* p, const T (&in)[N]) {
  Pack<T, N> pk;
#pragma unroll
  for (int i = 0; i < N; ++i) pk.v[i] = in[i];
  *reinterpret_cast<Pack<T, N>*>(p) = pk;
}

// Every lane of the warp calls it (the callers' row and node loops are warp-uniform) and gets the warp's sum.
template <typename T>
__device__ __forceinline__ T warp_sum(T v) {
#pragma unroll
  for (int offset = kWarp / 2; offset > 0; offset >>= 1) v += __shfl_xor_sync(kFullMask, v, offset);
  return v;
}

// 1 / sqrt(v): the correctly rounded square root and division (no rsqrtf approximation; no fast math).
template <typename T>
__device__ __forceinline__ T inv_sqrt(T v) {
  if constexpr (sizeof(T) == 4) {
    return 1.0f / sqrtf(v);
  } else {
    return 1.0 / sqrt(v);
  }
}

template <typename T>
__device__ __forceinline__ T exp_of(T v) {
  if constexpr (sizeof(T) == 4) {
    return expf(v);
  } else {
    return exp(v);
  }
}

// σ(z) = 1 / (1 + exp(-z)), as torch's sigmoid kernel writes it.
template <typename T>
__device__ __forceinline__ T sigmoid_of(T z) {
  return T(1) / (T(1) + exp_of(-z));
}

// Host side: whether a pointer allows 16-byte vector access (null does: nothing is read through it).
template <typename T>
bool aligned16(const T* ptr) {
  return reinterpret_cast<uintptr_t>(ptr) % 16 == 0;
}

}  // namespace
}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_DEVICE_MATH_CUH
