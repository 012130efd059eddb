// fp32 -> TF32 (8-bit exponent, 10 explicit mantissa bits) rounded to nearest with ties away from zero, bit for bit
// what the GPU's cvt.rna.tf32.f32 gives; the result is an fp32 whose low 13 mantissa bits are zero. Host code: the
// CPU references of kernels that round their tensor-core operands (edge_block/), and their tests. Infinities and
// NaNs pass through; a finite value whose rounding overflows becomes an infinity of its sign.
// Why round at all: the tensor cores read only the top 19 bits of an fp32 operand, i.e. truncate it towards zero,
// and truncation errs the same way in every product (benchmarks/results/2026-12-06-h100-tf32-tma-gemm.md).
#ifndef UMA_KERNELS_GEMM_TF32_ROUND_H
#define UMA_KERNELS_GEMM_TF32_ROUND_H

#include <cstdint>
#include <cstring>

namespace uma {
namespace kernels {

inline float tf32_round(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  if ((u & 0x7f800000u) != 0x7f800000u) {  // finite: add half of the dropped 13 bits' weight to the magnitude, cut
    u += 0x1000u;
    u &= 0xffffe000u;
  }
  std::memcpy(&x, &u, sizeof x);
  return x;
}

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_GEMM_TF32_ROUND_H
