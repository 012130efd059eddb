// The plain TF32 GEMM D = A B^T (+ bias) on Hopper's TMA + warpgroup MMA, built from CUTLASS 3's collective builder
// (sm_90a only). Why not cuBLAS: on the engine's shapes (m = edges, 1e4-1e6; n, k = 32-1536) cuBLAS runs its
// 128 x 128 x 32 one-warpgroup TF32 kernels at about a third of the tensor-core peak (161 TFLOP/s for one layer's
// GEMMs on an H100, benchmarks/results/2026-12-06-h100-gemm-modes.md) while most of these GEMMs are close to the
// memory roofline: fp32 operands give 2nk / (4 (n + k)) flop per byte, 64-280 here against the H100's ridge of ~150.
// A TMA-fed, warp-specialized persistent kernel keeps HBM busy while the tensor cores run, which is what such
// GEMMs need. Numerics: TF32 wgmma reads the top 19 bits of each fp32 operand, i.e. truncates it to TF32 (cuBLAS's
// TF32 kernels round), and accumulates in fp32. Truncation moves every operand towards zero, so its errors add up
// instead of cancelling: in the engine 2-7e-3 eV/atom against fp64 where cuBLAS gives 1.5e-3 (measured on an H100,
// benchmarks/results/2026-12-06-h100-tf32-tma-gemm.md). Operands rounded to TF32 beforehand (cvt.rna) would remove
// that; the operands come straight from memory through TMA here, so only a producer that makes them can.
//
// The rounding variant (a rounding A copy, tf32_tma_gemm_launch.h tf32_gemm_tma_rna): the same TMA pipeline, but A
// goes from shared memory into registers with cvt.rna on the way (CUTLASS's RS mainloop, A from registers, with this
// file's RoundToTf32Ldsm or RoundToTf32Copy as its shared-to-register copy) and B must be rounded to TF32 beforehand
// (the engine rounds its GEMM weights once, engine/nn/tf32_weights.h). With both operands rounded the products are
// cuBLAS's.
//
// A: [m][k] row-major (row stride lda), B: [n][k] row-major (torch's Linear weight; "column-major B" to CUTLASS),
// D: [m][n] row-major; bias [n] per column or none. TF32 wgmma reads shared memory K-major only, so the input
// gradient dx = dy W takes W^T as B, made by the caller (engine/nn/tensor_core_linear.cpp).
#ifndef UMA_KERNELS_GEMM_HOPPER_TF32_TMA_GEMM_KERNEL_CUH
#define UMA_KERNELS_GEMM_HOPPER_TF32_TMA_GEMM_KERNEL_CUH

#include <cuda_runtime_api.h>

#include <cstdint>
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
#include "kernels/gemm/hopper/wgmma_common.cuh"
#include "kernels/gemm/split_tf32_gemm_params.h"

namespace uma {
namespace kernels {
namespace hopper {

// The RS mainloop's copy of one A element from shared memory into its register fragment, rounded to TF32 (nearest,
// ties away from zero: cvt.rna, what cuBLAS's TF32 kernels do to their inputs) instead of copied as is, which the
// tensor core would then read truncated.
struct RoundToTf32Copy {
  using SRegisters = uint32_t[1];
  using DRegisters = uint32_t[1];
  CUTE_DEVICE static void copy(uint32_t const& src, uint32_t& dst) {
    dst = __float_as_uint(tf32_round(__uint_as_float(src)));  // wgmma_common.cuh
  }
};

// The same with ldmatrix: one instruction gives a thread four 32-bit values, rows g and g + 8 by K columns c and
// c + 4 of a 16 x 8 TF32 tile (g = lane / 4, c = lane % 4), which is exactly the A fragment of a TF32 wgmma/mma;
// each value is then rounded. A quarter of the shared-memory load instructions of RoundToTf32Copy.
struct RoundToTf32Ldsm {
  using SRegisters = cute::uint128_t[1];
  using DRegisters = uint32_t[4];
  CUTE_DEVICE static void copy(cute::uint128_t const& smem_src, uint32_t& d0, uint32_t& d1, uint32_t& d2,
                               uint32_t& d3) {
    const uint32_t addr = cute::cast_smem_ptr_to_uint(&smem_src);
    uint32_t r0, r1, r2, r3;
    asm volatile("ldmatrix.sync.aligned.x4.m8n8.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3)
                 : "r"(addr));
    RoundToTf32Copy::copy(r0, d0);
    RoundToTf32Copy::copy(r1, d1);
    RoundToTf32Copy::copy(r2, d2);
    RoundToTf32Copy::copy(r3, d3);
  }
};

}  // namespace hopper
}  // namespace kernels
}  // namespace uma

