/* -*- c++ -*- ----------------------------------------------------------
   pair_style uma, Torch side: the state behind PairUMA's PIMPL (engine, atom map, reusable host
   buffers), shared by pair_uma.cpp (graph, evaluation, results) and pair_uma_halo.cpp ('halo
   exchange'). Included only by translation units compiled with LibTorch.
------------------------------------------------------------------------- */

#ifndef LMP_PAIR_UMA_STATE_H
#define LMP_PAIR_UMA_STATE_H

#include "engine/core/engine.h"
#include "halo/planned_exchange.h"

#include <cstdint>
#include <map>
#include <string>
#include <memory>
#include <vector>

namespace LAMMPS_NS {
// The model's value for a task from a per-task table of uma::ModelInfo (default charge or spin); 0 if
// the task has none.
inline int task_default(const std::map<std::string, int> &table, const std::string &task)
{
  auto it = table.find(task);
  return it == table.end() ? 0 : it->second;
}

// Everything that needs Torch or the engine, and host buffers reused across steps.
struct PairUMAState {
  std::unique_ptr<uma::Engine> engine;
  std::vector<int> eng_of;                     // LAMMPS atom index -> engine atom, -1 = NULL type
  std::vector<int> lmp_of;                     // engine atom -> LAMMPS atom index
  std::vector<int64_t> z, src, dst;            // engine atoms' Z; edges
  std::vector<double> vec;                     // edge vectors, [E][3]
  std::vector<int> owner_of_tag;               // fold mode: atom ID -> local index
  std::vector<int64_t> counts_local, counts;   // composition by Z: this rank, all ranks
  int64_t n_energy = 0;                        // engine atoms [0, n_energy) are local
  std::vector<double> halo_buf;                // halo exchange: [nall][halo_slots] per LAMMPS atom
  int halo_width = 0;                          // values per atom in one exchange (9 x channels)
  bool halo_fp32 = false;                      // values are floats (fp32 engine), two per double slot
  std::unique_ptr<uma::HaloExchange> exchange; // halo exchange mode: LAMMPS communication
  std::unique_ptr<uma::PlannedExchange> planned;  // halo_comm mpi or nccl (pair_uma_exchange.cpp)
  std::unique_ptr<uma::HaloExchange> verified; // UMA_HALO_VERIFY: planned, checked against exchange
  std::unique_ptr<uma::HaloExchange> traced;   // UMA_HALO_TRACE: planned (or verified), timed
  std::string planned_key;                     // transport and device `planned` was made for
  int64_t planned_at = -1;                     // neighbor->ncalls of the plan's neighbour-list build
  int comm_slots_override = 0;                 // > 0: pair communication of this many doubles per atom
  std::unique_ptr<uma::RankSum> ranks;         // sums over MPI ranks (charge-balanced models)

  // Doubles per atom in halo_buf and in LAMMPS's communication buffers.
  int halo_slots() const { return halo_fp32 ? (halo_width + 1) / 2 : halo_width; }
  // Doubles per atom of the pair communication in flight: node rows, or the plan's (rank, row) pairs.
  int comm_slots() const { return comm_slots_override > 0 ? comm_slots_override : halo_slots(); }
};
}    // namespace LAMMPS_NS

#endif
