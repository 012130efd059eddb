// K2's forward on the TMA host (docs/fused-edge-block.md): conv 2's GEMM y = gate(x) W^T with the edge gate applied to
// A on its way from shared memory into registers. The gate of UMA's Edgewise layer multiplies each row of conv 1's
// output by a factor of its degree l and channel c: sigma(x) itself for the l = 0 row (SiLU), sigma(g_l) of the gate
// logits otherwise (edge_gate_params.h). With those factors made once per edge ([E, 3H]: s_0 = sigma(x_0),
// s_1 = sigma(g_1), s_2 = sigma(g_2)), the gate is one multiply per A element, and a K tile of 32 lies in one row of
// one degree (H a multiple of 32), so the factor tile that goes with A's tile k is the [BLK_M, 32] box of s at
// column degree(row(k)) * H + (k * 32 mod H).
//
// GatedRsMainloop is CUTLASS's RS collective (MainloopSm90TmaGmmaRmemAWarpSpecialized, A from registers) with:
//   - a third shared-memory tile per stage, G (same layout as A), loaded by TMA beside A and B on the same barrier;
//   - its own consumer loop: A and G copied raw into registers by ldmatrix, then A <- tf32_round(A * G), the product
//     rounded exactly as the unfused gate kernel stores it with UMA_TF32_PREROUND (same fp32 product, same cvt.rna),
//     so the result equals gate-then-GEMM bit for bit where the MMAs sum in the same order.
// The rest (pipeline, scheduler, epilogue) is CUTLASS's persistent ping-pong kernel. Used by gate_conv2_tma.cu (the
// engine's K2 in the hopper-rna mode); on an H100 its outputs equal gate + GEMMs bit for bit, in 0.705 against 0.930 ms
// at carbon 2000 (benchmarks/kernels/bench_gate_conv2_tma.cu; benchmarks/results/2026-12-07-h100-preround-k2.md).
#ifndef UMA_KERNELS_GEMM_HOPPER_TF32_TMA_GATED_MAINLOOP_CUH
#define UMA_KERNELS_GEMM_HOPPER_TF32_TMA_GATED_MAINLOOP_CUH

#include "kernels/gemm/hopper/tf32_tma_gemm_kernel.cuh"

namespace uma {
namespace kernels {
namespace hopper {

// Which factor tile goes with A's K tile: A's K index is row * H + c (row < 4 within an m-group), the factors' is
// degree * H + c.
struct GateTileMap {
  int tiles_per_row = 4;              // H / 32
  int degree_of_row[4] = {0, 1, 2, 0};  // m-group 0; group 1: {1, 2, 1, 2} (kGateDegreeOfM1Row); group 2: {2, 2}
  CUTE_HOST_DEVICE int factor_tile(int k_tile) const {
    const int row = k_tile / tiles_per_row;
    return degree_of_row[row] * tiles_per_row + (k_tile - row * tiles_per_row);
  }
};

template <class Base>
struct GatedRsMainloop : Base {
  using typename Base::DispatchPolicy;
  using ClusterShape = typename DispatchPolicy::ClusterShape;
  using typename Base::ElementA;
  using typename Base::ElementB;
  using typename Base::GmemTiledCopyA;
  using typename Base::InternalElementA;
  using typename Base::MainloopPipeline;
  using typename Base::PipelineState;
  using typename Base::SmemLayoutA;
  using typename Base::SmemLayoutB;
  using typename Base::StrideA;
  using typename Base::StrideB;
  using typename Base::TiledMma;
  using typename Base::TileShape;
  static_assert(cute::is_same_v<ClusterShape, cute::Shape<cute::_1, cute::_1, cute::_1>>, "no clusters: no multicast");

  struct SharedStorage {
    struct TensorStorage : cute::aligned_struct<cute::max(Base::SmemAlignmentA, Base::SmemAlignmentB), cute::_0> {
      cute::array_aligned<typename TiledMma::ValTypeA, cute::cosize_v<SmemLayoutA>, Base::SmemAlignmentA> smem_A;
      cute::array_aligned<typename TiledMma::ValTypeB, cute::cosize_v<SmemLayoutB>, Base::SmemAlignmentB> smem_B;
      cute::array_aligned<typename TiledMma::ValTypeA, cute::cosize_v<SmemLayoutA>, Base::SmemAlignmentA> smem_G;
    } tensors;
    using PipelineStorage = typename MainloopPipeline::SharedStorage;
    PipelineStorage pipeline;
  };
  using TensorStorage = typename SharedStorage::TensorStorage;
  using PipelineStorage = typename SharedStorage::PipelineStorage;

