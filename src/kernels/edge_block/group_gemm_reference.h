// The product step the fused edge-block references share (gather_conv1_reference.cpp, gate_conv2_reference.cpp): one
// edge's row of an m-group GEMM, y[n] = sum_k op(a[k]) op(w[n][k]) (+ bias[n]) for n < N, summed in double and
// stored in T, where op rounds to TF32 (tf32_round.h, the GPU's cvt.rna) for the TF32 mode's operands and is the
// identity otherwise. Host code.
#ifndef UMA_KERNELS_EDGE_BLOCK_GROUP_GEMM_REFERENCE_H
#define UMA_KERNELS_EDGE_BLOCK_GROUP_GEMM_REFERENCE_H

#include <cstdint>

#include "kernels/gemm/tf32_round.h"

namespace uma {
namespace kernels {

// a [K]; w [N][K] row-major; bias [N] or nullptr; y [N].
template <typename T>
void group_gemm_row_reference(const T* a, const T* w, int64_t K, int64_t N, const T* bias, bool tf32_operands,
                              T* y) {
  auto operand = [&](T v) -> double { return tf32_operands ? double(tf32_round(float(v))) : double(v); };
  for (int64_t n = 0; n < N; ++n) {
    double sum = bias ? double(bias[n]) : 0.0;
    const T* row = w + n * K;
    for (int64_t k = 0; k < K; ++k) sum += operand(a[k]) * operand(row[k]);
    y[n] = static_cast<T>(sum);
  }
}

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_EDGE_BLOCK_GROUP_GEMM_REFERENCE_H
