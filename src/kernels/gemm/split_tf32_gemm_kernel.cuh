// The split-precision fp32 GEMM (split_tf32_gemm_params.h) as a CUTLASS 2.x device GEMM, with the tile shape as a
// template parameter: split_tf32_gemm.cu instantiates the product's tile, benchmarks/kernels/bench_split_tf32_gemm.cu
// sweeps others on the engine's shapes. Ampere-style mma.sync TF32 instructions (16x8x8; they run on sm_90 too),
// operands split into TF32 big/small parts in registers by CUTLASS's OpMultiplyAddFastF32, three MMAs per product,
// fp32 accumulation. The bias is the epilogue's source operand with row stride 0 (one row broadcast to every row).
// No split-K: the result does not depend on the launch (deterministic), and there is no workspace to allocate.
#ifndef UMA_KERNELS_GEMM_SPLIT_TF32_GEMM_KERNEL_CUH
#define UMA_KERNELS_GEMM_SPLIT_TF32_GEMM_KERNEL_CUH

#include <cuda_runtime_api.h>

#include <stdexcept>
#include <string>

#include "cutlass/epilogue/thread/linear_combination.h"
#include "cutlass/gemm/device/gemm.h"
#include "split_tf32_gemm_params.h"

namespace uma {
namespace kernels {

// A thread-block tile BM x BN x BK split over warps of WM x WN x BK, `Stages` pipeline stages. Shared memory:
// (BM + BN) * BK * 4 bytes * Stages; above 48 KiB CUTLASS opts the kernel in at each launch (a function
// attribute, not a stream operation: allowed while a CUDA graph is being recorded).
template <int BM, int BN, int BK, int WM, int WN, int Stages>
struct SplitTf32Tile {
  template <typename LayoutB>
  using Gemm = cutlass::gemm::device::Gemm<
      float, cutlass::layout::RowMajor,  // A
      float, LayoutB,                    // B
      float, cutlass::layout::RowMajor,  // C (bias) and D
      float,                             // accumulator
      cutlass::arch::OpClassTensorOp, cutlass::arch::Sm80, cutlass::gemm::GemmShape<BM, BN, BK>,
      cutlass::gemm::GemmShape<WM, WN, BK>,
      cutlass::gemm::GemmShape<16, 8, 8>,  // mma.sync m16n8k8 TF32
      cutlass::epilogue::thread::LinearCombination<float, 4, float, float>,
      cutlass::gemm::threadblock::GemmIdentityThreadblockSwizzle<>, Stages,
      kSplitTf32Alignment,  // A alignment (floats)
      kSplitTf32Alignment,  // B alignment
      false,                // no split-K
      cutlass::arch::OpMultiplyAddFastF32>;
  static constexpr int kSharedBytes = (BM + BN) * BK * 4 * Stages;
};

inline std::string split_tf32_describe(const SplitTf32GemmParams& p) {
  return "m=" + std::to_string(p.m) + " n=" + std::to_string(p.n) + " k=" + std::to_string(p.k) +
         " lda=" + std::to_string(p.lda) + " ldb=" + std::to_string(p.ldb) + " ldd=" + std::to_string(p.ldd);
}

template <typename Gemm>
void split_tf32_run_layout(const SplitTf32GemmParams& p, cudaStream_t stream) {
  const int m = static_cast<int>(p.m), n = static_cast<int>(p.n), k = static_cast<int>(p.k);
  // With a bias, D = 1 * acc + 1 * C where C is the bias row repeated (stride 0); without, beta = 0 and the
  // epilogue does not read C at all.
  const float beta = p.bias ? 1.0f : 0.0f;
  typename Gemm::Arguments args({m, n, k}, {p.a, p.lda}, {p.b, p.ldb}, {p.bias ? p.bias : p.d, p.bias ? 0 : p.ldd},
                                {p.d, p.ldd}, {1.0f, beta});
  Gemm gemm;
  cutlass::Status status = gemm.can_implement(args);
  if (status != cutlass::Status::kSuccess)
    throw std::invalid_argument("split_tf32_gemm: operands not supported (" + split_tf32_describe(p) +
                                "): " + cutlassGetStatusString(status));
  status = gemm(args, nullptr, stream);
  if (status != cutlass::Status::kSuccess)
    throw std::runtime_error("split_tf32_gemm: launch failed (" + split_tf32_describe(p) +
                             "): " + cutlassGetStatusString(status));
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess)
    throw std::runtime_error("split_tf32_gemm: launch failed (" + split_tf32_describe(p) + "): " +
                             cudaGetErrorString(err));
}

// D = A op(B) + bias with tile T; p must satisfy split_tf32_gemm_supported (split_tf32_gemm_launch.h), m > 0.
template <typename T>
void split_tf32_run(const SplitTf32GemmParams& p, cudaStream_t stream) {
  if (p.b_layout == GemmBLayout::kWeightRows)  // W [n][k] row-major is B = W^T [k][n] column-major
    split_tf32_run_layout<typename T::template Gemm<cutlass::layout::ColumnMajor>>(p, stream);
  else
    split_tf32_run_layout<typename T::template Gemm<cutlass::layout::RowMajor>>(p, stream);
}

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_GEMM_SPLIT_TF32_GEMM_KERNEL_CUH
