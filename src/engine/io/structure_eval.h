// Whole-structure evaluation on top of uma::Engine (graph, composition, energy, forces, stress) as
// fairchem's predict() reports it. Used by the command-line tool, the tests and the benchmarks.
#ifndef UMA_ENGINE_STRUCTURE_EVAL_H
#define UMA_ENGINE_STRUCTURE_EVAL_H

#include <array>
#include <string>
#include <vector>

#include "engine/core/engine.h"
#include "engine/io/radius_graph.h"
#include "engine/io/structure_json.h"

namespace uma {

struct StructureResult {
  double energy = 0.0;                          // eV
  std::vector<double> atom_energy;              // eV
  std::vector<std::array<double, 3>> forces;    // eV/Å
  std::array<double, 9> stress{};               // eV/Å^3, row-major, fairchem sign (tensile > 0)
  bool has_stress = false;                      // when the structure has a cell of non-zero volume
  size_t num_edges = 0;
  Recompute recomputed = Recompute::none;        // EvalOutput::recomputed
};

// Sets the engine's system (task, charge, spin) and composition from the structure, builds the
// radius graph (model cutoff and max_neighbors) and evaluates.
StructureResult evaluate_structure(Engine& engine, const Structure& s, const std::string& task, int charge,
                                   int spin, bool forces = true);


}  // namespace uma

#endif
