// The two edge<->node operations that dominate UMA's message passing, in plain torch (fairchem's
// "general" backend, nn/execution_backends.py). The CUDA path swaps in fused kernels with the same
// contract (src/kernels/, docs in wigner_params.h).
#ifndef UMA_ENGINE_EDGE_ROTATION_OPS_H
#define UMA_ENGINE_EDGE_ROTATION_OPS_H

#include <torch/torch.h>

namespace uma {

// x [N,9,C] L-major, D [E,9,9] L-ordered Wigner -> [E,9,2C] M-major:
// out[e,k,:C] = (D_e x[src_e])[L(k)], out[e,k,C:] = (D_e x[dst_e])[L(k)].
torch::Tensor gather_rotate(const torch::Tensor& x, const torch::Tensor& src, const torch::Tensor& dst,
                            const torch::Tensor& wigner);

// msg [E,9,C] M-major, Winv [E,9,9] L-ordered (D^T times the envelope) -> [N,9,C]:
// out[dst_e] += Winv_e P^T msg_e.
torch::Tensor rotate_back_scatter(const torch::Tensor& msg, const torch::Tensor& wigner_inv,
                                  const torch::Tensor& dst, int64_t n_atoms);

// The same with the L->M permutation already applied to the matrices (the engine permutes once per
// evaluation, not once per layer): wigner_m = P D [E,9,9], wigner_inv_m = Winv P^T [E,9,9].
torch::Tensor gather_rotate_m(const torch::Tensor& x, const torch::Tensor& src, const torch::Tensor& dst,
                              const torch::Tensor& wigner_m);
torch::Tensor rotate_back_scatter_m(const torch::Tensor& msg, const torch::Tensor& wigner_inv_m,
                                    const torch::Tensor& dst, int64_t n_atoms);

// Row permutation P (M-major <- L-major) as an index tensor on `device`.
torch::Tensor l_index_of_m(torch::Device device);

}  // namespace uma

#endif
