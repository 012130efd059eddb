// K2's forward (docs/fused-edge-block.md): the edge gate between UMA's two SO(2) convolutions and convolution 2's
// three m-group GEMMs as one fused operation on Hopper (src/kernels/edge_block/gate_conv2_launch.h: the gate is made
// inside TF32 GEMMs that round their A operand in registers), so that the gated [E, 9, H] message is never written.
// Two hosts (GateConv2Host): the hand-written RS GEMM (UMA_TF32_GEMM=rs), which computes the gate per element, and
// CUTLASS's TMA pipeline (the hopper-rna mode), which multiplies by gate factors made once per edge. Backward: each
// group's input gradient on the same host's GEMM family (dy W), then the edge gate's adjoint (fused_edge_gate.h). The
// tf32 mode's fused path on an H100/H200; only built with UMA_ENABLE_CUDA; double backward is not supported.
#ifndef UMA_ENGINE_FUSED_GATE_CONV2_H
#define UMA_ENGINE_FUSED_GATE_CONV2_H

#include <torch/torch.h>

#include <array>

namespace uma {
namespace fused {

// Which GEMM hosts K2: tf32_rs_wgmma (weights rounded in registers) or the TMA pipeline (weights rounded already,
// engine/nn/tf32_weights.h).
enum class GateConv2Host { rounding_rs, tma };

// Whether gate_conv2 can run: fp32 CUDA tensors on a compute-capability 9.0 device, H a multiple of 32.
bool gate_conv2_available(const torch::Tensor& m0_with_gate);

// m0_with_gate [E, 5H] (conv 1's m = 0 output with the gate logits in front; rows may have a longer stride), m1
// [E,4,H], m2 [E,2,H]; w0 [n_0, 3H] with bias b0 [n_0] (or undefined), w1 [n_1, 4H] and w2 [n_2, 2H] the m = 1 and
// m = 2 block weights (layers.h MixedLinear::block_weight) -> conv 2's outputs [E, n_0], [E, n_1], [E, n_2].
// round_tf32 (TMA host only; LayerTables::round_tf32_operands): the outputs' gradients come rounded to TF32 (the
// scatter's adjoint stores them so), and the gate's adjoint stores conv 1's output gradients rounded, as the unfused
// gate does with the same flag.
std::array<torch::Tensor, 3> gate_conv2(const torch::Tensor& m0_with_gate, const torch::Tensor& m1,
                                        const torch::Tensor& m2, const torch::Tensor& w0, const torch::Tensor& b0,
                                        const torch::Tensor& w1, const torch::Tensor& w2,
                                        GateConv2Host host = GateConv2Host::rounding_rs, bool round_tf32 = false);

}  // namespace fused
}  // namespace uma

#endif  // UMA_ENGINE_FUSED_GATE_CONV2_H
