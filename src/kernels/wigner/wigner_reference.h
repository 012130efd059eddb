// Plain C++ CPU reference of the four Wigner rotation operations (lmax = 2), on the same parameter structs as
// the CUDA launchers (wigner_params.h; here every pointer is host memory). Serial loops written straight from
// the formulas in wigner_params.h, summing edges in increasing edge id; used by the CPU tests and as the truth
// the GPU test compares against. The ScatterMode and EdgeCsr fields are ignored (the serial sum is deterministic).
// Throws std::invalid_argument for bad sizes, null pointers or out-of-range atom indices.
#ifndef UMA_KERNELS_WIGNER_REFERENCE_H
#define UMA_KERNELS_WIGNER_REFERENCE_H

#include <cstdint>
#include <vector>

#include "wigner_params.h"

namespace uma {
namespace kernels {

template <typename T>
void gather_rotate_fwd_reference(const GatherRotateFwdParams<T>& p);

template <typename T>
void gather_rotate_bwd_reference(const GatherRotateBwdParams<T>& p);

template <typename T>
void rotate_back_scatter_fwd_reference(const RotateBackScatterFwdParams<T>& p);

template <typename T>
void rotate_back_scatter_bwd_reference(const RotateBackScatterBwdParams<T>& p);

// Host-side CSR of edges grouped by one endpoint (stable: edges of a node keep increasing edge id), as the
// deterministic scatters expect. Point an EdgeCsr at row_ptr.data() / perm.data() (after copying to the device).
struct EdgeCsrHost {
  std::vector<int64_t> row_ptr;  // [n_atoms + 1]
  std::vector<int64_t> perm;     // [n_edges]
};
EdgeCsrHost make_edge_csr(const int64_t* endpoint, int64_t n_edges, int64_t n_atoms);

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_WIGNER_REFERENCE_H