  struct Arguments {
    ElementA const* ptr_A = nullptr;
    StrideA dA{};
    ElementB const* ptr_B = nullptr;
    StrideB dB{};
    ElementA const* ptr_G = nullptr;  // the factors [M, degrees * H], row stride dG
    StrideA dG{};
    int64_t g_columns = 0;             // degrees * H
    GateTileMap map{};
  };

  using TmaA = typename Base::Params::TMA_A;
  struct Params : Base::Params {
    TmaA tma_load_g;
    GateTileMap map;
    int g_columns;
  };

  template <class ProblemShape>
  static Params to_underlying_arguments(ProblemShape const& problem_shape, Arguments const& args, void* workspace) {
    Params p;
    static_cast<typename Base::Params&>(p) = Base::to_underlying_arguments(
        problem_shape, typename Base::Arguments{args.ptr_A, args.dA, args.ptr_B, args.dB}, workspace);
    auto [M, N, K, L] = cute::append<4>(problem_shape, 1);
    (void)N, (void)K;
    auto tensor_g = cute::make_tensor(reinterpret_cast<InternalElementA const*>(args.ptr_G),
                                      cute::make_layout(cute::make_shape(M, int(args.g_columns), L), args.dG));
    p.tma_load_g = cute::make_tma_copy_A_sm90(
        GmemTiledCopyA{}, tensor_g, SmemLayoutA{}(cute::_, cute::_, cute::Int<0>{}), TileShape{}, ClusterShape{});
    p.tma_transaction_bytes += Base::TmaTransactionBytesMK;  // G's tile, the size of A's
    p.map = args.map;
    p.g_columns = int(args.g_columns);
    return p;
  }

  template <class ProblemShape>
  static bool can_implement(ProblemShape const& problem_shape, Arguments const& args) {
    auto [M, N, K, L] = cute::append<4>(problem_shape, 1);
    (void)N, (void)L;
    constexpr int kBlkK = cute::size<2>(TileShape{});
    return Base::can_implement(problem_shape, typename Base::Arguments{args.ptr_A, args.dA, args.ptr_B, args.dB}) &&
           cutlass::detail::check_alignment<4>(cute::make_shape(M, int(args.g_columns), 1), args.dG) &&
           args.map.tiles_per_row > 0 && K % (args.map.tiles_per_row * kBlkK) == 0 &&
           args.g_columns % kBlkK == 0 && K / (args.map.tiles_per_row * kBlkK) <= 4;
  }

  CUTLASS_DEVICE static void prefetch_tma_descriptors(Params const& p) {
    Base::prefetch_tma_descriptors(p);
    cute::prefetch_tma_descriptor(p.tma_load_g.get_tma_descriptor());
  }

  template <class ProblemShape_MNKL>
  CUTLASS_DEVICE auto load_init(ProblemShape_MNKL const& problem_shape_MNKL, Params const& p) const {
    using X = cute::Underscore;
    auto [M, N, K, L] = problem_shape_MNKL;
    (void)N, (void)K;
    auto ab = Base::load_init(problem_shape_MNKL, p);
    cute::Tensor mG = p.tma_load_g.get_tma_tensor(cute::make_shape(M, p.g_columns, L));
    cute::Tensor gG = cute::local_tile(mG, TileShape{}, cute::make_coord(cute::_, cute::_, cute::_),
                                       cute::Step<cute::_1, X, cute::_1>{});
    return cute::make_tuple(cute::get<0>(ab), cute::get<1>(ab), gG);
  }

