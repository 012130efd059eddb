// Convolution 1's three m-group GEMMs on the message held in fp16 (docs/fused-edge-block.md, "Eleventh session"):
// gather_rotate_half (fused_wigner_ops.h) writes the message as TF32 values in fp16, and the f16 GEMMs
// (kernels/half_operands/half_gemm_launch.h) read it with fp16 copies of the weights (engine/nn/half_weights.h): the
// tf32 mode's products from half the bytes. Backward: each group's input gradient dy W on the TF32 kernels as the
// unfused convolution forms it (tensor_core_linear.h tf32_rna_input_gradient), handed back through the gather's fp32
// stand-ins to the gather's own backward. The fp16 message never meets autograd: a gradient of an fp16 tensor would
// be rounded to fp16, which the accuracy study rules out for GEMM outputs (2026-12-08-cpu-half-operands.md).
// The tf32 mode's fused path with the producer rounding on an H100/H200 and merged weights; only built with
// UMA_ENABLE_CUDA; double backward is not supported.
#ifndef UMA_ENGINE_FUSED_HALF_CONV1_H
#define UMA_ENGINE_FUSED_HALF_CONV1_H

#include <torch/torch.h>

#include <array>
#include <vector>

#include "engine/nn/half_weights.h"
#include "engine/nn/mole.h"

namespace uma {
namespace fused {

// One block's conv-1 weights as the op needs them: the merged fp32 ones (the tf32 mode's, already rounded to TF32:
// the backward's operands) and their fp16 copies.
struct HalfConv1Weights {
  torch::Tensor w0, b0, w1, w2;  // fc_m0 weight [n0, 3 * 2C] and bias (or undefined); the m = 1, 2 block weights
  HalfWeight h0, h1, h2;         // half_weight of w0, w1, w2
};

// The copies for every block's conv 1 (MixedBlock::so2_conv_1: fc_m0's weight and bias, fc_m1's and fc_m2's block
// weights), for a model of `message_channels` = 2C; none (empty) where a block's weights are not merged or the op
// does not take them (the f16 GEMM's alignment: K a multiple of 8 for every group, outputs multiples of 4; a
// compute-capability 9.0 device).
std::vector<HalfConv1Weights> half_conv1_weights(const std::vector<MixedBlock>& blocks, int64_t message_channels);

// gathered: gather_rotate_half's six tensors. Returns conv 1's GEMM outputs [E, n0] (gate logits first, then m = 0),
// [E, n1], [E, n2] in fp32, as so2_conv's GEMMs give them. grads_rounded (LayerTables::round_tf32_operands): the
// outputs' gradients come rounded to TF32 (the gate's adjoint stores them so).
std::array<torch::Tensor, 3> half_conv1(const std::array<torch::Tensor, 6>& gathered, const HalfConv1Weights& w,
                                        bool grads_rounded);

// Launches of the f16 GEMM through half_conv1 since the process started (tests: it ran).
int64_t half_conv1_launches();

}  // namespace fused
}  // namespace uma

#endif  // UMA_ENGINE_FUSED_HALF_CONV1_H
