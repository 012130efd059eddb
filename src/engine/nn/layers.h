// The per-layer maths of UMA-S, one function per fairchem module (named in each comment).
#ifndef UMA_ENGINE_LAYERS_H
#define UMA_ENGINE_LAYERS_H

#include <torch/torch.h>

#include "engine/nn/fp32_gemm.h"
#include "engine/params/weights.h"

namespace uma {

// A MoLE layer resolved for one system: either the merged weight (fast path) or the expert stack
// with its mixing coefficients (applied expert by expert; used to prove merge == mixture).
struct MixedLinear {
  torch::Tensor weight;        // [out, in] merged, or undefined
  torch::Tensor experts;       // [X, out, in] when not merged
  torch::Tensor coefficients;  // [X] when not merged
  torch::Tensor bias;          // [out] or undefined
  // m > 0 convolutions, merged weight [W1; W2] only: [[W1, -W2], [W2, W1]], so that one GEMM of
  // [x_+m | x_-m] gives [out_real | out_imag] (fairchem's umas_fast_pytorch W_block; same maths).
  torch::Tensor block_weight;
  Fp32Gemm gemm = Fp32Gemm::strict;  // how its GEMMs run on a GPU in fp32
  // `rounded`: fp32_gemm.h; the unmerged experts' gradients are scaled by their coefficients, so not kept rounded.
  torch::Tensor apply(const torch::Tensor& x, Tf32Operands rounded = {}) const;
};

struct MixedSO2Conv {
  MixedLinear fc_m0, fc_m1, fc_m2;
};

// Small index/weight tables of the layers, made once per device and precision (not per call: on a
// GPU each would be a host-to-device copy).
struct LayerTables {
  torch::Tensor degree_of_coefficient;  // [9] int64: l of each L-major row (0,1,1,1,2,2,2,2,2)
  torch::Tensor degree_balance;         // [1,9,1] 1/((2l+1)(lmax+1)) per row, working precision
  Fp32Gemm gemm;                        // the engine's fp32 GEMM mode (strict outside fp32 on a GPU)
  bool fused;                           // the engine's fused CUDA kernels are in use (CUDA build, CUDA device)
  // The node-level kernels (rms_norm_sh, node_gate) as well: on wherever `fused` is (measured on an H200 on
  // 2026-12-06: -1.3 ms at carbon 2000 in TF32, -0.6 ms at Cu 200; benchmarks/results/2026-12-06-h200-node-kernels.md).
  // UMA_FUSED_NODE_KERNELS=0 turns them off, for A/B timings and the GPU test run of the Torch-op path.
  bool fused_node = false;
  // The tf32 mode's producer rounding (fp32_gemm.h Tf32Operands): the fused kernels whose outputs feed only TF32 GEMMs
  // store them rounded to TF32 (the message and gated message, the radial MLP's hidden rows, and their gradients),
  // and those GEMMs read them as they are. Possible where `fused`, the tf32 mode and the hopper-rna kernel meet on an
  // H100/H200; the engine turns it on there with UMA_TF32_PREROUND=1 or by default (engine.cpp kPreroundByDefault;
  // =0 keeps it off: A/B timings and the GPU test that holds it to the rounding kernel's results bit for bit).
  bool round_tf32_operands = false;
  LayerTables(torch::Dtype dtype, torch::Device device, Fp32Gemm gemm, bool fused = false);
};

torch::Tensor linear(const torch::Tensor& x, const LinearW& w, Fp32Gemm gemm, Tf32Operands rounded = {});

// nn/radial.py RadialMLP. Its two LayerNorm + SiLU pairs are one fused CUDA kernel each way where t.fused (and the
// tensor is on the GPU), else torch's layer_norm and silu.
torch::Tensor radial_mlp(const torch::Tensor& x, const RadialMLPW& w, const LayerTables& t);
// The same on x_edge = [gauss | source_embedding[Z_src] | target_embedding[Z_dst]] given as its Gaussian part and
// the element pair per edge, pair = Z_src · max_num_elements + Z_dst (RadialMLPW::lin0_pair): what the engine runs.
// output_grad_rounded: the output's one consumer stores its gradient rounded to TF32 (t.round_tf32_operands; the
// fused gather's radial scale), so the last Linear's backward takes it as it is.
torch::Tensor radial_mlp(const torch::Tensor& gauss, const torch::Tensor& pair, const RadialMLPW& w,
                         const LayerTables& t, bool output_grad_rounded = false);
// That MLP without its last Linear (w.lin6): the hidden rows [E, hidden] the Linear reads, for a caller that applies
// it itself (the engine's recomputed radial scale, fused_wigner_ops.h RadialRecipe). radial_mlp = linear(this, lin6).
torch::Tensor radial_mlp_hidden(const torch::Tensor& gauss, const torch::Tensor& pair, const RadialMLPW& w,
                                const LayerTables& t);

// nn/layer_norm.py EquivariantRMSNormArraySphericalHarmonicsV2 (lmax = 2, eps 1e-5) of x [N, 9, C], plus an optional
// constant extra_bias [C] on the l = 0 row after the module's own bias (the engine's system embedding after
// norm_1). One fused CUDA kernel each way where t.fused (and x is on the GPU), else torch's form.
torch::Tensor rms_norm_sh(const torch::Tensor& x, const RMSNormSHW& w, const LayerTables& t,
                          const torch::Tensor& extra_bias = torch::Tensor());

// M-major edge features [E,9,C] kept as the three groups the SO(2) convolutions work on, so that the
// convolutions and the gate between them pass pieces instead of concatenating all nine rows after
// every step (each concatenation, and the gradient assembly of each split, is a copy of the whole
// [E,9,C] tensor): m0 [E,3,C] rows l0, l1, l2 of m = 0; m1 [E,4,C] rows l1, l2 of m = +1 then of
// m = -1; m2 [E,2,C] l2 of m = +2 and m = -2.
struct MGroups {
  torch::Tensor m0, m1, m2;
};
MGroups split_m(const torch::Tensor& x);  // views of a contiguous [E,9,C]
torch::Tensor join_m(const MGroups& x);   // [E,9,C], one copy

// nn/so2_layers.py SO2_Convolution on M-major edge features. `radial` [E, 6*Cin] (conv 1 only, when the
// fused gather has not applied it) multiplies the inputs per m; `gate_channels` > 0 splits that many
// gate logits off the m = 0 output (returned in `gate`), and `m0_with_gate` (optional) receives that whole
// GEMM output [E, gate_channels + 3*Cout] for the fused gate. Output channels: Cout.
// `rounded` (fp32_gemm.h): the three groups' inputs and/or their outputs' gradients were stored rounded to TF32.
MGroups so2_conv(const MGroups& x, const torch::Tensor& radial, const MixedSO2Conv& w, int64_t out_channels,
                 int64_t gate_channels, torch::Tensor* gate, torch::Tensor* m0_with_gate = nullptr,
                 Tf32Operands rounded = {});
// Its m = 0 GEMM output y0 [E, gate_channels + 3*Cout] as it hands it on: `m0_with_gate` (optional) y0 itself, `gate`
// its first gate_channels columns (gate_channels > 0), and the returned m = 0 group [E, 3, Cout] the rest. Also for
// conv 1's fused form on the fp16 message (fused_half_conv1.h).
torch::Tensor split_m0_output(torch::Tensor y0, int64_t out_channels, int64_t gate_channels, torch::Tensor* gate,
                              torch::Tensor* m0_with_gate);

// nn/activation.py GateActivation(m_prime = True) on M-major edge features: the l = 0 row SiLU, every
// other row times sigmoid(gate) of its degree.
MGroups edge_gate(const MGroups& x, const torch::Tensor& gate_logits);

// escn_md_block.py SpectralAtomwise's gate (nn/activation.py GateActivation) on L-major node features h [N,9,H] with
// the pre-SiLU gate logits z [N,2H] (scalar_mlp's Linear output): row 0 SiLU, rows of degree l times
// sigmoid(silu(z_l)). One fused CUDA kernel each way where `fused` (and h is on the GPU), else torch's form.
torch::Tensor node_gate(const torch::Tensor& h, const torch::Tensor& gate_logits, bool fused);

// escn_md_block.py SpectralAtomwise.
torch::Tensor spectral_atomwise(const torch::Tensor& x, const BlockW& w, const LayerTables& t);

}  // namespace uma

#endif