  // Producer: A, B and the factor tile of each K tile on one barrier (one elected thread issues the three TMAs).
  template <class TensorA, class TensorB, class TensorG, class KTileIterator, class BlockCoord>
  CUTLASS_DEVICE void load(Params const& p, MainloopPipeline pipeline, PipelineState smem_pipe_write,
                           cute::tuple<TensorA, TensorB, TensorG> const& load_inputs, BlockCoord const& blk_coord,
                           KTileIterator k_tile_iter, int k_tile_count, int thread_idx, uint32_t block_rank_in_cluster,
                           TensorStorage& shared_tensors) {
    using namespace cute;
    (void)thread_idx, (void)block_rank_in_cluster;
    if (!elect_one_sync()) return;
    Tensor sA = as_position_independent_swizzle_tensor(make_tensor(make_smem_ptr(shared_tensors.smem_A.data()),
                                                                   SmemLayoutA{}));
    Tensor sB = as_position_independent_swizzle_tensor(make_tensor(make_smem_ptr(shared_tensors.smem_B.data()),
                                                                   SmemLayoutB{}));
    Tensor sG = as_position_independent_swizzle_tensor(make_tensor(make_smem_ptr(shared_tensors.smem_G.data()),
                                                                   SmemLayoutA{}));
    auto block_tma_a = p.tma_load_a.get_slice(0);
    auto block_tma_b = p.tma_load_b.get_slice(0);
    auto block_tma_g = p.tma_load_g.get_slice(0);
    auto [m_coord, n_coord, k_coord, l_coord] = blk_coord;
    (void)k_coord;
    Tensor tAgA = block_tma_a.partition_S(get<0>(load_inputs)(_, _, m_coord, _, l_coord));  // (TMA,TMA_M,TMA_K,k)
    Tensor tAsA = block_tma_a.partition_D(sA);                                              // (TMA,TMA_M,TMA_K,PIPE)
    Tensor tBgB = block_tma_b.partition_S(get<1>(load_inputs)(_, _, n_coord, _, l_coord));
    Tensor tBsB = block_tma_b.partition_D(sB);
    Tensor tGgG = block_tma_g.partition_S(get<2>(load_inputs)(_, _, m_coord, _, l_coord));
    Tensor tGsG = block_tma_g.partition_D(sG);
    CUTLASS_PRAGMA_NO_UNROLL
    for (; k_tile_count > 0; --k_tile_count) {
      pipeline.producer_acquire(smem_pipe_write);
      auto* barrier = pipeline.producer_get_barrier(smem_pipe_write);
      const int stage = smem_pipe_write.index();
      const int k_tile = *k_tile_iter;
      copy(p.tma_load_a.with(*barrier, 0), tAgA(_, _, _, k_tile), tAsA(_, _, _, stage));
      copy(p.tma_load_b.with(*barrier, 0), tBgB(_, _, _, k_tile), tBsB(_, _, _, stage));
      copy(p.tma_load_g.with(*barrier, 0), tGgG(_, _, _, p.map.factor_tile(k_tile)), tGsG(_, _, _, stage));
      ++k_tile_iter;
      ++smem_pipe_write;
    }
  }

