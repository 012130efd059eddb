// Fused CUDA versions of uma::gather_rotate / uma::rotate_back_scatter (edge_rotation_ops.h), as autograd
// functions: forward and first-order backward call the kernels in src/kernels/wigner/ (wigner_launch.h) on the current
// CUDA stream. Same contract and layouts as the plain-Torch ops; only built with UMA_ENABLE_CUDA.
// Double backward is not supported (autograd raises if asked).
#ifndef UMA_ENGINE_FUSED_WIGNER_OPS_H
#define UMA_ENGINE_FUSED_WIGNER_OPS_H

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <functional>

namespace uma {
namespace fused {

// Edges grouped by endpoint, for the deterministic (atomic-free) scatters. All int64 on the edges' device.
// Build once per neighbour list with make_edge_csr; an undefined perm means "edges already grouped".
struct EdgeCsrTensors {
  torch::Tensor src_ptr;   // [N+1] row pointer of edges grouped by src
  torch::Tensor src_perm;  // [E] edge ids sorted (stably) by src
  torch::Tensor dst_ptr;   // [N+1] row pointer of edges grouped by dst
  torch::Tensor dst_perm;  // [E] edge ids sorted (stably) by dst; undefined if dst is already non-decreasing
};

// Builds both CSRs with Torch ops (stable sort, bincount, cumsum) on src's device.
EdgeCsrTensors make_edge_csr(const torch::Tensor& src, const torch::Tensor& dst, int64_t n_atoms);

// x [N,9,C] L-major, src/dst [E] int64, wigner [E,9,9] L-ordered block-diagonal → the M-major [E,9,2C] message as
// its three m-groups (layers.h MGroups: [E,3,2C], [E,4,2C], [E,2,2C], separate dense tensors, read by the SO(2)
// GEMMs as they are; their gradients are read in place by the backward kernel, no [E,9,2C] concatenation).
// Gradients flow to x and wigner. With csr, grad_x is summed deterministically; otherwise with atomics.
// radial (optional) [E, 6*2C]: the conv-1 radial scale of so2_conv (layers.h), applied to the output rows in the
// kernel (row groups kRadialGroupOfM, src/kernels/wigner/wigner_params.h) instead of by a separate multiply; its gradient
// comes from the same backward pass.
// round_tf32 (float32 only): the message and the radial scale's gradient are stored rounded to TF32
// (kernels/tf32_operand.cuh), for TF32 GEMMs that read them as they are (conv 1; the radial MLP's last Linear in its
// backward; engine/nn/fp32_gemm.h Tf32Operands). Likewise for rotate_back_scatter's message gradient (conv 2's).
std::array<torch::Tensor, 3> gather_rotate(const torch::Tensor& x, const torch::Tensor& src, const torch::Tensor& dst,
                                           const torch::Tensor& wigner, const EdgeCsrTensors* csr = nullptr,
                                           const torch::Tensor& radial = torch::Tensor(), bool round_tf32 = false);

// The radial scale as a recipe instead of a tensor: make(input) -> [E, 6*2C] (the radial MLP's last Linear on its
// input [E, K]). gather_rotate then keeps `input` for the backward instead of the scale (K instead of 6*2C = 1536
// values per edge: ~1.15 MiB per atom over four layers at 49 edges per atom) and makes the scale again there, with
// autograd on, to get both the scale and the input's gradient. make must be deterministic (the backward must see
// the forward's scale) and differentiable in its argument; what it captures (weights) it keeps alive.
// fuse_linear: make is the Linear (weight [6*2C, K], bias [6*2C] or undefined) in the TF32 mode, and the forward
// may make the scale inside the gather kernel instead (kernels/radial_gather/: mma.sync TF32 on the rounded operands,
// the scale never stored; fp32, C = 128, K a multiple of 8 up to 128, else make + gather as without it). The
// backward still makes the scale with `make`: the same TF32 products, summed in another order (fp32 rounding).
struct RadialRecipe {
  torch::Tensor input;
  std::function<torch::Tensor(const torch::Tensor&)> make;
  torch::Tensor weight, bias;
  bool fuse_linear = false;
};
std::array<torch::Tensor, 3> gather_rotate(const torch::Tensor& x, const torch::Tensor& src, const torch::Tensor& dst,
                                           const torch::Tensor& wigner, const EdgeCsrTensors* csr,
                                           const RadialRecipe& radial, bool round_tf32 = false);
// gather_rotate for conv 1's f16 GEMMs (fused_half_conv1.h): the message as TF32 values held in fp16
// (kernels/half_operands/half_operand.cuh; exact in fp16's range, half the bytes). Six tensors: [0..2] fp32 stand-ins
// with the three m-groups' shapes and no storage (every stride 0), whose gradients are the message's and come back
// into this op's backward as gather_rotate's do; [3..5] the fp16 m-groups [E,3,2C], [E,4,2C], [E,2,2C], without
// gradient. fp32 only, always with the producer rounding (round_tf32); a recipe's scale is made by `make` (never
// inside the gather kernel, which writes fp32). A value outside fp16's range becomes infinite, and the evaluation's
// non-finite check reports it.
std::array<torch::Tensor, 6> gather_rotate_half(const torch::Tensor& x, const torch::Tensor& src,
                                                const torch::Tensor& dst, const torch::Tensor& wigner,
                                                const EdgeCsrTensors* csr, const torch::Tensor& radial);
std::array<torch::Tensor, 6> gather_rotate_half(const torch::Tensor& x, const torch::Tensor& src,
                                                const torch::Tensor& dst, const torch::Tensor& wigner,
                                                const EdgeCsrTensors* csr, const RadialRecipe& radial);
// Launches of the fused radial scale + gather (RadialRecipe::fuse_linear) since the process started (tests: it ran).
int64_t radial_gather_launches();
// Whether that kernel takes a model's sphere channels C and radial hidden width K (C = 128, K a multiple of 8 up to
// 128): the engine asks at construction, the op again for each call's tensors.
bool radial_gather_takes(int64_t channels, int64_t hidden_dim);

// The M-major message [E,9,C] as its three m-groups (layers.h MGroups: m0 [E,3,C], m1 [E,4,C], m2 [E,2,C], each
// edge's rows contiguous, any edge stride: the SO(2) GEMM outputs as they are), wigner_inv [E,9,9] L-ordered,
// dst [E] int64 → [n_atoms,9,C] L-major. The kernels read the groups in place (no [E,9,C] concatenation, as
// fairchem's fused scatter reads its GEMM outputs); the message gradient comes back as three dense groups.
// Gradients flow to the groups and wigner_inv. With csr the node sum is deterministic, and on H100 also the faster
// path when edges come grouped by target (benchmarks/results/2026-11-26-h100-kernels.md).
// Any group may be an undefined tensor, meaning zero rows (at least one must be given): it is neither read nor
// materialised, and its gradient is undefined. The edge-degree embedding passes only m = 0 this way.
torch::Tensor rotate_back_scatter(const torch::Tensor& msg_m0, const torch::Tensor& msg_m1,
                                  const torch::Tensor& msg_m2, const torch::Tensor& wigner_inv, const torch::Tensor& dst,
                                  int64_t n_atoms, const EdgeCsrTensors* csr = nullptr, bool round_tf32 = false);

// The m-groups as a recipe instead of tensors: make(input) -> {m0, m1, m2} (the gate and conv 2 on conv 1's outputs).
// rotate_back_scatter then makes them in its forward with autograd off and keeps `input` for the backward instead of
// them (the gate keeps conv 1's outputs anyway: 9 x C values per edge and layer less, ~0.86 MiB per atom over four
// layers at 49 edges per atom), makes them again there with autograd on, and takes the inputs' gradients from
// them. Same contract as RadialRecipe: make deterministic and differentiable, all three outputs defined.
struct MessageRecipe {
  std::array<torch::Tensor, 3> input;
  std::function<std::array<torch::Tensor, 3>(const std::array<torch::Tensor, 3>&)> make;
};
torch::Tensor rotate_back_scatter(const MessageRecipe& msg, const torch::Tensor& wigner_inv, const torch::Tensor& dst,
                                  int64_t n_atoms, const EdgeCsrTensors* csr = nullptr, bool round_tf32 = false);

}  // namespace fused
}  // namespace uma

#endif  // UMA_ENGINE_FUSED_WIGNER_OPS_H
