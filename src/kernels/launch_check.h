// What every fused stage's launcher does after enqueuing a kernel: throw std::runtime_error with the kernel's label
// and its sizes if that launch (or an earlier asynchronous error) failed. Each stage formats its own sizes.
#ifndef UMA_KERNELS_LAUNCH_CHECK_H
#define UMA_KERNELS_LAUNCH_CHECK_H

#include <cuda_runtime_api.h>

#include <stdexcept>
#include <string>

namespace uma {
namespace kernels {

inline void throw_if_launch_failed(const char* label, const std::string& sizes) {
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess)
    throw std::runtime_error(std::string(label) + ": CUDA error '" + cudaGetErrorString(err) + "' " + sizes);
}

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_LAUNCH_CHECK_H
