// Microbenchmark of the split-TF32 GEMM (src/kernels/gemm/) on the engine's GEMM shapes at fcc carbon 2000
// (98 200 edges; C = 128): the SO(2) convolutions' m = 0/1/2 GEMMs of both convolutions and the radial MLP's three
// layers, each forward (y = x W^T) and backward (dx = dy W), as one layer of the network runs them.
// One executable per tile (nvcc compiles one translation unit on one core; tools/gpu/run-on-device.sh gemm-tiles
// builds them in parallel), or cuBLAS strict fp32 and TF32 on the same shapes for reference:
//   nvcc -std=c++17 -O3 -arch=sm_90 -I src -isystem <cutlass>/include -DUMA_TILE_ID=0 \
//        benchmarks/kernels/bench_split_tf32_gemm.cu -o bench_tile
//   nvcc -std=c++17 -O3 -arch=sm_90 -I src -DUMA_CUBLAS benchmarks/kernels/bench_split_tf32_gemm.cu -lcublas -o bench_cublas
//   nvcc -std=c++17 -O3 --expt-relaxed-constexpr -gencode=arch=compute_90a,code=sm_90a -I src -isystem <cutlass>/include \
//        -DUMA_WGMMA benchmarks/kernels/bench_split_tf32_gemm.cu src/kernels/gemm/hopper/split_tf32_wgmma.cu -o bench_wgmma
//   (the last: the Hopper kernel of src/kernels/gemm/hopper/)
//   nvcc -std=c++17 -O3 -DNDEBUG --expt-relaxed-constexpr -gencode=arch=compute_90a,code=sm_90a -I src \
//        -isystem <cutlass>/include -DUMA_TF32_TMA=0 benchmarks/kernels/bench_split_tf32_gemm.cu -o bench_tf32_tma0
//   (plain TF32 on the Hopper TMA GEMM, tf32_tma_gemm_kernel.cuh; -DUMA_TF32_TMA picks the configuration below; the
//   input gradient takes W^T as weight rows, as the engine passes it)
//   nvcc -std=c++17 -O3 -DNDEBUG --expt-relaxed-constexpr -gencode=arch=compute_90a,code=sm_90a -I src \
//        -isystem <cutlass>/include -DUMA_TF32_RS -DUMA_RS_STAGES=3 benchmarks/kernels/bench_split_tf32_gemm.cu \
//        -o bench_tf32_rs3
//   (plain TF32 rounded in registers, tf32_rs_wgmma_kernel.cuh, with a staging ring of UMA_RS_STAGES steps; the
//   input gradient reads W row-major)
// Prints one markdown row per shape (median of 20 launches after 3, effective TFLOP/s = 2mnk / time) and the layer
// total. Never registered with ctest.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#ifdef UMA_CUBLAS
#include <cublas_v2.h>
#elif defined(UMA_WGMMA)
#include "kernels/gemm/hopper/split_tf32_wgmma_launch.h"
#elif defined(UMA_TF32_TMA)
#include "kernels/gemm/hopper/tf32_tma_gemm_kernel.cuh"
#elif defined(UMA_TF32_RS)
#include "kernels/gemm/hopper/tf32_rs_wgmma_kernel.cuh"
#ifndef UMA_RS_STAGES
#define UMA_RS_STAGES 3
#endif
#ifndef UMA_RS_B_ROUNDED  // 1: B taken as TF32 already (copied straight into wgmma's layout; forward GEMMs only)
#define UMA_RS_B_ROUNDED 0
#endif
#else
#include "kernels/gemm/split_tf32_gemm_kernel.cuh"
#endif
#include "kernels/gemm/split_tf32_gemm_params.h"
#include "layer_gemm_shapes.h"

#if defined(UMA_TF32_TMA)
// <tile M, tile N, cluster M, cooperative> (tf32_tma_gemm_kernel.cuh Tf32TmaGemm)
#define UMA_STRINGIZE_ARGS(...) #__VA_ARGS__
#define UMA_STRINGIZE(...) UMA_STRINGIZE_ARGS(__VA_ARGS__)
#if UMA_TF32_TMA == 0
#define UMA_TMA_CONFIG 128, 128, 1, true
#elif UMA_TF32_TMA == 1
#define UMA_TMA_CONFIG 128, 256, 1, true
#elif UMA_TF32_TMA == 2
#define UMA_TMA_CONFIG 128, 128, 2, true
#elif UMA_TF32_TMA == 3
#define UMA_TMA_CONFIG 64, 128, 1, false
#elif UMA_TF32_TMA == 4
#define UMA_TMA_CONFIG 128, 128, 1, false
#elif UMA_TF32_TMA == 5
#define UMA_TMA_CONFIG 256, 128, 1, true
#elif UMA_TF32_TMA == 6  // 6, 7: the rounding variant (A rounded into registers, one LDS per element), ping-pong
#define UMA_TMA_CONFIG 128, 128, 1, false  // and cooperative
#define UMA_TMA_A_COPY uma::kernels::hopper::RoundToTf32Copy
#elif UMA_TF32_TMA == 7
#define UMA_TMA_CONFIG 128, 128, 1, true
#define UMA_TMA_A_COPY uma::kernels::hopper::RoundToTf32Copy
#elif UMA_TF32_TMA == 8  // 8: the rounding variant with ldmatrix for A's copy into registers (RoundToTf32Ldsm)
#define UMA_TMA_CONFIG 128, 128, 1, false
#define UMA_TMA_A_COPY uma::kernels::hopper::RoundToTf32Ldsm
#else
#error "UMA_TF32_TMA 0-8"
#endif
#ifndef UMA_TMA_A_COPY  // A read truncated from shared memory
#define UMA_TMA_A_COPY void
#endif
#endif

