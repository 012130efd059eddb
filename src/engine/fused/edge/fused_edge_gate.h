// The edge gate between UMA's two SO(2) convolutions (layers.h edge_gate) as one fused CUDA kernel per direction
// (src/kernels/edge_gate/edge_gate_launch.h), wrapped as an autograd function on the current CUDA stream. Same maths as
// edge_gate; it takes conv 1's m = 0 output with the gate logits still in front of it (so2_conv's m0_with_gate), so
// that the gradient of that GEMM output is written as one tensor. Only built with UMA_ENABLE_CUDA; double backward
// is not supported.
#ifndef UMA_ENGINE_FUSED_EDGE_GATE_H
#define UMA_ENGINE_FUSED_EDGE_GATE_H

#include <torch/torch.h>

#include <array>
#include <vector>

namespace uma {
namespace fused {

// m0_with_gate [E, 5H] (rows may have a longer stride): the l = 1 and l = 2 gate logits, then the three m = 0 rows;
// m1 [E,4,H], m2 [E,2,H] → the gated groups [E,3,H], [E,4,H], [E,2,H]. round_tf32 (float32 only): the gated groups and
// the inputs' gradients are stored rounded to TF32 (kernels/tf32_operand.cuh), for convolutions on either side that
// read them as TF32 GEMM operands as they are (fp32_gemm.h Tf32Operands).
std::array<torch::Tensor, 3> edge_gate(const torch::Tensor& m0_with_gate, const torch::Tensor& m1,
                                       const torch::Tensor& m2, bool round_tf32 = false);

// The adjoint alone (fused_gate_conv2.cpp's backward uses it too): m0g, m1, m2 the forward inputs as edge_gate's
// forward keeps them (m0g with unit column stride), grad_outputs the gradients of the three gated groups (undefined:
// zeros) -> the gradients of m0g (dense [E, 5H]), m1 and m2 (rounded to TF32 where round_tf32).
std::array<torch::Tensor, 3> edge_gate_backward(const torch::Tensor& m0g, const torch::Tensor& m1, const torch::Tensor& m2,
                                                const std::vector<torch::Tensor>& grad_outputs,
                                                bool round_tf32 = false);

}  // namespace fused
}  // namespace uma

#endif  // UMA_ENGINE_FUSED_EDGE_GATE_H
