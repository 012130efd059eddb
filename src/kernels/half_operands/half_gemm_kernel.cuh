// The GEMM on TF32 values held in fp16 (half_gemm_launch.h): the product's TF32 TMA GEMM (gemm/hopper/
// tf32_tma_gemm_config.h: 128-row tiles, ping-pong, no cluster) with fp16 operands. A stage holds 64 fp16 of K, the
// same 128 bytes (one swizzle atom) as the TF32 kernel's 32 floats; the f16 wgmma runs at twice the TF32 rate and A's
// bytes are halved, which is what the layer's memory-bound GEMMs need (docs/fused-edge-block.md, "Eleventh
// session"). kN = 256 (the cooperative schedule: two consumer warpgroups on one 128 x 256 tile) is there for
// benchmarks/kernels/bench_half_operands.cu to compare.
#ifndef UMA_KERNELS_HALF_OPERANDS_HALF_GEMM_KERNEL_CUH
#define UMA_KERNELS_HALF_OPERANDS_HALF_GEMM_KERNEL_CUH

#include <cuda_runtime_api.h>

#include <stdexcept>
#include <string>
#include <type_traits>

#include "cute/tensor.hpp"
#include "cutlass/cutlass.h"
#include "cutlass/epilogue/collective/collective_builder.hpp"
#include "cutlass/epilogue/fusion/operations.hpp"
#include "cutlass/gemm/collective/collective_builder.hpp"
#include "cutlass/gemm/device/gemm_universal_adapter.h"
#include "cutlass/gemm/kernel/gemm_universal.hpp"
#include "cutlass/kernel_hardware_info.h"
#include "half_gemm_params.h"
#include "kernels/gemm/hopper/tf32_tma_gemm_kernel.cuh"

namespace uma {
namespace kernels {

template <int kN, bool kBias>
struct HalfTmaGemm {
  static constexpr bool kBias_ = kBias;
  static constexpr bool kCooperative = kN == 256;
  using TileShape = cute::Shape<cute::_128, cute::Int<kN>, cute::_64>;
  using ClusterShape = cute::Shape<cute::_1, cute::_1, cute::_1>;
  using MainloopSchedule = std::conditional_t<kCooperative, cutlass::gemm::KernelTmaWarpSpecializedCooperative,
                                              cutlass::gemm::KernelTmaWarpSpecializedPingpong>;
  using EpilogueSchedule = std::conditional_t<kCooperative, cutlass::epilogue::TmaWarpSpecializedCooperative,
                                              cutlass::epilogue::TmaWarpSpecialized>;
  static constexpr int kAlignAB = static_cast<int>(kHalfGemmAlignmentAB);
  static constexpr int kAlignD = static_cast<int>(kHalfGemmAlignmentD);
  // No source matrix C (void): D = alpha acc (+ bias), nothing else is read.
  using Fusion = std::conditional_t<
      kBias, cutlass::epilogue::fusion::LinCombPerColBias<float, float, float, float, float, kAlignD>,
      cutlass::epilogue::fusion::LinearCombination<float, float, float, float>>;
  using Epilogue = typename cutlass::epilogue::collective::CollectiveBuilder<
      cutlass::arch::Sm90, cutlass::arch::OpClassTensorOp, TileShape, ClusterShape,
      cutlass::epilogue::collective::EpilogueTileAuto, float, float, void, cutlass::layout::RowMajor, kAlignD, float,
      cutlass::layout::RowMajor, kAlignD, EpilogueSchedule, Fusion>::CollectiveOp;
  using Mainloop = typename cutlass::gemm::collective::CollectiveBuilder<
      cutlass::arch::Sm90, cutlass::arch::OpClassTensorOp, cutlass::half_t, cutlass::layout::RowMajor, kAlignAB,
      cutlass::half_t, cutlass::layout::ColumnMajor, kAlignAB, float, TileShape, ClusterShape,
      cutlass::gemm::collective::StageCountAutoCarveout<static_cast<int>(sizeof(typename Epilogue::SharedStorage))>,
      MainloopSchedule>::CollectiveOp;
  using Kernel = cutlass::gemm::kernel::GemmUniversal<cute::Shape<int, int, int, int>, Mainloop, Epilogue,
                                                      cutlass::gemm::PersistentScheduler>;
  using Gemm = cutlass::gemm::device::GemmUniversalAdapter<Kernel>;
};

// The product's configuration.
template <bool kBias>
using ProductHalfTmaGemm = HalfTmaGemm<128, kBias>;

// Enqueues D = alpha A B^T (+ bias) on `stream` on a persistent grid of `sm_count` CTAs. No workspace, no allocation:
// the TMA descriptors are made here on the host and travel as kernel parameters. Throws naming the problem.
template <class Config>
void run_half_tma_gemm(const HalfGemmParams& p, int sm_count, cudaStream_t stream) {
  using Kernel = typename Config::Kernel;
  typename Kernel::StrideA sa = cute::make_stride(int64_t(p.lda), cute::Int<1>{}, int64_t(0));
  typename Kernel::StrideB sb = cute::make_stride(int64_t(p.ldb), cute::Int<1>{}, int64_t(0));
  typename Kernel::StrideD sd = cute::make_stride(int64_t(p.ldd), cute::Int<1>{}, int64_t(0));
  typename Kernel::StrideC sc{};
  typename Config::Gemm::Arguments args{
      cutlass::gemm::GemmUniversalMode::kGemm,
      {static_cast<int>(p.m), static_cast<int>(p.n), static_cast<int>(p.k), 1},
      {reinterpret_cast<const cutlass::half_t*>(p.a), sa, reinterpret_cast<const cutlass::half_t*>(p.b), sb},
      {{}, nullptr, sc, p.d, sd},
      hopper::persistent_grid(sm_count)};
  args.epilogue.thread.alpha = p.alpha;
  args.epilogue.thread.beta = 0.0f;
  if constexpr (Config::kBias_) args.epilogue.thread.bias_ptr = p.bias;
  hopper::check_and_run<typename Config::Gemm>(
      args, "half_gemm (m=" + std::to_string(p.m) + " n=" + std::to_string(p.n) + " k=" + std::to_string(p.k) + "): ",
      stream);
}

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_HALF_OPERANDS_HALF_GEMM_KERNEL_CUH
