#include "engine/params/model_config.h"

#include <cmath>
#include <limits>
#include <type_traits>

#include "model/errors.h"
#include "model/model_file.h"

namespace uma {
namespace {

// nlohmann's type errors name neither the file nor the key: every read goes through these two.
// An integer field must hold a JSON integer in range: nlohmann would truncate 3.5 to 3 and wrap 1e10.
bool is_int(const nlohmann::json& v) {
  return v.is_number_integer() && v.get<int64_t>() >= std::numeric_limits<int>::min() &&
         v.get<int64_t>() <= std::numeric_limits<int>::max();
}

template <typename T>
T as(const nlohmann::json& v, const char* key, const std::string& where) {
  bool ok = true;
  if constexpr (std::is_same_v<T, int>) ok = is_int(v);
  if constexpr (std::is_same_v<T, std::vector<int>>)
    if (v.is_array())
      for (const auto& x : v) ok = ok && is_int(x);
  if (!ok)
    throw Error(where + ": '" + key + "' must be an integer" + (std::is_same_v<T, int> ? "" : " list") +
                ", found " + v.dump().substr(0, 60) + "; the metadata is corrupt or hand-edited, re-convert "
                "the checkpoint with tools/uma-convert");
  try {
    return v.get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error(where + ": '" + key + "' has the wrong type (" + v.dump().substr(0, 60) +
                "); the metadata is corrupt or hand-edited, re-convert the checkpoint with tools/uma-convert");
  }
}

template <typename T>
T required(const nlohmann::json& obj, const char* key, const std::string& where) {
  if (!obj.is_object()) throw Error(where + " is not a JSON object; re-convert the checkpoint with tools/uma-convert");
  if (!obj.contains(key))
    throw Error(where + " lacks '" + key + "'; re-convert the checkpoint with tools/uma-convert");
  return as<T>(obj.at(key), key, where);
}

template <typename T>
T optional(const nlohmann::json& obj, const char* key, const T& fallback, const std::string& where) {
  return obj.contains(key) ? as<T>(obj.at(key), key, where) : fallback;
}

// [min, max] ranges of the metadata (charge_range, spin_range).
void read_range(const nlohmann::json& meta, const char* key, const std::string& where, int& lo, int& hi) {
  if (!meta.contains(key)) return;
  const auto r = as<std::vector<int>>(meta[key], key, where);
  if (r.size() != 2 || r[0] > r[1])
    throw Error(where + ": '" + key + "' must be [min, max]; re-convert the checkpoint with tools/uma-convert");
  lo = r[0];
  hi = r[1];
}

// The model id (absent in files of converter 1.0: UMA-1.1) fixes the features (model_features.h); a
// file that also states a feature must agree with its id, so a mislabelled or hand-edited file is
// refused instead of being evaluated with the wrong physics.
void read_features(const nlohmann::json& meta, const nlohmann::json& bb, const std::string& where, ModelConfig& c) {
  const std::string id = meta.contains("model_id") ? required<std::string>(meta, "model_id", where) : "UMA-1.1";
  try {
    c.features = features_of_model_id(id);
  } catch (const Error& e) {
    throw Error(where + ": " + e.what());
  }
  const ModelFeatures& f = c.features;
  auto disagree = [&](const std::string& what, const std::string& found, const std::string& expected) {
    return Error(where + ": " + what + " is " + found + " but model id " + id + " means " + expected +
                 "; the file is inconsistent, re-convert the checkpoint with tools/uma-convert");
  };
  if (bb.contains("charge_balanced_channels")) {
    const auto ch = required<std::vector<int>>(bb, "charge_balanced_channels", where + " backbone");
    std::vector<int> want;
    for (int k = f.charge_channel_begin; k < f.charge_channel_end; ++k) want.push_back(k);
    if (ch != want) throw disagree("charge_balanced_channels", nlohmann::json(ch).dump(), nlohmann::json(want).dump());
  }
  if (bb.contains("spin_balanced_channels") &&
      !required<std::vector<int>>(bb, "spin_balanced_channels", where + " backbone").empty())
    throw Error(where + ": backbone 'spin_balanced_channels' must be empty: spin-balanced channels are not supported "
                "(no released UMA model uses them)");
  if (bb.contains("composition_include_self") &&
      required<bool>(bb, "composition_include_self", where + " backbone") != f.composition_include_self)
    throw disagree("composition_include_self", f.composition_include_self ? "false" : "true",
                   f.composition_include_self ? "true" : "false");
  // Informational (this engine always evaluates an isolated atom with the model; fairchem looks it up in a
  // table for files without it): taken as the file states it.
  if (meta.contains("supports_single_atoms"))
    c.features.supports_single_atoms = required<bool>(meta, "supports_single_atoms", where);
  if (meta.contains("energy_head") && !meta["energy_head"].is_object())
    throw Error(where + ": 'energy_head' must be an object; re-convert the checkpoint with tools/uma-convert");
  const std::string head_name = f.energy_head == EnergyHead::dataset_moe ? "dataset_moe" : "single";
  const std::string head = meta.contains("energy_head")
                               ? required<std::string>(meta["energy_head"], "type", where + " energy_head")
                               : head_name;
  if (head != head_name) throw disagree("energy_head.type", "'" + head + "'", "'" + head_name + "'");
  if (f.energy_head == EnergyHead::dataset_moe) {
    if (!meta.contains("energy_head")) throw Error(where + " lacks 'energy_head'; re-convert the checkpoint with tools/uma-convert");
    c.head_experts = required<int>(meta["energy_head"], "num_experts", where + " energy_head");
    if (c.head_experts < 1) throw Error(where + ": energy_head.num_experts must be positive");
  }
}

}  // namespace

ModelConfig ModelConfig::from_file(const ModelFile& file) {
  const std::string where = "model file '" + file.path() + "' metadata";
  try {
    return parse(file, where);
  } catch (const nlohmann::json::exception& e) {
    // A safety net: every read above names its key; this names at least the file.
    throw Error(where + " is malformed (" + e.what() + "); re-convert the checkpoint with tools/uma-convert");
  }
}

ModelConfig ModelConfig::parse(const ModelFile& file, const std::string& where) {
  const auto& meta = file.metadata();
  ModelConfig c;
  c.model_name = required<std::string>(meta, "model_name", where);
  if (!meta.contains("backbone") || !meta["backbone"].is_object())
    throw Error(where + " lacks the 'backbone' object; re-convert the checkpoint with tools/uma-convert");
  const auto& bb = meta["backbone"];
  const std::string bwhere = where + " backbone";
  c.max_num_elements = required<int>(bb, "max_num_elements", bwhere);
  c.sphere_channels = required<int>(bb, "sphere_channels", bwhere);
  c.hidden_channels = required<int>(bb, "hidden_channels", bwhere);
  c.edge_channels = required<int>(bb, "edge_channels", bwhere);
  c.lmax = required<int>(bb, "lmax", bwhere);
  c.mmax = required<int>(bb, "mmax", bwhere);
  c.num_layers = required<int>(bb, "num_layers", bwhere);
  c.cutoff = required<double>(bb, "cutoff", bwhere);
  c.num_distance_basis = required<int>(bb, "num_distance_basis", bwhere);
  c.max_neighbors = required<int>(bb, "max_neighbors", bwhere);
  c.num_experts = required<int>(bb, "num_experts", bwhere);
  c.use_composition_embedding = optional<bool>(bb, "use_composition_embedding", true, bwhere);
  // This engine implements the UMA-S family exactly: lmax = mmax = 2 (9 coefficients, the m-split
  // 3/2/1 and the gate index maps are written for it), rms_norm_sh, gate, spectral FFN.
  if (c.lmax != 2 || c.mmax != 2)
    throw Error(where + ": lmax " + std::to_string(c.lmax) + ", mmax " + std::to_string(c.mmax) +
                " are not supported; this engine implements UMA-S (lmax = mmax = 2)");
  auto at_least = [&](const char* key, double value, double min) {
    if (!(value >= min))
      throw Error(bwhere + ": '" + key + "' is " + std::to_string(value) + ", it must be at least " +
                  std::to_string(min) + "; the metadata is corrupt, re-convert the checkpoint with tools/uma-convert");
  };
  at_least("num_layers", c.num_layers, 1);
  at_least("sphere_channels", c.sphere_channels, 1);
  at_least("hidden_channels", c.hidden_channels, 1);
  at_least("edge_channels", c.edge_channels, 1);
  at_least("max_num_elements", c.max_num_elements, 2);
  at_least("num_distance_basis", c.num_distance_basis, 2);
  at_least("num_experts", c.num_experts, 0);
  if (!(c.cutoff > 0.0 && c.cutoff < 100.0))
    throw Error(bwhere + ": 'cutoff' is " + std::to_string(c.cutoff) + " Å, expected a positive value below 100 Å; "
                "the metadata is corrupt, re-convert the checkpoint with tools/uma-convert");
  for (const char* key : {"norm_type", "act_type", "ff_type"}) {
    const std::string want = std::string(key) == "norm_type" ? "rms_norm_sh"
                             : std::string(key) == "act_type" ? "gate" : "spectral";
    const std::string found = optional<std::string>(bb, key, want, bwhere);
    if (found != want)
      throw Error(where + ": " + key + " '" + found + "' is not supported (only '" + want + "', as in UMA-S)");
  }
  read_features(meta, bb, where, c);
  c.datasets = required<std::vector<std::string>>(meta, "datasets", where);
  c.elements = required<std::vector<int>>(meta, "elements", where);
  for (int z : c.elements)
    if (z < 1 || z >= c.max_num_elements) throw Error(where + ": element " + std::to_string(z) + " out of range");
  read_range(meta, "charge_range", where, c.charge_min, c.charge_max);
  read_range(meta, "spin_range", where, c.spin_min, c.spin_max);
  if (!meta.contains("tasks") || !meta["tasks"].is_object() || meta["tasks"].empty())
    throw Error(where + " lacks a 'tasks' table");
  for (auto it = meta["tasks"].begin(); it != meta["tasks"].end(); ++it) {
    const std::string twhere = where + " tasks." + it.key();
    if (!it.value().is_object()) throw Error(twhere + " is not a JSON object; re-convert the checkpoint with tools/uma-convert");
    TaskConfig t;
    t.dataset = required<std::string>(it.value(), "dataset", twhere);
    t.energy_rmsd = required<double>(it.value(), "energy_rmsd", twhere);
    if (!(t.energy_rmsd > 0.0) || !std::isfinite(t.energy_rmsd))
      throw Error(twhere + ": 'energy_rmsd' must be a positive number, found " + std::to_string(t.energy_rmsd) +
                  "; re-convert the checkpoint with tools/uma-convert");
    const double mean = optional<double>(it.value(), "energy_mean", 0.0, twhere);
    const double forces_rmsd = optional<double>(it.value(), "forces_rmsd", t.energy_rmsd, twhere);
    // Forces are -dE/dx of the de-normalised energy; that only equals fairchem's forces when both
    // targets share one scale and the energy has no per-system offset.
    if (mean != 0.0 || forces_rmsd != t.energy_rmsd)
      throw Error(twhere + ": energy_mean " + std::to_string(mean) + " / energy_rmsd " + std::to_string(t.energy_rmsd) +
                  " vs forces_rmsd " + std::to_string(forces_rmsd) +
                  " make forces differ from -dE/dx; such models are not supported");
    t.default_charge = optional<int>(it.value(), "default_charge", 0, twhere);
    t.default_spin = optional<int>(it.value(), "default_spin", it.key() == "omol" ? 1 : 0, twhere);
    // A task without element references must say so (a converter writes the tensor, zeros if the
    // checkpoint has none); a file that merely lacks the tensor is incomplete, not reference-free.
    t.has_element_references = optional<bool>(it.value(), "has_element_references", true, twhere);
    if (c.features.energy_head == EnergyHead::dataset_moe) {
      t.head_expert = required<int>(it.value(), "head_expert", twhere);
      if (t.head_expert < 0 || t.head_expert >= c.head_experts)
        throw Error(twhere + ": head expert " + std::to_string(t.head_expert) + " is not one of the " +
                    std::to_string(c.head_experts) + " energy-head experts");
    }
    bool known = false;
    for (const auto& d : c.datasets) known = known || d == t.dataset;
    if (!known) throw Error(twhere + ": dataset '" + t.dataset + "' has no embedding in this model");
    c.tasks[it.key()] = t;
  }
  if (meta.contains("provenance") && meta["provenance"].is_object()) {
    const auto& p = meta["provenance"];
    // Provenance is informational: render whatever is there (strings as is, other values as JSON).
    auto field = [&](const char* key) {
      if (!p.contains(key) || p[key].is_null()) return std::string("?");
      return p[key].is_string() ? p[key].get<std::string>() : p[key].dump();
    };
    c.provenance = "source " + field("source") + " (sha256 " + field("source_sha256").substr(0, 16) +
                   "...), fairchem-core " + field("fairchem_core_version") + ", converted " + field("created");
    if (p.contains("seed") && !p["seed"].is_null()) c.provenance += ", seed " + field("seed");
  }
  c.provenance += (c.provenance.empty() ? "" : ", ") + file.integrity();
  return c;
}

}  // namespace uma
