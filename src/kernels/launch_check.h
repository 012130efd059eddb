// What every fused stage's launcher does around a kernel launch: size its grid-stride grid, and afterwards throw
// std::runtime_error with the kernel's label and its sizes if that launch (or an earlier asynchronous error) failed.
// Each stage formats its own sizes.
#ifndef UMA_KERNELS_LAUNCH_CHECK_H
#define UMA_KERNELS_LAUNCH_CHECK_H

#include <cuda_runtime_api.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace uma {
namespace kernels {

// Blocks for a grid-stride loop over `items` units of work, `per_block` of them per block: at least one, at most 2^20
// (the loop strides beyond that; plenty of blocks to fill every SM).
inline unsigned int grid_stride_blocks(int64_t items, int64_t per_block) {
  const int64_t blocks = (items + per_block - 1) / per_block, cap = int64_t(1) << 20;
  return static_cast<unsigned int>(blocks < 1 ? 1 : (blocks > cap ? cap : blocks));
}

inline void throw_if_launch_failed(const char* label, const std::string& sizes) {
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess)
    throw std::runtime_error(std::string(label) + ": CUDA error '" + cudaGetErrorString(err) + "' " + sizes);
}

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_LAUNCH_CHECK_H
