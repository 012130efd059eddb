// uma::ModelConfig — the hyper-parameters and task table of a .uma file's metadata, validated.
#ifndef UMA_ENGINE_MODEL_CONFIG_H
#define UMA_ENGINE_MODEL_CONFIG_H

#include <map>
#include <string>
#include <vector>

#include "engine/params/model_features.h"

namespace uma {

class ModelFile;

struct TaskConfig {
  std::string dataset;  // dataset-embedding name
  double energy_rmsd = 1.0;
  int default_charge = 0;
  int default_spin = 0;
  int head_expert = 0;  // EnergyHead::dataset_moe: the head expert of this task's dataset
  // false only where the metadata says so (tasks.<t>.has_element_references); then the references
  // are zero. Otherwise the file must hold tasks.<dataset>.element_references.
  bool has_element_references = true;
};

struct ModelConfig {
  std::string model_name;
  std::string provenance;
  ModelFeatures features;  // model id and what it implies (model_features.h)
  int head_experts = 0;    // EnergyHead::dataset_moe: experts of the energy head
  int max_num_elements = 100;
  int sphere_channels = 128;
  int hidden_channels = 128;
  int edge_channels = 128;
  int lmax = 2;
  int mmax = 2;
  int num_layers = 4;
  double cutoff = 6.0;
  int num_distance_basis = 64;
  int max_neighbors = 300;
  int num_experts = 0;  // 0 = plain linear layers
  bool use_composition_embedding = true;
  std::vector<std::string> datasets;
  std::map<std::string, TaskConfig> tasks;
  std::vector<int> elements;
  int charge_min = -100, charge_max = 100, spin_min = 0, spin_max = 100;

  // Parses and checks everything this engine relies on (throws uma::Error).
  static ModelConfig from_file(const ModelFile& file);

 private:
  static ModelConfig parse(const ModelFile& file, const std::string& where);
};

}  // namespace uma

#endif
