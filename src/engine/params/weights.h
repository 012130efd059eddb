// uma::Weights — every parameter of a UMA-S model as torch tensors in the working precision on the
// engine device, named after fairchem's modules (escn_md.py, escn_md_block.py, nn/*.py).
#ifndef UMA_ENGINE_WEIGHTS_H
#define UMA_ENGINE_WEIGHTS_H

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace uma {

class ModelFile;
struct ModelConfig;

struct LinearW {
  torch::Tensor weight;  // [out, in]
  torch::Tensor bias;    // [out] or undefined
};

struct LayerNormW {
  torch::Tensor weight, bias;  // [C]
};

// fairchem nn/radial.py RadialMLP: Linear, LayerNorm, SiLU, Linear, LayerNorm, SiLU, Linear.
struct RadialMLPW {
  LinearW lin0, lin3, lin6;
  LayerNormW norm1, norm4;
  // lin0 split by its input: every radial MLP of UMA reads x_edge = [gauss | source_embedding[Z_src] |
  // target_embedding[Z_dst]], whose embedding part depends only on the element pair. So lin0(x_edge) =
  // gauss · lin0_gaussᵀ + lin0_pair[Z_src · max_num_elements + Z_dst] (bias included), and x_edge [E,288] is never
  // made: the per-edge GEMM shrinks from K = 288 to the 32 Gaussians and its backward writes only their gradient.
  // Made by Weights::load (factor_radial_inputs); the pair table is computed in float64, then rounded.
  torch::Tensor lin0_gauss;  // [hidden, num_distance_basis], the first columns of lin0.weight
  torch::Tensor lin0_pair;   // [max_num_elements², hidden]
};

// A MoLE layer (nn/mole.py): experts [X, out, in] and one shared bias; a plain Linear is X = 1
// with mixing coefficient 1.
struct MoleLinearW {
  torch::Tensor experts;  // [X, out, in]
  torch::Tensor bias;     // [out] or undefined
  bool is_mole = false;
};

// nn/so2_layers.py SO2_Convolution: fc_m0 (m = 0) and so2_m_conv.{0,1}.fc (m = 1, 2).
struct SO2ConvW {
  MoleLinearW fc_m0, fc_m1, fc_m2;
  bool has_radial = false;
  RadialMLPW rad_func;
};

// nn/layer_norm.py EquivariantRMSNormArraySphericalHarmonicsV2.
struct RMSNormSHW {
  torch::Tensor weight;  // [lmax+1, C]
  torch::Tensor bias;    // [C]
};

// nn/so3_layers.py SO3_Linear.
struct SO3LinearW {
  torch::Tensor weight;  // [lmax+1, out, in]
  torch::Tensor bias;    // [out]
  // The same as the layer applies them to L-major rows, made once by Weights::load (so3_linear_per_coefficient):
  // weight[l] for each row of degree l, and the bias on the l = 0 row with zeros below it, so that a call is one
  // batched GEMM and one add (adding 0 leaves the other rows exactly as they were).
  torch::Tensor weight_per_coefficient;  // [(lmax+1)², out, in]
  torch::Tensor bias_per_coefficient;    // [1, (lmax+1)², out]
};

// Fills w.weight_per_coefficient and w.bias_per_coefficient from w.weight and w.bias.
void so3_linear_per_coefficient(SO3LinearW& w);

struct BlockW {
  RMSNormSHW norm_1, norm_2;
  SO2ConvW so2_conv_1, so2_conv_2;
  LinearW scalar_mlp;
  SO3LinearW so3_linear_1, so3_linear_2;
};

// Fills r.lin0_gauss and r.lin0_pair from r.lin0 and the edge embeddings [max_num_elements, edge_channels].
void factor_radial_inputs(RadialMLPW& r, const torch::Tensor& source_embedding, const torch::Tensor& target_embedding);

struct Weights {
  torch::Tensor sphere_embedding, source_embedding, target_embedding;  // [Z, C]
  torch::Tensor charge_embedding;                                      // [201, C], row = charge + 100
  torch::Tensor spin_embedding;                                        // [101, C], row = spin
  std::map<std::string, torch::Tensor> dataset_embedding;              // [1, C] each
  LinearW mix_csd;
  torch::Tensor composition_embedding;  // [Z, C] (MoLE only)
  std::vector<LinearW> routing_mlp;     // 3 layers (MoLE only)
  RadialMLPW edge_degree_rad;
  std::vector<BlockW> blocks;
  RMSNormSHW norm;
  // The energy MLP's 3 Linears: experts [K, out, in] and one shared bias each. K = 1 for the single
  // head (1.1), one expert per dataset for 1.2.x (DatasetSpecificMoEWrapper; the task picks one).
  std::vector<MoleLinearW> energy_block;
  std::map<std::string, torch::Tensor> element_refs;  // per dataset, float64 [max_num_elements]
  int64_t num_parameters = 0;

  // Reads and shape-checks every tensor (throws uma::Error naming the tensor, expected and found).
  static Weights load(const ModelFile& file, const ModelConfig& config, torch::Dtype dtype,
                      torch::Device device);
};

}  // namespace uma

#endif
