// Shared helpers of the engine tests: paths, the fairchem fixtures, error measures.
#ifndef UMA_TEST_SUPPORT_H
#define UMA_TEST_SUPPORT_H

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/structure_eval.h"

namespace uma_test {

// Runs `fn` and expects a uma::Error whose message contains `needle`.
template <typename Fn>
void expect_error(Fn fn, const std::string& needle) {
  try {
    fn();
    ADD_FAILURE() << "no error; expected one mentioning '" << needle << "'";
  } catch (const uma::Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << "message was: " << e.what();
  }
}

inline uma::EngineOptions fp64_options() {
  uma::EngineOptions o;
  o.precision = uma::Precision::fp64;
  return o;
}

inline std::string source_dir() { return UMA_SOURCE_DIR; }
inline std::string bundled_model() { return source_dir() + "/potentials/uma-s-random-k2.uma"; }
inline std::string fixture_path(const std::string& name) {
  return source_dir() + "/unittest/data/fixtures/" + name + ".json";
}

// The five task fixtures made by tools/make-fixtures with fairchem's general backend.
inline std::vector<std::string> task_fixtures() {
  return {"omol_cation_radical", "omat_cu_triclinic", "oc20_pt111_co", "odac_framework_co2", "omc_crystal"};
}

struct Reference {
  double energy = 0.0;
  std::vector<std::array<double, 3>> forces;
  std::vector<double> stress;  // 9, row-major; empty when not periodic
};

struct Fixture {
  std::string name;
  uma::StructureFile file;
  nlohmann::json json;
  Reference reference(const std::string& precision) const {
    Reference r;
    const auto& ref = json.at("reference").at(precision);
    r.energy = ref.at("energy").get<double>();
    if (ref.contains("forces"))
      for (const auto& f : ref["forces"]) r.forces.push_back({f[0], f[1], f[2]});
    if (ref.contains("stress") && !ref["stress"].is_null()) r.stress = ref["stress"].get<std::vector<double>>();
    return r;
  }
};

inline Fixture load_fixture(const std::string& name) {
  Fixture f;
  f.name = name;
  f.file = uma::read_structure_json(fixture_path(name));
  std::ifstream in(fixture_path(name));
  in >> f.json;
  return f;
}

struct MaxError {
  double value = 0.0;
  size_t index = 0;
};

inline MaxError max_abs_diff(const std::vector<std::array<double, 3>>& a, const std::vector<std::array<double, 3>>& b) {
  MaxError m;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    for (int k = 0; k < 3; ++k)
      if (std::abs(a[i][k] - b[i][k]) > m.value) m = {std::abs(a[i][k] - b[i][k]), i};
  return m;
}

inline MaxError max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  MaxError m;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    if (std::abs(a[i] - b[i]) > m.value) m = {std::abs(a[i] - b[i]), i};
  return m;
}

inline double max_abs(const std::vector<std::array<double, 3>>& a) {
  double m = 0.0;
  for (const auto& v : a)
    for (double x : v) m = std::max(m, std::abs(x));
  return m;
}

}  // namespace uma_test

#endif
