// fp16 on the host, as bits: the conversions the GPU's cvt.rn.f16.f32 and its inverse do (round to nearest, ties to
// even; overflow to infinity; fp16 subnormals kept), and the TF32 operand held in 16 bits. Host code: the CPU
// references of the half-operand kernels, the engine's fp16 weight copies, their tests. No CUDA types.
// Why it is exact: a TF32 value has fp16's 10 explicit mantissa bits, so tf32_half_bits loses nothing for
// 2^-14 <= |v| <= 65504 (fp16's normal range); below it fp16 keeps fewer bits (subnormals), above it the value is
// infinite (half_overflows says so).
#ifndef UMA_KERNELS_HALF_OPERANDS_HALF_BITS_H
#define UMA_KERNELS_HALF_OPERANDS_HALF_BITS_H

#include <cstdint>
#include <cstring>

#include "kernels/gemm/tf32_round.h"

namespace uma {
namespace kernels {

constexpr float kHalfMax = 65504.0f;                // the largest finite fp16
constexpr float kHalfMinNormal = 6.103515625e-05f;  // 2^-14, the smallest normal fp16

// fp32 -> fp16 bits, round to nearest, ties to even; |x| >= 65520 (halfway past kHalfMax) -> infinity; NaN -> a quiet
// NaN of the same sign.
inline uint16_t half_bits_of(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  const uint32_t a = u & 0x7fffffffu;
  if (a >= 0x7f800000u) return static_cast<uint16_t>(sign | (a > 0x7f800000u ? 0x7e00u : 0x7c00u));
  if (a >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // 65520 and up round to infinity
  uint32_t q, rem, halfway;
  if (a >= 0x38800000u) {  // normal: re-bias the exponent (127 -> 15), keep 10 of the 23 mantissa bits
    const uint32_t r = a - 0x38000000u;
    q = r >> 13;
    rem = r & 0x1fffu;
    halfway = 0x1000u;
  } else {  // below 2^-14: a multiple of fp16's subnormal step 2^-24
    if (a < 0x33000000u) return sign;  // below 2^-25, and 2^-25 itself ties to the even 0
    const uint32_t exponent = a >> 23, mantissa = (a & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126u - exponent;  // 14 .. 24
    q = mantissa >> shift;
    rem = mantissa & ((1u << shift) - 1u);
    halfway = 1u << (shift - 1u);
  }
  if (rem > halfway || (rem == halfway && (q & 1u))) ++q;  // may carry into the exponent: still the right bits
  return static_cast<uint16_t>(sign | q);
}

// fp16 bits -> the fp32 of the same value (exact).
inline float float_of_half_bits(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16, exponent = (h >> 10) & 0x1fu, mantissa = h & 0x3ffu;
  uint32_t u;
  if (exponent == 0x1fu) {
    u = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent != 0) {
    u = sign | ((exponent + 112u) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    u = sign;
  } else {  // subnormal: mantissa x 2^-24, normalised for fp32
    uint32_t m = mantissa, e = 113u;
    while (!(m & 0x400u)) {
      m <<= 1;
      --e;
    }
    u = sign | (e << 23) | ((m & 0x3ffu) << 13);
  }
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

// The TF32 operand held in 16 bits: x rounded to TF32 (cvt.rna, tf32_round.h), then to fp16 (exact in fp16's normal
// range). What the producers' half stores write (half_operand.cuh) and the fp16 weight copies hold.
inline uint16_t tf32_half_bits(float x) { return half_bits_of(tf32_round(x)); }

// Whether a finite x becomes infinite in fp16 (|TF32(x)| >= 65520).
inline bool half_overflows(float x) {
  const uint16_t h = tf32_half_bits(x);
  return (h & 0x7fffu) == 0x7c00u && x == x && x - x == 0.0f;
}

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_HALF_OPERANDS_HALF_BITS_H
