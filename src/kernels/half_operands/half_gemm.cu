// The half GEMM's checks and dispatch (half_gemm_launch.h); no CUTLASS here (the instantiations are sm_90a objects).
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "half_gemm_launch.h"
#include "kernels/gemm/hopper/tf32_tma_gemm_launch.h"
#include "kernels/gemm/split_tf32_gemm_launch.h"

namespace uma {
namespace kernels {

namespace {

bool aligned16(const void* q) { return reinterpret_cast<std::uintptr_t>(q) % 16 == 0; }

// The first rule the operands break, or nullptr.
const char* refusal(const HalfGemmParams& p) {
  constexpr int64_t kMax = (int64_t(1) << 31) - 1;
  if (p.m < 0 || p.n <= 0 || p.k <= 0 || p.m > kMax || p.n > kMax || p.k > kMax) return "sizes out of range";
  if (p.m == 0) return nullptr;  // nothing to launch (an empty tensor may have no data pointer)
  if (!p.a || !p.b || !p.d) return "null A, B or D";
  if (!aligned16(p.a) || !aligned16(p.b) || !aligned16(p.d) || (p.bias && !aligned16(p.bias)))
    return "pointers must be 16-byte aligned";
  if (p.k % kHalfGemmAlignmentAB || p.lda % kHalfGemmAlignmentAB || p.ldb % kHalfGemmAlignmentAB)
    return "k, lda and ldb must be multiples of 8";
  if (p.n % kHalfGemmAlignmentD || p.ldd % kHalfGemmAlignmentD) return "n and ldd must be multiples of 4";
  if (p.lda < p.k || p.ldb < p.k || p.ldd < p.n) return "a leading dimension shorter than its rows";
  if (!std::isfinite(p.alpha)) return "alpha must be finite";
  if (!split_tf32_wgmma_available()) return "needs a compute-capability 9.0 GPU (sm_90a code)";
  return nullptr;
}

}  // namespace

bool half_gemm_supported(const HalfGemmParams& p) { return refusal(p) == nullptr; }

void half_gemm(const HalfGemmParams& p, cudaStream_t stream) {
  if (const char* why = refusal(p))
    throw std::invalid_argument("half_gemm: operands not supported (m=" + std::to_string(p.m) +
                                " n=" + std::to_string(p.n) + " k=" + std::to_string(p.k) + "): " + why);
  if (p.m == 0) return;
  const int sms = hopper::current_device_sms("half_gemm");
  if (p.bias)
    half_gemm_bias(p, sms, stream);
  else
    half_gemm_plain(p, sms, stream);
}

}  // namespace kernels
}  // namespace uma
