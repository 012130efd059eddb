// GEMM weights rounded to TF32 once, for the TF32 kernel that rounds only its A operand in registers (the tf32
// mode's default on H100/H200, UMA_TF32_GEMM=hopper-rna; kernels/gemm/hopper/tf32_tma_gemm_launch.h tf32_gemm_tma_rna): its B operand (the
// weights) goes from memory to the tensor cores as stored, and the tensor cores read an fp32 value truncated to
// TF32. Rounded beforehand (nearest, ties away from zero, as cvt.rna), the stored value is exact in TF32 and the
// products are those cuBLAS's TF32 kernels form. Rounding a constant once costs nothing per evaluation; rounding it
// per call would add a launch and a copy per GEMM.
#ifndef UMA_ENGINE_TF32_WEIGHTS_H
#define UMA_ENGINE_TF32_WEIGHTS_H

#include <torch/torch.h>

#include "engine/nn/fp32_gemm.h"
#include "engine/params/weights.h"

namespace uma {

// fp32 w with each value rounded to TF32 (bit for bit kernels/gemm/tf32_round.h, the GPU's cvt.rna), on w's device;
// infinities and NaNs unchanged. Anything but fp32 is an error (uma::Error).
torch::Tensor round_to_tf32(const torch::Tensor& w);

// Whether GEMMs in `mode` need their weights rounded beforehand: the tf32 mode with hopper-rna asked for (the
// default). On a GPU without the Hopper kernels cuBLAS then reads the rounded weights, which it would round anyway.
bool tf32_weights_prerounded(Fp32Gemm mode);

// Rounds every weight matrix that the engine's tf32-mode GEMMs read (radial MLPs, the SO(2) convolutions' experts,
// the blocks' scalar MLPs, the energy head) in place. The MoLE merge rounds what it makes (mole.cpp). Left as they
// are: biases, norms, embeddings and tables (not GEMM operands), the strict-mode GEMMs (system embedding, routing
// MLP) and the node-level einsums (SO3 linears: cuBLAS, which rounds its inputs itself).
void round_gemm_weights_to_tf32(Weights& w);

}  // namespace uma

#endif  // UMA_ENGINE_TF32_WEIGHTS_H
