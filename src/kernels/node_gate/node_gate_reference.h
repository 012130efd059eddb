// Plain C++ CPU reference of the fused node gate (node_gate_params.h; every pointer host memory), written from the
// formulas there with every product and sum in double and the results rounded to T once: the truth the GPU test
// compares against. Throws std::invalid_argument for bad sizes.
#ifndef UMA_KERNELS_NODE_GATE_REFERENCE_H
#define UMA_KERNELS_NODE_GATE_REFERENCE_H

#include "node_gate_params.h"

namespace uma {
namespace kernels {

template <typename T>
void node_gate_fwd_reference(const NodeGateFwdParams<T>& p);

template <typename T>
void node_gate_bwd_reference(const NodeGateBwdParams<T>& p);

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_NODE_GATE_REFERENCE_H
