#include "engine/io/structure_json.h"

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "model/errors.h"

namespace uma {

namespace {

// Reads the fixture-format fields with an error naming the file and the field for every mistake
// (nlohmann's own messages name neither, and p[0], p[1], p[2] of a short entry read past its end).
class StructureReader {
 public:
  explicit StructureReader(const std::string& path) : who_("structure file '" + path + "'") {}

  Error error(const std::string& field, const std::string& problem) const {
    return Error(who_ + ": '" + field + "' " + problem);
  }

  double number(const nlohmann::json& v, const std::string& field, const char* unit) const {
    if (!v.is_number()) throw error(field, "must be a number (" + std::string(unit) + "), found " + v.dump().substr(0, 40));
    const double x = v.get<double>();
    if (!std::isfinite(x)) throw error(field, "is not finite");
    return x;
  }

  // An integer (1 or 1.0; not 2.5, which would silently become 2).
  int integer(const nlohmann::json& v, const std::string& field, const std::string& what) const {
    const bool integral = v.is_number_integer() || (v.is_number_float() && std::isfinite(v.get<double>()) &&
                                                    std::floor(v.get<double>()) == v.get<double>());
    if (!integral || std::abs(v.get<double>()) > 1e9)
      throw error(field, "must be an integer (" + what + "), found " + v.dump().substr(0, 40));
    return static_cast<int>(v.get<double>());
  }

  const nlohmann::json& array(const nlohmann::json& v, const std::string& field, size_t size, const std::string& what) const {
    if (!v.is_array()) throw error(field, "must be an array (" + what + "), found " + v.dump().substr(0, 40));
    if (size != size_t(-1) && v.size() != size)
      throw error(field, "has " + std::to_string(v.size()) + " entries, expected " + std::to_string(size) + " (" + what + ")");
    return v;
  }

 private:
  std::string who_;
};

}  // namespace

StructureFile read_structure_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot open structure file '" + path + "'");
  nlohmann::json j;
  try {
    in >> j;
  } catch (const nlohmann::json::exception& e) {
    throw Error("structure file '" + path + "' is not valid JSON: " + e.what());
  }
  const StructureReader r(path);
  if (!j.is_object()) throw Error("structure file '" + path + "' must hold a JSON object with numbers, positions, cell, pbc");
  StructureFile f;
  auto& s = f.structure;
  for (const char* key : {"numbers", "positions", "pbc"})
    if (!j.contains(key))
      throw r.error(key, std::string("is missing") +
                             (std::string(key) == "pbc"
                                  ? " (periodicity per cell vector: [true, true, true] for a crystal, [false, false, "
                                    "false] for a molecule; it is not guessed)"
                                  : ""));
  const auto& numbers = r.array(j["numbers"], "numbers", size_t(-1), "atomic numbers");
  for (size_t i = 0; i < numbers.size(); ++i)
    s.numbers.push_back(r.integer(numbers[i], "numbers[" + std::to_string(i) + "]", "an atomic number"));
  const auto& positions = r.array(j["positions"], "positions", numbers.size(), "one [x, y, z] per atomic number");
  for (size_t i = 0; i < positions.size(); ++i) {
    const std::string field = "positions[" + std::to_string(i) + "]";
    const auto& p = r.array(positions[i], field, 3, "x, y, z in Å");
    s.positions.push_back({r.number(p[0], field + "[0]", "Å"), r.number(p[1], field + "[1]", "Å"),
                           r.number(p[2], field + "[2]", "Å")});
  }
  const auto& pbc = r.array(j["pbc"], "pbc", 3, "one true/false per cell vector");
  for (int a = 0; a < 3; ++a) {
    if (!pbc[a].is_boolean()) throw r.error("pbc[" + std::to_string(a) + "]", "must be true or false, found " + pbc[a].dump());
    s.pbc[a] = pbc[a].get<bool>();
  }
  if (j.contains("cell") && !j["cell"].is_null()) {
    const auto& cell = r.array(j["cell"], "cell", 3, "three cell vectors [a, b, c] in Å");
    for (int a = 0; a < 3; ++a) {
      const std::string field = "cell[" + std::to_string(a) + "]";
      const auto& row = r.array(cell[a], field, 3, "x, y, z in Å");
      for (int b = 0; b < 3; ++b) s.cell[a][b] = r.number(row[b], field + "[" + std::to_string(b) + "]", "Å");
    }
  } else if (s.pbc[0] || s.pbc[1] || s.pbc[2]) {
    throw r.error("cell", "is missing but 'pbc' has periodic directions; give the cell vectors in Å");
  }
  if (j.contains("task")) {
    if (!j["task"].is_string()) throw r.error("task", "must be a string (e.g. \"omat\"), found " + j["task"].dump());
    f.task = j["task"].get<std::string>();
  }
  if (j.contains("charge")) f.charge = r.integer(j["charge"], "charge", "the total charge in e"), f.has_charge = true;
  if (j.contains("spin"))
    f.spin = r.integer(j["spin"], "spin", "the spin multiplicity 2S+1"), f.has_spin = true;
  return f;
}

}  // namespace uma
