// Host launchers for the Wigner rotation kernels (lmax = 2). Pointers, sizes and a stream in; nothing Torch.
// Each launcher checks its arguments, enqueues its kernel(s) on `stream` (asynchronously: no device
// synchronisation), checks cudaGetLastError, and throws std::invalid_argument for bad arguments and
// std::runtime_error (kernel label, CUDA message, sizes) for a failed launch.
// Explicitly instantiated for float and double (wigner_launch_f32.cu, wigner_launch_f64.cu).
#ifndef UMA_KERNELS_WIGNER_LAUNCH_H
#define UMA_KERNELS_WIGNER_LAUNCH_H

#include <cuda_runtime_api.h>

#include "wigner_params.h"

namespace uma {
namespace kernels {

// out = P · D · [x[src] | x[dst]]; writes every element of p.out (dense, or its m-groups p.out_groups).
template <typename T>
void gather_rotate_fwd(const GatherRotateFwdParams<T>& p, cudaStream_t stream);

// Adjoint of gather_rotate_fwd: overwrites p.grad_x (if non-null) and p.grad_wigner (if non-null).
// kAtomic zeroes grad_x then scatters with atomics in one fused pass (grad_wigner from the same pass);
// kDeterministic needs p.src_csr and p.dst_csr and runs one pass per edge (grad_wigner) and one per atom (grad_x).
template <typename T>
void gather_rotate_bwd(const GatherRotateBwdParams<T>& p, ScatterMode mode, cudaStream_t stream);

// out[n] = Σ_{e: dst[e]=n} Winv_e · Pᵀ · msg[e]; overwrites every element of p.out. msg dense or as m-groups, of
// which any may be absent (zero rows, not read) as long as one is present.
// kAtomic zeroes out then scatters with atomics; kDeterministic needs p.dst_csr.
template <typename T>
void rotate_back_scatter_fwd(const RotateBackScatterFwdParams<T>& p, ScatterMode mode, cudaStream_t stream);

// Adjoint of rotate_back_scatter_fwd: overwrites p.grad_msg (dense, or else p.grad_msg_groups if set) and
// p.grad_wigner_inv (each if wanted: non-null). Absent msg groups count as zero rows; absent grad_msg groups are not
// written.
// A gather per edge: deterministic by construction.
template <typename T>
void rotate_back_scatter_bwd(const RotateBackScatterBwdParams<T>& p, cudaStream_t stream);

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_WIGNER_LAUNCH_H