  // Consumer: CUTLASS's RS loop (one K block's MMAs in flight while the next block's A is made; the previous stage
  // released once the block after next has started), with A made as tf32_round(A * G).
  template <class FrgTensorC>
  CUTLASS_DEVICE void mma(MainloopPipeline pipeline, PipelineState smem_pipe_read, FrgTensorC& accum, int k_tile_count,
                          int thread_idx, TensorStorage& shared_tensors, Params const& p) {
    using namespace cute;
    (void)p;
    Tensor sA = as_position_independent_swizzle_tensor(make_tensor(make_smem_ptr(shared_tensors.smem_A.data()),
                                                                   SmemLayoutA{}));
    Tensor sG = as_position_independent_swizzle_tensor(make_tensor(make_smem_ptr(shared_tensors.smem_G.data()),
                                                                   SmemLayoutA{}));
    Tensor sB = make_tensor(make_smem_ptr(shared_tensors.smem_B.data()), SmemLayoutB{});  // for the wgmma descriptors
    constexpr int kMmaWarpGroups = size(TiledMma{}) / cutlass::NumThreadsPerWarpGroup;
    const Layout warp_group_thread_layout = make_layout(Int<kMmaWarpGroups>{}, Int<cutlass::NumThreadsPerWarpGroup>{});
    const int warp_group_idx = __shfl_sync(0xffffffff, thread_idx / cutlass::NumThreadsPerWarpGroup, 0);
    TiledMma tiled_mma;
    auto mma_thread_slice = tiled_mma.get_thread_slice(thread_idx);
    auto mma_warpgroup_slice = tiled_mma.get_slice(warp_group_thread_layout(warp_group_idx));
    Tensor tCrA = mma_thread_slice.partition_fragment_A(sA(_, _, Int<0>{}));  // (MMA,MMA_M,MMA_K)
    Tensor tCsB = mma_warpgroup_slice.partition_B(sB);                       // (MMA,MMA_N,MMA_K,PIPE)
    Tensor tCrB = mma_warpgroup_slice.make_fragment_B(tCsB);
    auto smem_tiled_copy = make_tiled_copy_A(Copy_Atom<SM75_U32x4_LDSM_N, typename TiledMma::ValTypeA>{}, tiled_mma);
    auto smem_thr_copy = smem_tiled_copy.get_thread_slice(thread_idx);
    Tensor tCrA_copy_view = smem_thr_copy.retile_D(tCrA);  // (CPY,CPY_M,CPY_K)
    Tensor tCsA_copy_view = smem_thr_copy.partition_S(sA);  // (CPY,CPY_M,CPY_K,PIPE)
    Tensor tCsG_copy_view = smem_thr_copy.partition_S(sG);
    Tensor tCrG = make_fragment_like(tCrA_copy_view(_, _, Int<0>{}));  // (CPY,CPY_M): one K block's factors
    constexpr int kBlocks = size<2>(tCrA);
    static_assert(kBlocks > 2, "the RS loop needs more than two MMA K blocks per tile");

    // A's K block kb of stage `stage` into registers, gated and rounded.
    auto make_a = [&](int kb, int stage) {
      copy(smem_tiled_copy, tCsA_copy_view(_, _, kb, stage), tCrA_copy_view(_, _, kb));
      copy(smem_tiled_copy, tCsG_copy_view(_, _, kb, stage), tCrG);
      Tensor a = tCrA_copy_view(_, _, kb);
      CUTLASS_PRAGMA_UNROLL
      for (int i = 0; i < size(a); ++i) {
        // Raw bits: tfloat32_t's conversion to float would drop the low 13 bits.
        const float x = __uint_as_float(a(i).storage) * __uint_as_float(tCrG(i).storage);
        a(i) = cutlass::tfloat32_t::bitcast(__float_as_uint(tf32_round(x)));
      }
    };

    PipelineState smem_pipe_release = smem_pipe_read;
    tiled_mma.accumulate_ = GMMA::ScaleOut::Zero;
    warpgroup_fence_operand(accum);
    auto barrier_token = pipeline.consumer_try_wait(smem_pipe_read);
    // First K tile.
    {
      pipeline.consumer_wait(smem_pipe_read, barrier_token);
      const int read_stage = smem_pipe_read.index();
      ++smem_pipe_read;
      barrier_token = pipeline.consumer_try_wait(smem_pipe_read);
      make_a(0, read_stage);
      CUTLASS_PRAGMA_UNROLL
      for (int kb = 0; kb < kBlocks - 1; ++kb) {
        make_a(kb + 1, read_stage);
        warpgroup_arrive();
        gemm(tiled_mma, tCrA(_, _, kb), tCrB(_, _, kb, read_stage), accum);
        tiled_mma.accumulate_ = GMMA::ScaleOut::One;
        warpgroup_commit_batch();
      }
      warpgroup_wait<2>();
      warpgroup_arrive();
      gemm(tiled_mma, tCrA(_, _, kBlocks - 1), tCrB(_, _, kBlocks - 1, read_stage), accum);
      warpgroup_commit_batch();
      --k_tile_count;
      if (k_tile_count == 0) return;
      pipeline.consumer_wait(smem_pipe_read, barrier_token);
      make_a(0, smem_pipe_read.index());
      warpgroup_wait<2>();
    }
    warpgroup_fence_operand(accum);
    // Middle K tiles.
    CUTLASS_PRAGMA_NO_UNROLL
    for (; k_tile_count > 1; --k_tile_count) {
      const int read_stage = smem_pipe_read.index();
      ++smem_pipe_read;
      warpgroup_fence_operand(accum);
      CUTLASS_PRAGMA_UNROLL
      for (int kb = 0; kb < kBlocks; ++kb) {
        if (kb == 0) barrier_token = pipeline.consumer_try_wait(smem_pipe_read);
        if (kb == kBlocks - 1) {
          pipeline.consumer_wait(smem_pipe_read, barrier_token);
          make_a(0, smem_pipe_read.index());
        } else {
          make_a(kb + 1, read_stage);
        }
        warpgroup_arrive();
        gemm(tiled_mma, tCrA(_, _, kb), tCrB(_, _, kb, read_stage), accum);
        warpgroup_commit_batch();
        warpgroup_wait<2>();
        if (kb == 1) {
          pipeline.consumer_release(smem_pipe_release);
          ++smem_pipe_release;
        }
      }
      warpgroup_fence_operand(accum);
    }
    warpgroup_fence_operand(accum);
    // Last K tile.
    {
      const int read_stage = smem_pipe_read.index();
      warpgroup_fence_operand(accum);
      CUTLASS_PRAGMA_UNROLL
      for (int kb = 0; kb < kBlocks - 1; ++kb) {
        make_a(kb + 1, read_stage);
        warpgroup_arrive();
        gemm(tiled_mma, tCrA(_, _, kb), tCrB(_, _, kb, read_stage), accum);
        tiled_mma.accumulate_ = GMMA::ScaleOut::One;
        warpgroup_commit_batch();
        warpgroup_wait<2>();
        if (kb == 1) {
          pipeline.consumer_release(smem_pipe_release);
          ++smem_pipe_release;
        }
      }
      warpgroup_arrive();
      gemm(tiled_mma, tCrA(_, _, kBlocks - 1), tCrB(_, _, kBlocks - 1, read_stage), accum);
      warpgroup_commit_batch();
    }
    warpgroup_fence_operand(accum);
  }
};

// Factors for one GEMM: s [M, g_columns] rows ldg apart (the [E, 3H] gate factors), and which tile of them goes with
// each K tile of A.
struct GateFactors {
  const float* s = nullptr;
  int64_t ldg = 0;
  int64_t g_columns = 0;
  GateTileMap map{};
};

// The gated GEMM's configuration: the product's 128 x 128 x 32 ping-pong tiles (tf32_tma_gemm_config.h), with as
// many stages as fit three tiles (A, B, G) each beside the epilogue's shared memory.
template <bool kBias>
struct GatedTf32TmaGemm {
  using Plain = Tf32TmaGemm<128, 128, 1, false, kBias>;  // for its epilogue and schedule types
  using TileShape = typename Plain::TileShape;
  using ClusterShape = typename Plain::ClusterShape;
  using Epilogue = typename Plain::Epilogue;
  static constexpr int kTileBytes = 128 * 32 * 4;
  static constexpr int kStages =
      (cutlass::gemm::collective::detail::sm90_smem_capacity_bytes - Plain::kEpilogueBytes - 1024) / (3 * kTileBytes + 64);
  static_assert(kStages >= 2, "three tiles per stage must fit twice");
  using Base = typename RoundingRsMainloop<TileShape, ClusterShape, typename Plain::MainloopSchedule,
                                           Plain::kEpilogueBytes, cute::SM75_U32x4_LDSM_N, kStages>::CollectiveOp;
  using Mainloop = GatedRsMainloop<Base>;
  using Kernel = cutlass::gemm::kernel::GemmUniversal<cute::Shape<int, int, int, int>, Mainloop, Epilogue,
                                                      cutlass::gemm::PersistentScheduler>;
  using Gemm = cutlass::gemm::device::GemmUniversalAdapter<Kernel>;
};

// D = gate(A) B^T (+ bias) with A's element (m, k) multiplied by its factor and rounded to TF32 (B rounded already),
// enqueued on `stream`; the same rules as run_tf32_tma_gemm, and H = tiles_per_row * 32 with k = rows * H.
template <class Config>
void run_gated_tf32_tma_gemm(const SplitTf32GemmParams& p, const GateFactors& g, int sm_count, cudaStream_t stream) {
  using Kernel = typename Config::Kernel;
  using T = cutlass::tfloat32_t;
  typename Kernel::StrideA stride_a = cute::make_stride(int64_t(p.lda), cute::Int<1>{}, int64_t(0));
  typename Kernel::StrideA stride_g = cute::make_stride(int64_t(g.ldg), cute::Int<1>{}, int64_t(0));
  typename Kernel::StrideB stride_b = cute::make_stride(int64_t(p.ldb), cute::Int<1>{}, int64_t(0));
  typename Kernel::StrideD stride_d = cute::make_stride(int64_t(p.ldd), cute::Int<1>{}, int64_t(0));
  typename Kernel::StrideC stride_c{};
  typename Config::Gemm::Arguments args{
      cutlass::gemm::GemmUniversalMode::kGemm,
      {static_cast<int>(p.m), static_cast<int>(p.n), static_cast<int>(p.k), 1},
      {reinterpret_cast<const T*>(p.a), stride_a, reinterpret_cast<const T*>(p.b), stride_b,
       reinterpret_cast<const T*>(g.s), stride_g, g.g_columns, g.map},
      {{}, nullptr, stride_c, p.d, stride_d},
      persistent_grid(sm_count)};
  finish_and_launch<typename Config::Gemm, Config::Plain::kBias_>(args, p, "gated tf32_gemm_tma", stream);
}

}  // namespace hopper
}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_GEMM_HOPPER_TF32_TMA_GATED_MAINLOOP_CUH
