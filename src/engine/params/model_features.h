// uma::ModelFeatures — what distinguishes the UMA-S generations this engine runs, in one place.
// fairchem tells the generations apart by model_config["model_id"] (models/uma/compat.py,
// scripts/uma_1p2p1_surgery.py); the converter writes the id and every feature into the .uma
// metadata, and this table is where the engine learns what each id means: the defaults for files
// that do not name a feature, and the check that a file's features belong to its id.
#ifndef UMA_ENGINE_MODEL_FEATURES_H
#define UMA_ENGINE_MODEL_FEATURES_H

#include <string>
#include <vector>

namespace uma {

enum class EnergyHead {
  single,       // DatasetSpecificSingleHeadWrapper(MLP_EFS_Head): one MLP for every task (1.1)
  dataset_moe,  // DatasetSpecificMoEWrapper(MLP_EFS_Head): one expert per dataset, picked by the task (1.2.x)
};

struct ModelFeatures {
  std::string model_id;  // "UMA-1.1", "UMA-S-1.2", "UMA-S-1.2.1"
  // Per-layer charge balancing (escn_md.py balance_channels_batched): after every block the l = 0
  // coefficients of channels [begin, end) are shifted so that their sum over the system's atoms is
  // the total charge. begin == end: none.
  int charge_channel_begin = 0, charge_channel_end = 0;
  // MoLE routing: the composition mean counts a zero "self" value (escn_moe.py index_reduce_
  // include_self): mean = sum / (N + 1). Only UMA-S-1.2 does this (a bug fairchem keeps for it).
  bool composition_include_self = false;
  EnergyHead energy_head = EnergyHead::single;
  // fairchem runs the model on an isolated atom (else it looks the energy up in a table this file
  // does not carry).
  bool supports_single_atoms = false;

  bool balances_charge() const { return charge_channel_end > charge_channel_begin; }
};

// The features of a known model id; throws uma::Error naming the supported ids otherwise.
ModelFeatures features_of_model_id(const std::string& model_id);

// Model ids this engine runs, for messages.
std::vector<std::string> supported_model_ids();

}  // namespace uma

#endif
