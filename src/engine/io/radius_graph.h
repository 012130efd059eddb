// Neighbour-list builder for tests, the command-line tool and benchmarks (LAMMPS supplies its own
// lists). Reproduces fairchem's internal graph (graph/radius_graph_pbc.py v2 + get_max_neighbors_mask,
// uma-model.md §2.2): all source images j of every target i with 0 < |d|^2 <= cutoff^2, and for an
// atom with more than K candidates only those with d^2 <= (K+1-th smallest d^2) + 0.01 Å^2.
#ifndef UMA_ENGINE_RADIUS_GRAPH_H
#define UMA_ENGINE_RADIUS_GRAPH_H

#include <array>
#include <cstdint>
#include <vector>

namespace uma {

struct Structure {
  std::vector<int> numbers;                    // atomic numbers
  std::vector<std::array<double, 3>> positions;  // Å
  std::array<std::array<double, 3>, 3> cell{};  // rows are lattice vectors a, b, c (Å)
  std::array<bool, 3> pbc{{false, false, false}};
  double volume() const;                        // |det cell|
};

struct RadiusGraph {
  std::vector<int64_t> src, dst;                 // edge e: source (neighbour) src[e], target (centre) dst[e]
  std::vector<std::array<int, 3>> offsets;       // lattice image of the source
  std::vector<std::array<double, 3>> vectors;    // x[src] - x[dst] + offset . cell
};

// max_neighbors <= 0 disables the cap.
RadiusGraph build_radius_graph(const Structure& s, double cutoff, int max_neighbors);

}  // namespace uma

#endif
