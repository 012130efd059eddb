// The Hopper split-TF32 GEMM's launcher (split_tf32_wgmma_launch.h). Compiled for sm_90a only (CMakeLists.txt here).
#include <stdexcept>
#include <string>

#include "split_tf32_wgmma_kernel.cuh"
#include "split_tf32_wgmma_launch.h"

namespace uma {
namespace kernels {
namespace hopper {
namespace {

template <GemmBLayout BLayout>
void launch(const SplitTf32GemmParams& p, cudaStream_t stream) {
  using T = WgmmaTile;
  // Above 48 KiB of dynamic shared memory a kernel must opt in; a function attribute, not a stream operation, so
  // it is allowed while a CUDA graph is being recorded (and cheap enough to set at every launch).
  cudaError_t err = cudaFuncSetAttribute(split_tf32_wgmma_kernel<BLayout>,
                                         cudaFuncAttributeMaxDynamicSharedMemorySize, T::kSharedBytes);
  if (err == cudaSuccess) {
    const int64_t blocks = ((p.m + T::kM - 1) / T::kM) * ((p.n + T::kN - 1) / T::kN);
    if (blocks > 0x7fffffff) throw std::runtime_error("split_tf32_gemm_wgmma: too many tiles");
    split_tf32_wgmma_kernel<BLayout>
        <<<static_cast<unsigned>(blocks), T::kThreads, T::kSharedBytes, stream>>>(p);
    err = cudaGetLastError();
  }
  if (err != cudaSuccess)
    throw std::runtime_error("split_tf32_gemm_wgmma: launch failed (m=" + std::to_string(p.m) +
                             " n=" + std::to_string(p.n) + " k=" + std::to_string(p.k) + "): " +
                             cudaGetErrorString(err));
}

}  // namespace

void split_tf32_gemm_wgmma(const SplitTf32GemmParams& p, cudaStream_t stream) {
  if (p.b_layout == GemmBLayout::kWeightRows)
    launch<GemmBLayout::kWeightRows>(p, stream);
  else
    launch<GemmBLayout::kRowMajor>(p, stream);
}

}  // namespace hopper
}  // namespace kernels
}  // namespace uma
