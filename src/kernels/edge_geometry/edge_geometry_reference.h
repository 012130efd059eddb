// Plain C++ CPU reference of the fused edge geometry (edge_geometry_params.h; every pointer host memory): the
// per-edge maths of edge_geometry_math.h in a loop over edges, the truth the GPU test compares against (the maths
// itself is held to the Torch form and to finite differences by unittest/engine/ops/test_edge_geometry.cpp).
// Throws std::invalid_argument for bad sizes or missing outputs.
#ifndef UMA_KERNELS_EDGE_GEOMETRY_REFERENCE_H
#define UMA_KERNELS_EDGE_GEOMETRY_REFERENCE_H

#include "edge_geometry_params.h"

namespace uma {
namespace kernels {

template <typename T>
void edge_geometry_fwd_reference(const EdgeGeometryFwdParams<T>& p);

template <typename T>
void edge_geometry_bwd_reference(const EdgeGeometryBwdParams<T>& p);

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_EDGE_GEOMETRY_REFERENCE_H
