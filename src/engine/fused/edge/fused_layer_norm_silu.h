// LayerNorm + SiLU over the last dimension (the normalisation of fairchem nn/radial.py RadialMLP, layers.h
// radial_mlp) as one fused CUDA kernel per direction (src/kernels/layer_norm_silu/layer_norm_silu_launch.h), wrapped
// as an autograd function on the current CUDA stream. Same maths as torch::silu(torch::layer_norm(x, {W}, weight,
// bias, eps)); the backward recomputes the row statistics from the saved input and gives the input gradient only.
// Only built with UMA_ENABLE_CUDA; double backward is not supported (as the other fused ops).
#ifndef UMA_ENGINE_FUSED_LAYER_NORM_SILU_H
#define UMA_ENGINE_FUSED_LAYER_NORM_SILU_H

#include <torch/torch.h>

namespace uma {
namespace fused {

// x [..., W] float32/float64 CUDA (any strides; rows with unit column stride are read in place), weight and bias
// [W] of x's dtype and device → silu(layer_norm(x)) [..., W], contiguous. Weights that require grad (training, which
// the kernels do not do) take the Torch composition instead, so every gradient stays correct.
// With row_bias [T, W] (x's dtype and device) and row_bias_index [rows] int64 on the device (rows = x's leading
// size), row r normalises x_r + row_bias[row_bias_index[r]]: silu(layer_norm(x + row_bias.index_select(0, index))) in
// one pass. The row bias gets no gradient (a table of constants; one that requires grad takes the Torch form).
// round_tf32 (float32 only): the output and the input gradient are stored rounded to TF32 (kernels/tf32_operand.cuh),
// for a caller whose Linear layers on either side read them as TF32 GEMM operands as they are (fp32_gemm.h
// Tf32Operands).
torch::Tensor layer_norm_silu(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                              double eps, const torch::Tensor& row_bias = torch::Tensor(),
                              const torch::Tensor& row_bias_index = torch::Tensor(), bool round_tf32 = false);

}  // namespace fused
}  // namespace uma

#endif  // UMA_ENGINE_FUSED_LAYER_NORM_SILU_H
