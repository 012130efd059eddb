// What the standalone kernel benches (nvcc alone, no CMake) share: a CUDA call checked, failing loudly with its
// file, line and text; a host vector copied to a new device buffer.
#ifndef UMA_BENCH_CUDA_H
#define UMA_BENCH_CUDA_H

#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#define UMA_BENCH_CHECK(expr)                                                                      \
  do {                                                                                             \
    const cudaError_t err_ = (expr);                                                               \
    if (err_ != cudaSuccess) {                                                                     \
      std::fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #expr, cudaGetErrorString(err_)); \
      std::exit(1);                                                                                \
    }                                                                                              \
  } while (0)

namespace uma_bench {

template <typename T>
T* upload(const std::vector<T>& h) {
  T* d = nullptr;
  UMA_BENCH_CHECK(cudaMalloc(&d, h.size() * sizeof(T)));
  UMA_BENCH_CHECK(cudaMemcpy(d, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice));
  return d;
}

}  // namespace uma_bench

#endif  // UMA_BENCH_CUDA_H
