#include "engine/params/model_features.h"

#include "model/errors.h"

namespace uma {
namespace {

// shared/docs/uma-1p2.md §1 (fairchem-core 2.24.0): 1.2 and 1.2.1 share the architecture (32 Gaussians,
// charge balance of channels 0-2, per-dataset expert head, single atoms run by the model); they differ
// only in the composition mean.
std::vector<ModelFeatures> known_models() {
  ModelFeatures v11;
  v11.model_id = "UMA-1.1";
  ModelFeatures v12;
  v12.model_id = "UMA-S-1.2";
  v12.charge_channel_begin = 0;
  v12.charge_channel_end = 3;
  v12.composition_include_self = true;
  v12.energy_head = EnergyHead::dataset_moe;
  v12.supports_single_atoms = true;
  ModelFeatures v121 = v12;
  v121.model_id = "UMA-S-1.2.1";
  v121.composition_include_self = false;
  return {v11, v12, v121};
}

}  // namespace

std::vector<std::string> supported_model_ids() {
  std::vector<std::string> ids;
  for (const auto& m : known_models()) ids.push_back(m.model_id);
  return ids;
}

ModelFeatures features_of_model_id(const std::string& model_id) {
  std::string list;
  for (const auto& m : known_models()) {
    if (m.model_id == model_id) return m;
    list += (list.empty() ? "" : ", ") + m.model_id;
  }
  throw Error("model id '" + model_id + "' is not supported (this engine runs " + list +
              "); UMA-M and other models are not supported yet");
}

}  // namespace uma
