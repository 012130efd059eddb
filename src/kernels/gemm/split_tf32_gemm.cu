// The product's split-TF32 GEMM: the operand checks and the choice of kernel: the tile of split_tf32_gemm_kernel.cuh
// (mma.sync) chosen by the sweep in benchmarks/kernels/bench_split_tf32_gemm.cu on the engine's shapes (m = edges,
// 1e4-1e6; n = 128-768; k = 128-512), or, when asked for, the Hopper wgmma kernel (hopper/; see the launcher header).
#include <atomic>
#include <climits>
#include <cstdint>
#include <stdexcept>

#include "hopper/split_tf32_wgmma_launch.h"
#include "split_tf32_gemm_kernel.cuh"
#include "split_tf32_gemm_launch.h"

namespace uma {
namespace kernels {
namespace {

// 64 x 128 x 32 per block (four 32 x 64 warps), 3 stages: 72 KiB of shared memory. The sweep on an H100
// (benchmarks/results/2026-12-06-h100-gemm-modes.md): all 18 GEMMs of one layer at carbon 2000 in 7.13 ms (66 TFLOP/s
// of fp32-accurate work; 7.3-7.7 ms for 128 x 64 tiles, 8-18 ms for 64 x 64 warp tiles, which spill: the split keeps
// two TF32 fragments per operand in registers). cuBLAS strict fp32: 10.5 ms; plain TF32: 2.8 ms.
using ProductTile = SplitTf32Tile<64, 128, 32, 32, 64, 3>;

// Compute capability 9.0 (H100, H200): the Hopper kernel's sm_90a code runs there and nowhere else. Asked once per
// device (a cudaDeviceGetAttribute per GEMM would be cheap, but not free at 90 launches per evaluation).
bool device_is_sm90() {
  constexpr int kMaxDevices = 64;
  static std::atomic<int> known[kMaxDevices];  // 0 unknown, 1 yes, 2 no (static: zero-initialised)
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess || device < 0 || device >= kMaxDevices) return false;
  if (known[device] == 0) {
    int major = 0, minor = 0;
    const bool ok = cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) == cudaSuccess &&
                    cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device) == cudaSuccess;
    known[device] = ok && major == 9 && minor == 0 ? 1 : 2;
  }
  return known[device] == 1;
}

bool aligned(const void* p) { return reinterpret_cast<uintptr_t>(p) % (kSplitTf32Alignment * sizeof(float)) == 0; }

}  // namespace

bool split_tf32_gemm_supported(const SplitTf32GemmParams& p) {
  const int64_t al = kSplitTf32Alignment;
  const int64_t b_cols = p.b_layout == GemmBLayout::kWeightRows ? p.k : p.n;
  return p.m >= 0 && p.n > 0 && p.k > 0 && p.m < INT_MAX && p.n < INT_MAX && p.k < INT_MAX && p.n % al == 0 &&
         p.k % al == 0 && p.lda % al == 0 && p.ldb % al == 0 && p.ldd % al == 0 && p.lda >= p.k &&
         p.ldb >= b_cols && p.ldd >= p.n && p.lda < INT_MAX && p.ldb < INT_MAX && p.ldd < INT_MAX && aligned(p.a) &&
         aligned(p.b) && aligned(p.d) && (!p.bias || aligned(p.bias));
}

bool split_tf32_wgmma_available() { return device_is_sm90(); }

void split_tf32_gemm(const SplitTf32GemmParams& p, cudaStream_t stream, SplitTf32Kernel kernel) {
  if (!split_tf32_gemm_supported(p))
    throw std::invalid_argument("split_tf32_gemm: operands not supported (" + split_tf32_describe(p) +
                                "; needs 16-byte aligned pointers, and n, k and the leading dimensions multiples of 4)");
  if (kernel == SplitTf32Kernel::kAuto) kernel = SplitTf32Kernel::kMmaSync;
  if (kernel == SplitTf32Kernel::kWgmma && !device_is_sm90())
    throw std::invalid_argument("split_tf32_gemm: the wgmma kernel needs a compute-capability 9.0 GPU");
  if (p.m == 0) return;
  if (kernel == SplitTf32Kernel::kWgmma)
    hopper::split_tf32_gemm_wgmma(p, stream);
  else
    split_tf32_run<ProductTile>(p, stream);
}

}  // namespace kernels
}  // namespace uma
