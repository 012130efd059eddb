// The TF32 operand held in 16 bits, on the device: a memory-bound producer whose output feeds only a GEMM that reads
// TF32 operands stores it as fp16 instead of fp32. The value is rounded to TF32 first (cvt.rna, as
// kernels/tf32_operand.cuh stores it today), and fp16 then holds that TF32 value exactly wherever it lies in fp16's
// normal range (2^-14 .. 65504; half_bits.h is the host's twin and says why): half the bytes written and read, the
// same products in the f16 GEMM (half_gemm_launch.h). Below the range fp16 keeps fewer bits (its subnormals: an error
// of at most 2^-25, far below TF32's own 2^-11 of the operands that matter in the GEMM's sums); above it the value
// is infinite: the store raises the launch's overflow flag where the caller passes one (the kernel tests do); the
// engine passes none and lets the evaluation's non-finite check stop the run (its error names UMA_HALF_OPERANDS).
// benchmarks/storage_precision_study.py measured the scheme on fairchem's model: the errors of TF32 itself.
#ifndef UMA_KERNELS_HALF_OPERANDS_HALF_OPERAND_CUH
#define UMA_KERNELS_HALF_OPERANDS_HALF_OPERAND_CUH

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/tf32_operand.cuh"

namespace uma {
namespace kernels {

// x as the fp16 bits of its TF32 value; *overflow (when not null) set to 1 if a finite x became infinite.
__device__ __forceinline__ uint16_t tf32_half(float x, unsigned* overflow) {
  const float t = tf32_operand(x);
  const __half h = __float2half_rn(t);
  if (overflow != nullptr && __hisinf(h) && isfinite(t)) atomicExch(overflow, 1u);
  return __half_as_ushort(h);
}

// kVec fp32 values (kVec = 1 or 4) stored as fp16 at p, streaming (the reader is another kernel): one 8-byte store
// for four values (p 8-byte aligned), a 2-byte one for one.
template <int kVec>
__device__ __forceinline__ void store_tf32_half(uint16_t* p, const float (&v)[kVec], unsigned* overflow) {
  static_assert(kVec == 1 || kVec == 4, "one value or four");
  if constexpr (kVec == 4) {
    const uint32_t lo = uint32_t(tf32_half(v[0], overflow)) | (uint32_t(tf32_half(v[1], overflow)) << 16);
    const uint32_t hi = uint32_t(tf32_half(v[2], overflow)) | (uint32_t(tf32_half(v[3], overflow)) << 16);
    __stcs(reinterpret_cast<uint2*>(p), make_uint2(lo, hi));
  } else {
    *p = tf32_half(v[0], overflow);
  }
}

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_HALF_OPERANDS_HALF_OPERAND_CUH