namespace cute {
// One thread, one 32-bit value in and out: the traits of cute's UniversalCopy<uint32_t>.
template <>
struct Copy_Traits<uma::kernels::hopper::RoundToTf32Copy> {
  using ThrID = Layout<_1>;
  using SrcLayout = Layout<Shape<_1, Int<32>>>;
  using DstLayout = Layout<Shape<_1, Int<32>>>;
  using RefLayout = SrcLayout;
};
// A warp, four 8 x 8 16-bit matrices: the traits of cute's SM75_U32x4_LDSM_N.
template <>
struct Copy_Traits<uma::kernels::hopper::RoundToTf32Ldsm> : Copy_Traits<SM75_U32x4_LDSM_N> {};
}  // namespace cute

namespace uma {
namespace kernels {
namespace hopper {

// CUTLASS's TMA + warp-specialized mainloop with A from registers (MainloopSm90TmaGmmaRmemAWarpSpecialized), put
// together as its collective builder would for an A that needs registers, but with A rounded on its way there and
// both operands K-major (the builder takes that path only for MN-major A). B stays in shared memory.
// kStagesOverride > 0: that many stages instead of as many as fit beside kCarveoutBytes (a mainloop that keeps more
// per stage than A and B: tf32_tma_gated_mainloop.cuh).
template <class TileShape, class ClusterShape, class Schedule, int kCarveoutBytes, class ACopy, int kStagesOverride = 0>
struct RoundingRsMainloop {
  using Element = cutlass::tfloat32_t;
  static constexpr int kStages =
      kStagesOverride > 0
          ? kStagesOverride
          : cutlass::gemm::collective::detail::compute_stage_count_or_override<
                cutlass::gemm::collective::detail::sm90_smem_capacity_bytes, Element, Element, TileShape,
                kCarveoutBytes>(cutlass::gemm::collective::StageCountAutoCarveout<kCarveoutBytes>{});
  using AtomLayout = std::conditional_t<std::is_same_v<Schedule, cutlass::gemm::KernelTmaWarpSpecializedCooperative>,
                                        cute::Layout<cute::Shape<cute::_2, cute::_1, cute::_1>>,
                                        cute::Layout<cute::Shape<cute::_1, cute::_1, cute::_1>>>;
  using TiledMma = decltype(cute::make_tiled_mma(
      cute::GMMA::rs_op_selector<Element, Element, float, TileShape, cute::GMMA::Major::K, cute::GMMA::Major::K>(),
      AtomLayout{}));
  using SmemLayoutAtomA = decltype(cutlass::gemm::collective::detail::rs_smem_selector<
                                   cute::GMMA::Major::K, Element, decltype(cute::get<0>(TileShape{})),
                                   decltype(cute::get<2>(TileShape{})), false>());
  using SmemLayoutAtomB = decltype(cutlass::gemm::collective::detail::rs_smem_selector<
                                   cute::GMMA::Major::K, Element, decltype(cute::get<1>(TileShape{})),
                                   decltype(cute::get<2>(TileShape{})), false>());
  using CollectiveOp = cutlass::gemm::collective::CollectiveMma<
      cutlass::gemm::MainloopSm90TmaGmmaRmemAWarpSpecialized<kStages, ClusterShape, Schedule>, TileShape, Element,
      cutlass::gemm::TagToStrideA_t<cutlass::layout::RowMajor>, Element,
      cutlass::gemm::TagToStrideB_t<cutlass::layout::ColumnMajor>, TiledMma,
      decltype(cutlass::gemm::collective::detail::sm90_cluster_shape_to_tma_atom(cute::shape<1>(ClusterShape{}))),
      SmemLayoutAtomA, cute::Copy_Atom<ACopy, Element>, cute::identity,
      decltype(cutlass::gemm::collective::detail::sm90_cluster_shape_to_tma_atom(cute::shape<0>(ClusterShape{}))),
      SmemLayoutAtomB, void, cute::identity>;
};

// One configuration: CTA tile kM x kN x 32 (32 TF32 = 128 bytes of K per stage, one swizzle atom), a cluster of
// kClusterM CTAs along M (they share B's TMA loads by multicast), the cooperative (two consumer warpgroups on one
// tile) or ping-pong (one tile per consumer warpgroup, alternating) schedule, with or without the bias; A read by the
// tensor cores from shared memory (truncated; RoundingACopy void) or rounded into registers by the copy RoundingACopy
// (RoundToTf32Ldsm or RoundToTf32Copy; RoundingRsMainloop).
template <int kM, int kN, int kClusterM, bool kCooperative, bool kBias, class RoundingACopy = void>
struct Tf32TmaGemm {
  static constexpr bool kBias_ = kBias;
  using TileShape = cute::Shape<cute::Int<kM>, cute::Int<kN>, cute::_32>;
  using ClusterShape = cute::Shape<cute::Int<kClusterM>, cute::_1, cute::_1>;
  using MainloopSchedule = std::conditional_t<kCooperative, cutlass::gemm::KernelTmaWarpSpecializedCooperative,
                                              cutlass::gemm::KernelTmaWarpSpecializedPingpong>;
  using EpilogueSchedule = std::conditional_t<kCooperative, cutlass::epilogue::TmaWarpSpecializedCooperative,
                                              cutlass::epilogue::TmaWarpSpecialized>;
  static constexpr int kAlign = 4;  // 16 bytes of fp32: TMA's alignment (kSplitTf32Alignment)
  // No source matrix C (void): D = acc (+ bias), nothing else is read.
  using Fusion =
      std::conditional_t<kBias, cutlass::epilogue::fusion::LinCombPerColBias<float, float, float, float, float, kAlign>,
                         cutlass::epilogue::fusion::LinearCombination<float, float, float, float>>;
  using Epilogue = typename cutlass::epilogue::collective::CollectiveBuilder<
      cutlass::arch::Sm90, cutlass::arch::OpClassTensorOp, TileShape, ClusterShape,
      cutlass::epilogue::collective::EpilogueTileAuto, float, float, void, cutlass::layout::RowMajor, kAlign, float,
      cutlass::layout::RowMajor, kAlign, EpilogueSchedule, Fusion>::CollectiveOp;
  static constexpr int kEpilogueBytes = static_cast<int>(sizeof(typename Epilogue::SharedStorage));
  using Mainloop = std::conditional_t<
      !std::is_void_v<RoundingACopy>,
      typename RoundingRsMainloop<TileShape, ClusterShape, MainloopSchedule, kEpilogueBytes,
                                  RoundingACopy>::CollectiveOp,
      typename cutlass::gemm::collective::CollectiveBuilder<
          cutlass::arch::Sm90, cutlass::arch::OpClassTensorOp, cutlass::tfloat32_t, cutlass::layout::RowMajor, kAlign,
          cutlass::tfloat32_t, cutlass::layout::ColumnMajor, kAlign, float, TileShape, ClusterShape,
          cutlass::gemm::collective::StageCountAutoCarveout<kEpilogueBytes>, MainloopSchedule>::CollectiveOp>;
  using Kernel = cutlass::gemm::kernel::GemmUniversal<cute::Shape<int, int, int, int>, Mainloop, Epilogue,
                                                      cutlass::gemm::PersistentScheduler>;
  using Gemm = cutlass::gemm::device::GemmUniversalAdapter<Kernel>;
};

inline const char* cutlass_status_name(cutlass::Status s) { return cutlassGetStatusString(s); }

// The launchers' common part: the hardware info for a persistent grid of `sm_count` CTAs on the current device.
inline cutlass::KernelHardwareInfo persistent_grid(int sm_count) {
  cutlass::KernelHardwareInfo hw;
  cudaGetDevice(&hw.device_id);
  hw.sm_count = sm_count;
  return hw;
}

// The CUTLASS GEMMs' common tail, once their arguments are complete: the checks (no workspace: the persistent
// scheduler without split-K needs none), then initialize and run on `stream`; errors start with `what`. Also the
// f16 GEMM's (kernels/half_operands/half_gemm_kernel.cuh).
template <class Gemm>
void check_and_run(typename Gemm::Arguments& args, const std::string& what, cudaStream_t stream) {
  Gemm gemm;
  cutlass::Status s = gemm.can_implement(args);
  if (s != cutlass::Status::kSuccess) throw std::invalid_argument(what + "cannot implement: " + cutlass_status_name(s));
  if (Gemm::get_workspace_size(args) != 0) throw std::runtime_error(what + "needs a workspace");
  s = gemm.initialize(args, nullptr, stream);
  if (s == cutlass::Status::kSuccess) s = gemm.run(stream);
  const cudaError_t err = cudaGetLastError();
  if (s != cutlass::Status::kSuccess || err != cudaSuccess)
    throw std::runtime_error(what + "launch failed: " + cutlass_status_name(s) + ", " + cudaGetErrorString(err));
}

// The TF32 launchers' tail: D = acc (+ bias), then check_and_run; errors name `name` and the problem.
template <class Gemm, bool kBias>
void finish_and_launch(typename Gemm::Arguments& args, const SplitTf32GemmParams& p, const char* name,
                       cudaStream_t stream) {
  args.epilogue.thread.alpha = 1.0f;
  args.epilogue.thread.beta = 0.0f;
  if constexpr (kBias) args.epilogue.thread.bias_ptr = p.bias;
  check_and_run<Gemm>(args, std::string(name) + " (m=" + std::to_string(p.m) + " n=" + std::to_string(p.n) +
                                " k=" + std::to_string(p.k) + "): ",
                      stream);
}

// Enqueues D = A B^T (+ bias) on `stream` (p.b_layout must be kWeightRows; p.bias used only when kBias). No
// workspace and no allocation, so a CUDA graph can record it; the TMA descriptors are made on the host here and
// travel as kernel parameters. `sm_count` sizes the persistent grid.
template <class Config>
void run_tf32_tma_gemm(const SplitTf32GemmParams& p, int sm_count, cudaStream_t stream) {
  using Kernel = typename Config::Kernel;
  typename Kernel::StrideA stride_a = cute::make_stride(int64_t(p.lda), cute::Int<1>{}, int64_t(0));
  typename Kernel::StrideB stride_b = cute::make_stride(int64_t(p.ldb), cute::Int<1>{}, int64_t(0));
  typename Kernel::StrideD stride_d = cute::make_stride(int64_t(p.ldd), cute::Int<1>{}, int64_t(0));
  typename Kernel::StrideC stride_c{};
  typename Config::Gemm::Arguments args{
      cutlass::gemm::GemmUniversalMode::kGemm,
      {static_cast<int>(p.m), static_cast<int>(p.n), static_cast<int>(p.k), 1},
      {reinterpret_cast<const cutlass::tfloat32_t*>(p.a), stride_a, reinterpret_cast<const cutlass::tfloat32_t*>(p.b),
       stride_b},
      {{}, nullptr, stride_c, p.d, stride_d},
      persistent_grid(sm_count)};
  finish_and_launch<typename Config::Gemm, Config::kBias_>(args, p, "tf32_gemm_tma", stream);
}

}  // namespace hopper
}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_GEMM_HOPPER_TF32_TMA_GEMM_KERNEL_CUH
