// The node gate of every layer's SpectralAtomwise (fairchem escn_md_block.py: GateActivation on so3_linear_1's output
// with the gate logits silu(scalar_mlp(x_l0)); layers.h node_gate) as one fused CUDA kernel per direction
// (src/kernels/node_gate/node_gate_launch.h), wrapped as an autograd function on the current CUDA stream. Same maths as
// layers.h node_gate's Torch form, the logits' SiLU included; gives the gradients of both inputs. Only built with
// UMA_ENABLE_CUDA; double backward is not supported (as the other fused ops).
#ifndef UMA_ENGINE_FUSED_NODE_GATE_H
#define UMA_ENGINE_FUSED_NODE_GATE_H

#include <torch/torch.h>

namespace uma {
namespace fused {

// h [N, 9, H] float32/float64 CUDA (L-major rows; any strides with dense channels are read in place, such as a
// [9, N, H] GEMM output seen as [N, 9, H]), z [N, 2H] the pre-SiLU gate logits (row stride free) of h's dtype and
// device → [N, 9, H] in h's layout where h is dense, else contiguous.
torch::Tensor node_gate(const torch::Tensor& h, const torch::Tensor& z);

}  // namespace fused
}  // namespace uma

#endif  // UMA_ENGINE_FUSED_NODE_GATE_H