#if !defined(UMA_CUBLAS) && !defined(UMA_WGMMA) && !defined(UMA_TF32_TMA) && !defined(UMA_TF32_RS)
// The tiles swept: <BM, BN, BK, WM, WN, stages> (split_tf32_gemm_kernel.cuh); -DUMA_TILE_ID picks one (nvcc splits
// -D values at commas, so the tile cannot be given on the command line itself).
#define UMA_STRINGIZE_ARGS(...) #__VA_ARGS__
#define UMA_STRINGIZE(...) UMA_STRINGIZE_ARGS(__VA_ARGS__)
#if UMA_TILE_ID == 0
#define UMA_TILE 128, 64, 16, 64, 32, 3
#elif UMA_TILE_ID == 1
#define UMA_TILE 64, 128, 16, 32, 64, 4
#elif UMA_TILE_ID == 2
#define UMA_TILE 128, 64, 16, 64, 32, 4
#elif UMA_TILE_ID == 3
#define UMA_TILE 128, 64, 32, 64, 32, 3
#elif UMA_TILE_ID == 4
#define UMA_TILE 64, 64, 16, 32, 32, 5
#elif UMA_TILE_ID == 5
#define UMA_TILE 64, 128, 32, 32, 64, 3
#elif UMA_TILE_ID == 6
#define UMA_TILE 128, 128, 16, 64, 32, 3
#elif UMA_TILE_ID == 7
#define UMA_TILE 256, 64, 16, 64, 32, 3
#else
#error "UMA_TILE_ID 0-7"
#endif
#endif

namespace {

const int kEdges = uma_bench::bench_edges();
constexpr int kMaxDim = uma_bench::kLayerGemmMaxDim;

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    std::fprintf(stderr, "%s: %s\n", what, cudaGetErrorString(e));
    std::exit(1);
  }
}

}  // namespace

