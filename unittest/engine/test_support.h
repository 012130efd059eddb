// Shared helpers of the engine tests (all folders of unittest/engine/): paths, the fairchem fixtures, error measures.
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

#include "engine/io/structure_eval.h"

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
// The random UMA-S-1.1-shaped test model (tools/make-test-models makes it).
inline std::string bundled_model() { return source_dir() + "/potentials/uma-s-random-k2.uma"; }

// The generations of UMA-S the engine runs: a random model of each shape and fairchem's numbers for it
// (unittest/data/README.md). dir: the fixture folder under unittest/data.
struct ModelVersion {
  std::string label, model, dir;
};
inline ModelVersion uma_1p1() { return {"UMA-1.1", bundled_model(), "fixtures"}; }
inline ModelVersion uma_1p2() {
  return {"UMA-S-1.2", source_dir() + "/potentials/uma-s-1p2-random-k2.uma", "fixtures-1p2"};
}
inline ModelVersion uma_1p2p1() {
  return {"UMA-S-1.2.1", source_dir() + "/potentials/uma-s-1p2p1-random-k2.uma", "fixtures-1p2p1"};
}

inline std::string fixture_path(const std::string& name, const std::string& dir = "fixtures") {
  return source_dir() + "/unittest/data/" + dir + "/" + name + ".json";
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

// The structures of UMA-S 1.2.x only: charged periodic systems under the two new tasks (the charge is
// the balance target of every layer) and an isolated atom, which fairchem evaluates with the model.
inline std::vector<std::string> charge_fixtures() {
  return {"oc22_charged_periodic", "oc25_charged_periodic", "omol_isolated_atom"};
}

inline Fixture load_fixture(const std::string& name, const std::string& dir = "fixtures") {
  Fixture f;
  f.name = name;
  f.file = uma::read_structure_json(fixture_path(name, dir));
  std::ifstream in(fixture_path(name, dir));
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

// The periodic structure twice along its first cell vector (a 2x1x1 supercell).
inline uma::Structure doubled_along_a(const uma::Structure& s) {
  auto t = s;
  for (size_t i = 0; i < s.positions.size(); ++i) {
    auto p = s.positions[i];
    for (int k = 0; k < 3; ++k) p[k] += s.cell[0][k];
    t.positions.push_back(p);
    t.numbers.push_back(s.numbers[i]);
  }
  for (int k = 0; k < 3; ++k) t.cell[0][k] *= 2.0;
  return t;
}

// Positions and cell under the symmetric strain eps_ab = eps_ba = e / 2: r' = r (I + eps) (row vectors).
inline uma::Structure strained(const uma::Structure& s, int a, int b, double e) {
  auto t = s;
  double eps[3][3] = {{0}};
  eps[a][b] += 0.5 * e;
  eps[b][a] += 0.5 * e;
  auto apply = [&](std::array<double, 3>& v) {
    std::array<double, 3> out{};
    for (int c = 0; c < 3; ++c) out[c] = v[c] + v[0] * eps[0][c] + v[1] * eps[1][c] + v[2] * eps[2][c];
    v = out;
  };
  for (auto& p : t.positions) apply(p);
  for (auto& c : t.cell) apply(c);
  return t;
}

}  // namespace uma_test

#endif
