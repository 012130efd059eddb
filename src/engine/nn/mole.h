// Mixture of linear experts (fairchem nn/mole.py, escn_moe.py::set_MOLE_coefficients): expert
// coefficients for one system and the merge of the 24 expert stacks into plain weights.
#ifndef UMA_ENGINE_MOLE_H
#define UMA_ENGINE_MOLE_H

#include <torch/torch.h>

#include <vector>

#include "engine/nn/layers.h"
#include "engine/params/weights.h"

namespace uma {

// csd = SiLU(mix_csd([charge_emb[q+100]; spin_emb[s]; dataset_emb[t]])) -> [C] (nn/embedding.py).
torch::Tensor system_embedding(const Weights& w, int charge, int spin, const std::string& dataset);

// alpha = softmax(SiLU(routing_mlp([s sum_Z f_Z comp_emb[Z]; csd]))) + 0.005 -> [X]; f = element
// fractions of the whole system (mean composition embedding). composition_scale s = 1 (fairchem's
// include_self = False), or N / (N + 1) for UMA-S-1.2, whose mean also counts a zero "self" value.
torch::Tensor expert_coefficients(const Weights& w, const torch::Tensor& fractions, const torch::Tensor& csd,
                                  double composition_scale = 1.0);

struct MixedBlock {
  MixedSO2Conv so2_conv_1, so2_conv_2;
};

// merged = true: W = sum_x alpha_x W_x once; false: keep the stacks and mix at apply time.
// gemm: how the mixed layers' GEMMs run (MixedLinear::gemm).
std::vector<MixedBlock> mix_experts(const Weights& w, const torch::Tensor& alpha, bool merged, Fp32Gemm gemm);

}  // namespace uma

#endif