int main() {
  float *x, *w, *y, *bias;
  check(cudaMalloc(&x, sizeof(float) * kEdges * kMaxDim), "malloc");
  check(cudaMalloc(&y, sizeof(float) * kEdges * kMaxDim), "malloc");
  check(cudaMalloc(&w, sizeof(float) * kMaxDim * kMaxDim), "malloc");
  check(cudaMalloc(&bias, sizeof(float) * kMaxDim), "malloc");
  // Random operands: tensor cores fed zeros draw less power and clock higher (zeros measured ~1.7x faster).
  {
    std::mt19937 gen(1);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> h(size_t(kEdges) * kMaxDim);
    for (auto& v : h) v = normal(gen);
    cudaMemcpy(x, h.data(), sizeof(float) * h.size(), cudaMemcpyHostToDevice);
    cudaMemcpy(w, h.data(), sizeof(float) * kMaxDim * kMaxDim, cudaMemcpyHostToDevice);
    cudaMemcpy(bias, h.data(), sizeof(float) * kMaxDim, cudaMemcpyHostToDevice);
  }
#ifdef UMA_CUBLAS
  cublasHandle_t h;
  cublasCreate(&h);
  const char* names[2] = {"cuBLAS strict fp32", "cuBLAS TF32"};
  const cublasComputeType_t modes[2] = {CUBLAS_COMPUTE_32F, CUBLAS_COMPUTE_32F_FAST_TF32};
  for (int mode = 0; mode < 2; ++mode) {
    const std::string label = names[mode];
#elif defined(UMA_WGMMA)
  {
    const std::string label = "split TF32 wgmma 128x128x32 (hopper/)";
#elif defined(UMA_TF32_RS)
  {
    const std::string label = "TF32 rounded in registers (tf32_rs_wgmma), " + std::to_string(UMA_RS_STAGES) +
                              " stages" + (UMA_RS_B_ROUNDED ? ", B pre-rounded (W^T for the input gradient)" : "");
#elif defined(UMA_TF32_TMA)
  int sm_count = 0;
  cudaDeviceGetAttribute(&sm_count, cudaDevAttrMultiProcessorCount, 0);
  {
    const std::string label = std::string(UMA_TF32_TMA == 8   ? "TF32 TMA, A rounded in registers (ldmatrix) <"
                                          : UMA_TF32_TMA >= 6 ? "TF32 TMA, A rounded in registers <"
                                                            : "TF32 TMA <") +
                              UMA_STRINGIZE(UMA_TMA_CONFIG) + ">";
#else
  {
    const std::string label = std::string("split TF32 tile <") + UMA_STRINGIZE(UMA_TILE) + ">";
#endif
    double total = 0, flops = 0;
    for (const auto& s : uma_bench::kLayerGemms)
      for (int dir = 0; dir < 2; ++dir) {  // 0: y = x W^T (m=E, n, k); 1: dx = dy W (m=E, n'=k, k'=n)
        const int m = kEdges, n = dir == 0 ? s.n : s.k, k = dir == 0 ? s.k : s.n;
#ifdef UMA_CUBLAS
        const float one = 1, zero = 0;
        // Row-major D [m,n] = column-major D^T [n,m] = op(W) x^T: forward W^T's transpose is W [n,k] row-major
        // = column-major [k,n] ... expressed as cuBLAS column-major calls on the transposed problem.
        auto launch = [&] {
          if (dir == 0)
            cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, n, m, k, &one, w, CUDA_R_32F, k, x, CUDA_R_32F, k, &zero, y,
                         CUDA_R_32F, n, modes[mode], CUBLAS_GEMM_DEFAULT);
          else
            cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, n, m, k, &one, w, CUDA_R_32F, n, x, CUDA_R_32F, k, &zero, y,
                         CUDA_R_32F, n, modes[mode], CUBLAS_GEMM_DEFAULT);
        };
#else
        uma::kernels::SplitTf32GemmParams p;
        p.m = m; p.n = n; p.k = k;
        p.a = x; p.lda = k;
        p.b = w; p.ldb = dir == 0 ? k : n;  // W [s.n][s.k] row-major either way (W^T [s.k][s.n] for TF32 TMA)
        p.b_layout = dir == 0 ? uma::kernels::GemmBLayout::kWeightRows : uma::kernels::GemmBLayout::kRowMajor;
#if defined(UMA_TF32_TMA) || (defined(UMA_TF32_RS) && UMA_RS_B_ROUNDED)
        p.b_layout = uma::kernels::GemmBLayout::kWeightRows;
#endif
        p.bias = dir == 0 ? bias : nullptr;
        p.d = y; p.ldd = n;
#ifdef UMA_WGMMA
        auto launch = [&] { uma::kernels::hopper::split_tf32_gemm_wgmma(p, nullptr); };
#elif defined(UMA_TF32_RS)
        // The kernel launched here, not through tf32_gemm_rs, to sweep its staging depth (-DUMA_RS_STAGES).
        auto launch = [&] {
          namespace h = uma::kernels::hopper;
          using T = h::Tf32RsTile<false, UMA_RS_STAGES>;
          const unsigned blocks = unsigned(((p.m + T::kM - 1) / T::kM) * ((p.n + T::kN - 1) / T::kN));
          if (p.b_layout == uma::kernels::GemmBLayout::kWeightRows) {
            auto k = h::tf32_rs_wgmma_kernel<uma::kernels::GemmBLayout::kWeightRows, false, UMA_RS_STAGES,
                                             UMA_RS_B_ROUNDED != 0>;
            cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, T::kSharedBytes);
            k<<<blocks, T::kThreads, T::kSharedBytes>>>(p, h::GateOperand{});
          } else {
            auto k = h::tf32_rs_wgmma_kernel<uma::kernels::GemmBLayout::kRowMajor, false, UMA_RS_STAGES>;
            cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, T::kSharedBytes);
            k<<<blocks, T::kThreads, T::kSharedBytes>>>(p, h::GateOperand{});
          }
        };
#elif defined(UMA_TF32_TMA)
        namespace h = uma::kernels::hopper;
        auto launch = [&] {
          if (p.bias)
            h::run_tf32_tma_gemm<h::Tf32TmaGemm<UMA_TMA_CONFIG, true, UMA_TMA_A_COPY>>(p, sm_count, nullptr);
          else
            h::run_tf32_tma_gemm<h::Tf32TmaGemm<UMA_TMA_CONFIG, false, UMA_TMA_A_COPY>>(p, sm_count, nullptr);
        };
#else
        auto launch = [&] { uma::kernels::split_tf32_run<uma::kernels::SplitTf32Tile<UMA_TILE>>(p, nullptr); };
#endif
#endif
        const double ms = uma_bench::median_ms(launch);
        const double f = 2.0 * m * n * k;
        total += ms;
        flops += f;
        std::printf("| %s | %s %s | %d x %d x %d | %.3f | %.1f |\n", label.c_str(), s.what, dir == 0 ? "fwd" : "bwd",
                    m, n, k, ms, f / ms * 1e-9);
      }
    std::printf("| %s | **one layer, all 18 GEMMs** | | %.3f | %.1f |\n", label.c_str(), total, flops / total * 1e-9);
  }
  return 0;
}
