// Shared by the CUDA tests of the GEMM kernels (split-TF32, Hopper TF32): a problem's operands copied to the GPU,
// one launch, the result copied back.
#ifndef UMA_TEST_GEMM_TEST_GPU_H
#define UMA_TEST_GEMM_TEST_GPU_H

#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "kernels/gemm/split_tf32_gemm_launch.h"
#include "split_tf32_test_data.h"

namespace split_tf32_test {

// Whether a compute-capability 9.0 GPU is present (the Hopper kernels exist only as sm_90a code).
inline bool have_hopper() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess && n > 0 && uma::kernels::split_tf32_wgmma_available();
}

template <typename T>
T* to_device(const std::vector<T>& h) {
  T* d = nullptr;
  if (cudaMalloc(&d, sizeof(T) * std::max<size_t>(h.size(), 1)) != cudaSuccess) throw std::runtime_error("cudaMalloc");
  if (!h.empty()) cudaMemcpy(d, h.data(), sizeof(T) * h.size(), cudaMemcpyHostToDevice);
  return d;
}

// D of problem p from launch(params) on the GPU; D starts as -1 everywhere, so an output the kernel never writes shows.
template <typename Launch>
std::vector<float> run_gemm_on_gpu(const Problem& p, Launch&& launch) {
  float *a = to_device(p.a), *b = to_device(p.b), *c = to_device(p.c);
  std::vector<float> out(p.m * p.n, -1.0f);
  float* d = to_device(out);
  launch(p.params(a, b, c, d));
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  if (!out.empty()) cudaMemcpy(out.data(), d, sizeof(float) * out.size(), cudaMemcpyDeviceToHost);
  cudaFree(a); cudaFree(b); cudaFree(c); cudaFree(d);
  return out;
}

}  // namespace split_tf32_test

#endif  // UMA_TEST_GEMM_TEST_GPU_H
