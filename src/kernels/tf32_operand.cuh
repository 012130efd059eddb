// The TF32 mode's operand rounding at the producer (engine/nn/fp32_gemm.h Tf32Operands): a memory-bound kernel whose
// output feeds only a TF32 GEMM stores it already rounded to TF32 (cvt.rna: nearest, ties away from zero, exactly what
// the rounding GEMM's copy into registers would do; kernels/gemm/tf32_round.h is the host's twin). That GEMM can then
// read it from shared memory as it is (the TMA kernel without the copy through registers, ~12 % faster on one layer's
// GEMMs: benchmarks/results/2026-12-07-h100-tma-rna.md), since truncating a TF32 value changes nothing. The store
// costs one instruction per value in kernels bound by memory. Only fp32 rounds; fp64 values pass through (the flag is
// never set for them).
#ifndef UMA_KERNELS_TF32_OPERAND_CUH
#define UMA_KERNELS_TF32_OPERAND_CUH

#include <cuda_runtime.h>

#include <cstdint>

namespace uma {
namespace kernels {

template <typename T>
__device__ __forceinline__ T tf32_operand(T x) {
  if constexpr (sizeof(T) == 4) {
    uint32_t u;
    asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(u) : "f"(x));
    return __uint_as_float(u);
  } else {
    return x;
  }
}

// x rounded where `round` (a kernel parameter, uniform over the launch), else x.
template <typename T>
__device__ __forceinline__ T tf32_operand_if(bool round, T x) {
  return round ? tf32_operand(x) : x;
}

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_TF32_OPERAND_CUH
