// The Hopper TF32 GEMM with operands rounded in registers: checks and launch (tf32_rs_wgmma_launch.h). Compiled
// for sm_90a only (CMakeLists.txt here).
#include <cstdint>
#include <stdexcept>
#include <string>

#include "kernels/gemm/split_tf32_gemm_launch.h"
#include "tf32_rs_wgmma_kernel.cuh"
#include "tf32_rs_wgmma_launch.h"

namespace uma {
namespace kernels {
namespace hopper {
namespace {

template <GemmBLayout BLayout, bool kGated>
void launch(const SplitTf32GemmParams& p, const GateOperand& gate, cudaStream_t stream) {
  using T = Tf32RsTile<kGated>;
  // Above 48 KiB of dynamic shared memory a kernel must opt in; a function attribute, not a stream operation, so
  // it is allowed while a CUDA graph is being recorded.
  cudaError_t err =
      cudaFuncSetAttribute(tf32_rs_wgmma_kernel<BLayout, kGated>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                           T::kSharedBytes);
  if (err == cudaSuccess) {
    const int64_t blocks = ((p.m + T::kM - 1) / T::kM) * ((p.n + T::kN - 1) / T::kN);
    if (blocks > 0x7fffffff) throw std::runtime_error("tf32_gemm_rs: too many tiles");
    tf32_rs_wgmma_kernel<BLayout, kGated><<<static_cast<unsigned>(blocks), T::kThreads, T::kSharedBytes, stream>>>(p, gate);
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
    launch<GemmBLayout::kWeightRows, false>(p, GateOperand{}, stream);
  else
    launch<GemmBLayout::kRowMajor, false>(p, GateOperand{}, stream);
}

void tf32_gemm_rs_gated(const SplitTf32GemmParams& p, const GateOperand& gate, cudaStream_t stream) {
  if (!tf32_gemm_rs_supported(p) || p.b_layout != GemmBLayout::kWeightRows || !gate.logits ||
      gate.channels <= 0 || gate.channels % Tf32RsTile<true>::kK != 0 || gate.group < 0 || gate.group > 2 ||
      gate.ld % 4 != 0 || reinterpret_cast<uintptr_t>(gate.logits) % 16 != 0)
    throw std::invalid_argument("tf32_gemm_rs_gated: operands not supported (m=" + std::to_string(p.m) +
                                " n=" + std::to_string(p.n) + " k=" + std::to_string(p.k) +
                                " channels=" + std::to_string(gate.channels) + " group=" + std::to_string(gate.group) +
                                "; needs those of tf32_gemm_rs, B as weight rows, channels a multiple of 32 and "
                                "16-byte aligned gate logits)");
  if (p.m == 0) return;
  launch<GemmBLayout::kWeightRows, true>(p, gate, stream);
}

}  // namespace hopper
}  // namespace kernels
}  // namespace uma
