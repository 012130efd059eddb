// Plain C++ CPU reference of the fused gate + conv-2 (gate_conv2_params.h), host pointers: the truth the GPU kernel
// is tested against. Serial loops straight from the formulas: the gate of all edges from edge_gate_fwd_reference (in
// T), then the three products summed in double (with tf32_operands, each operand rounded to TF32 first), the result
// stored in T. Throws std::invalid_argument for bad sizes or null pointers.
#ifndef UMA_KERNELS_EDGE_BLOCK_GATE_CONV2_REFERENCE_H
#define UMA_KERNELS_EDGE_BLOCK_GATE_CONV2_REFERENCE_H

#include "gate_conv2_params.h"

namespace uma {
namespace kernels {

template <typename T>
void gate_conv2_reference(const GateConv2Params<T>& p);

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_EDGE_BLOCK_GATE_CONV2_REFERENCE_H
