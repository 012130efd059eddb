// uma::read_structure_json — a structure in the fixture JSON format (numbers, positions, cell, pbc; optional
// task, charge, spin), every field checked with an error naming the file and the field. Torch-free, so the
// fuzzer (unittest/fuzz) can run it under the sanitizers.
#ifndef UMA_ENGINE_STRUCTURE_JSON_H
#define UMA_ENGINE_STRUCTURE_JSON_H

#include <string>

#include "engine/io/radius_graph.h"

namespace uma {

struct StructureFile {
  Structure structure;
  std::string task;
  int charge = 0, spin = 0;
  bool has_charge = false, has_spin = false;
};

// Throws uma::Error naming the file and the field.
StructureFile read_structure_json(const std::string& path);

}  // namespace uma

#endif
