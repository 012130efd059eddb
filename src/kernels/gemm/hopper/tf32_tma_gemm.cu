// The Hopper TF32 GEMM's checks and dispatch (tf32_tma_gemm_launch.h).
#include <atomic>
#include <stdexcept>
#include <string>

#include "kernels/gemm/split_tf32_gemm_launch.h"
#include "tf32_tma_gemm_launch.h"

namespace uma {
namespace kernels {
namespace hopper {
namespace {

// The persistent grid is one CTA per SM: the SM count, asked once per device.
int sm_count_of_current_device() {
  constexpr int kMaxDevices = 64;
  static std::atomic<int> known[kMaxDevices];  // 0: not asked yet
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess || device < 0 || device >= kMaxDevices) return 0;
  if (known[device] == 0) {
    int sms = 0;
    if (cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device) != cudaSuccess || sms <= 0) return 0;
    known[device] = sms;
  }
  return known[device];
}

}  // namespace

bool tf32_gemm_tma_supported(const SplitTf32GemmParams& p) {
  return p.b_layout == GemmBLayout::kWeightRows && split_tf32_gemm_supported(p) && split_tf32_wgmma_available();
}

void tf32_gemm_tma(const SplitTf32GemmParams& p, cudaStream_t stream) {
  if (!tf32_gemm_tma_supported(p))
    throw std::invalid_argument("tf32_gemm_tma: operands not supported (m=" + std::to_string(p.m) +
                                " n=" + std::to_string(p.n) + " k=" + std::to_string(p.k) +
                                " lda=" + std::to_string(p.lda) + " ldb=" + std::to_string(p.ldb) +
                                " ldd=" + std::to_string(p.ldd) +
                                "; needs B as weight rows, 16-byte aligned pointers, n, k and the leading dimensions "
                                "multiples of 4, and a compute-capability 9.0 GPU)");
  if (p.m == 0) return;
  const int sms = sm_count_of_current_device();
  if (sms <= 0) throw std::runtime_error("tf32_gemm_tma: cannot read the device's multiprocessor count");
  if (p.bias)
    tf32_gemm_tma_bias(p, sms, stream);
  else
    tf32_gemm_tma_plain(p, sms, stream);
}

}  // namespace hopper
}  // namespace kernels
}  // namespace uma
