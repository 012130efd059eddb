// Plain C++ CPU reference of the fused edge gate (edge_gate_params.h; every pointer host memory), written from the
// formulas there; the truth the GPU test compares against. Throws std::invalid_argument for bad sizes.
#ifndef UMA_KERNELS_EDGE_GATE_REFERENCE_H
#define UMA_KERNELS_EDGE_GATE_REFERENCE_H

#include "edge_gate_params.h"

namespace uma {
namespace kernels {

template <typename T>
void edge_gate_fwd_reference(const EdgeGateFwdParams<T>& p);

template <typename T>
void edge_gate_bwd_reference(const EdgeGateBwdParams<T>& p);

template <typename T>
void edge_gate_factors_reference(const EdgeGateFactorsParams<T>& p);

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_EDGE_GATE_REFERENCE_H
