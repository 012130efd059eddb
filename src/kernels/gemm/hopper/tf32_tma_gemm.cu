// The Hopper TF32 GEMM's checks and dispatch (tf32_tma_gemm_launch.h).
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels/gemm/split_tf32_gemm_launch.h"
#include "tf32_tma_gemm_launch.h"

namespace uma {
namespace kernels {
namespace hopper {

int current_device_sms(const char* who) {
  int device = 0, sms = 0;
  if (cudaGetDevice(&device) != cudaSuccess ||
      cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device) != cudaSuccess || sms <= 0)
    throw std::runtime_error(std::string(who) + ": cannot read the device's multiprocessor count");
  return sms;
}

bool tf32_gemm_tma_supported(const SplitTf32GemmParams& p) {
  return p.b_layout == GemmBLayout::kWeightRows && split_tf32_gemm_supported(p) && split_tf32_wgmma_available();
}

namespace {

using Instantiation = void (*)(const SplitTf32GemmParams&, int, cudaStream_t);

// The 64-row tiles of the truncating form (NarrowTf32TmaGemm) where UMA_TF32_NARROW_TILES=1 (read once) and the
// 128 x 128 grid has fewer tiles than the SMs have consumer warpgroups (two each, ping-pong): those would idle.
bool narrow_tiles_pay(const SplitTf32GemmParams& p, int sms) {
  static const bool on = [] {
    const char* v = std::getenv("UMA_TF32_NARROW_TILES");
    return v && std::strcmp(v, "1") == 0;
  }();
  return on && ((p.m + 127) / 128) * ((p.n + 127) / 128) < 2 * int64_t(sms);
}

// Checks, then the persistent grid's size and the instantiation for the bias or none (narrow: the 64-row tiles'
// pair, or null where there is none).
void dispatch(const char* name, const SplitTf32GemmParams& p, cudaStream_t stream, Instantiation with_bias,
              Instantiation plain, Instantiation narrow_bias = nullptr, Instantiation narrow_plain = nullptr) {
  if (!tf32_gemm_tma_supported(p))
    throw std::invalid_argument(std::string(name) + ": operands not supported (m=" + std::to_string(p.m) +
                                " n=" + std::to_string(p.n) + " k=" + std::to_string(p.k) +
                                " lda=" + std::to_string(p.lda) + " ldb=" + std::to_string(p.ldb) +
                                " ldd=" + std::to_string(p.ldd) +
                                "; needs B as weight rows, 16-byte aligned pointers, n, k and the leading dimensions "
                                "multiples of 4, and a compute-capability 9.0 GPU)");
  if (p.m == 0) return;
  const int sms = current_device_sms(name);
  if (narrow_bias && narrow_tiles_pay(p, sms)) {
    with_bias = narrow_bias;
    plain = narrow_plain;
  }
  if (p.bias)
    with_bias(p, sms, stream);
  else
    plain(p, sms, stream);
}

}  // namespace

void tf32_gemm_tma(const SplitTf32GemmParams& p, cudaStream_t stream) {
  dispatch("tf32_gemm_tma", p, stream, tf32_gemm_tma_bias, tf32_gemm_tma_plain, tf32_gemm_tma_narrow_bias,
           tf32_gemm_tma_narrow_plain);
}

void tf32_gemm_tma_rna(const SplitTf32GemmParams& p, cudaStream_t stream) {
  dispatch("tf32_gemm_tma_rna", p, stream, tf32_gemm_tma_rna_bias, tf32_gemm_tma_rna_plain);
}

}  // namespace hopper
}  // namespace kernels
}  // namespace uma
