// The Hopper TF32 GEMM with operands rounded in registers: checks and launch (tf32_rs_wgmma_launch.h). Compiled
// for sm_90a only (CMakeLists.txt here).
#include <stdexcept>
#include <string>

#include "kernels/gemm/split_tf32_gemm_launch.h"
#include "tf32_rs_wgmma_kernel.cuh"
#include "tf32_rs_wgmma_launch.h"

namespace uma {
namespace kernels {
namespace hopper {
namespace {

template <GemmBLayout BLayout>
void launch(const SplitTf32GemmParams& p, cudaStream_t stream) {
  using T = Tf32RsTile;
  // Above 48 KiB of dynamic shared memory a kernel must opt in; a function attribute, not a stream operation, so
  // it is allowed while a CUDA graph is being recorded.
  cudaError_t err =
      cudaFuncSetAttribute(tf32_rs_wgmma_kernel<BLayout>, cudaFuncAttributeMaxDynamicSharedMemorySize, T::kSharedBytes);
  if (err == cudaSuccess) {
    const int64_t blocks = ((p.m + T::kM - 1) / T::kM) * ((p.n + T::kN - 1) / T::kN);
    if (blocks > 0x7fffffff) throw std::runtime_error("tf32_gemm_rs: too many tiles");
    tf32_rs_wgmma_kernel<BLayout><<<static_cast<unsigned>(blocks), T::kThreads, T::kSharedBytes, stream>>>(p);
    err = cudaGetLastError();
  }
  if (err != cudaSuccess)
    throw std::runtime_error("tf32_gemm_rs: launch failed (m=" + std::to_string(p.m) + " n=" + std::to_string(p.n) +
                             " k=" + std::to_string(p.k) + "): " + cudaGetErrorString(err));
}

}  // namespace

bool tf32_gemm_rs_supported(const SplitTf32GemmParams& p) {
  return split_tf32_gemm_supported(p) && split_tf32_wgmma_available();
}

void tf32_gemm_rs(const SplitTf32GemmParams& p, cudaStream_t stream) {
  if (!tf32_gemm_rs_supported(p))
    throw std::invalid_argument("tf32_gemm_rs: operands not supported (m=" + std::to_string(p.m) +
                                " n=" + std::to_string(p.n) + " k=" + std::to_string(p.k) +
                                " lda=" + std::to_string(p.lda) + " ldb=" + std::to_string(p.ldb) +
                                " ldd=" + std::to_string(p.ldd) +
                                "; needs 16-byte aligned pointers, n, k and the leading dimensions multiples of 4, "
                                "and a compute-capability 9.0 GPU)");
  if (p.m == 0) return;
  if (p.b_layout == GemmBLayout::kWeightRows)
    launch<GemmBLayout::kWeightRows>(p, stream);
  else
    launch<GemmBLayout::kRowMajor>(p, stream);
}

}  // namespace hopper
}  // namespace kernels
}  // namespace uma
