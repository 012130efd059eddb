// Plain C++ CPU reference of the fused gather + conv-1 (gather_conv1_params.h), host pointers: the truth the GPU
// kernel is to be tested against. Serial loops straight from the formulas: the message of one edge from
// gather_rotate_fwd_reference, then the three products summed in double (with tf32_operands, each operand rounded to
// TF32 first), the result stored in T. Throws std::invalid_argument for bad sizes, null pointers or out-of-range atom
// indices (gather_rotate_fwd_reference's checks, and n_g > 0, weights and outputs present).
#ifndef UMA_KERNELS_EDGE_BLOCK_GATHER_CONV1_REFERENCE_H
#define UMA_KERNELS_EDGE_BLOCK_GATHER_CONV1_REFERENCE_H

#include "gather_conv1_params.h"

namespace uma {
namespace kernels {

template <typename T>
void gather_conv1_reference(const GatherConv1Params<T>& p);

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_EDGE_BLOCK_GATHER_CONV1_REFERENCE_H
