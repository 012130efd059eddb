/* -*- c++ -*- ----------------------------------------------------------
   pair_style uma: Meta's UMA (eSCN-MD with a mixture of linear experts) universal interatomic
   potential, evaluated by the uma::Engine (LibTorch). Torch stays behind the PairUMAState PIMPL
   so that this header includes only pair.h.
------------------------------------------------------------------------- */

#ifdef PAIR_CLASS
// clang-format off
PairStyle(uma,PairUMA);
// clang-format on
#else

#ifndef LMP_PAIR_UMA_H
#define LMP_PAIR_UMA_H

#include "pair.h"

#include "engine/core/recompute.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace uma {
class Engine;
class HaloExchange;
class RankSum;
enum class Fp32Gemm;  // engine/nn/fp32_gemm.h
}

namespace LAMMPS_NS {

struct PairUMAState;    // engine, model info and reusable host buffers (pair_uma.cpp)

class PairUMA : public Pair {
 public:
  PairUMA(class LAMMPS *);
  ~PairUMA() override;

  void compute(int, int) override;
  void settings(int, char **) override;
  void coeff(int, char **) override;
  void init_style() override;
  double init_one(int, int) override;

  // How ghost atoms enter the graph.
  //   shell: ghosts are graph nodes; the ghost shell is the model's receptive field, so every local
  //          atom's energy is exact on any number of ranks (the general MPI path).
  //   fold:  ghosts are periodic images of local atoms (one rank only); an edge to a ghost points
  //          to its owner with the image's vector, as fairchem's periodic graph. Ghost shell =
  //          cutoff.
  //   exchange: ghosts within one cutoff are graph nodes without edges of their own; after every
  //          layer their features are copied from their owners (LAMMPS forward communication) and
  //          in the backward pass their gradients are summed into the owners (reverse
  //          communication). Exact on any number of ranks with ~1/30 of the shell's ghost volume.
  //   auto:  fold on one rank, exchange on several.
  enum class Halo { automatic, shell, fold, exchange };
  // How 'halo exchange' moves rows (doc/pair_uma.rst, keyword halo_comm).
  //   lammps: this style's forward/reverse pair communication (six swaps through host memory,
  //           corners in several hops).
  //   mpi:    owner to ghost directly over an owner-direct plan (src/halo/), MPI through the host.
  //   nccl:   the same plan over NCCL on the engine's GPU (a plugin built with UMA_HAVE_NCCL).
  //   auto:   nccl when built with it and every rank evaluates on a GPU of its own, else lammps.
  enum class HaloComm { automatic, lammps, mpi, nccl };

  int pack_forward_comm(int, int *, double *, int, int *) override;
  void unpack_forward_comm(int, int, double *) override;
  int pack_reverse_comm(int, int, double *) override;
  void unpack_reverse_comm(int, int *, double *) override;

 protected:
  std::unique_ptr<PairUMAState> state;

  // pair_style settings; task empty, charge/spin unset = model defaults (resolved in coeff)
  std::string task_setting;
  bool charge_set, spin_set;
  int charge_setting, spin_setting;
  bool fp64;           // precision fp64 (default fp32)
  bool use_cuda;       // device cuda (default cpu)
  uma::Fp32Gemm gemm_mode;  // tf32 no|split|yes: how fp32 GEMMs run on a GPU (uma::EngineOptions::fp32_gemm)
  bool gemm_mode_set;       // tf32 given (checked against fp64 and the CPU; the default is silent)
  bool deterministic;  // deterministic yes: fixed-order sums on a GPU (uma::EngineOptions::deterministic)
  Halo halo_setting;
  HaloComm halo_comm_setting;  // halo_comm keyword
  HaloComm halo_comm_active;   // what it resolves to in init_style (lammps, mpi or nccl)
  int64_t chunk_setting;  // chunk: 0 auto, -1 off, N > 0 edges per chunk (uma::EngineOptions::edge_chunk)
  int64_t graphs_setting; // graphs: largest edge count recorded as a CUDA graph (uma::EngineOptions::graph_max_edges)
  int recompute_setting;  // recompute: 0 auto, 2 yes, 1 radial, -1 no (uma::EngineOptions::recompute)

  // pair_coeff results
  std::string model_path;
  std::vector<int> type_z;    // atomic number per LAMMPS type, 0 = NULL (index 1..ntypes)
  std::string task;           // resolved task, charge and spin
  int charge, spin;
  double cutoff;              // model cutoff (Å)
  Halo halo_active;           // the mode halo_setting resolves to for this run: fold, shell or exchange
  bool logged_model;          // init log written for the current engine
  std::string logged_halo;    // last halo line logged (printed again only when it changes)
  bool composition_known;     // set_composition has run once for the current engine
  bool warned_neighbors;      // max_neighbors warning given once
  bool warned_atom_charges = false;  // per-atom charges (atom_style charge) warning given once
  bool warned_task_charge = false;   // charge/spin outside a task's training data: warned once
  bool logged_chunked;        // rank 0's last evaluation ran in edge chunks (logged on each change)
  uma::Recompute logged_recompute;  // what rank 0's last evaluation recomputed (logged on each change)
  int64_t logged_graph_edges; // edge capacity of rank 0's CUDA graph last logged (0: none)

  void allocate();
  void load_engine();
  void resolve_system();
  void warn_about_charges();
  void log_model();
  void build_graph(Halo mode);
  // halo_comm: resolves halo_comm_setting for this run (init_style; collective, one ERROR for a
  // choice that cannot work), and learns which rank owns each ghost row and at which row there,
  // through one forward communication of (rank, row) pairs (pair_uma_exchange.cpp; collective).
  void resolve_halo_comm();
  void learn_ghost_owners(std::vector<int> &owner_rank, std::vector<int64_t> &owner_row);
  static const char *halo_comm_name(HaloComm mode);
  // halo_comm mpi or nccl: the transport, planned again after every neighbour-list build (collective);
  // `reference` is the LAMMPS one, checked against under UMA_HALO_VERIFY=1.
  uma::HaloExchange *planned_halo_exchange(uma::HaloExchange *reference);
  void log_plan();    // UMA_HALO_VERIFY: each rank's plan in rank 0's log
  // LAMMPS's forward pair communication of halo_buf through the host path, for uma/kk as well
  // (pair_uma_halo.cpp; collective).
  void forward_comm_on_host();
  friend class HaloByComm;    // Halo::exchange through this style's pack/unpack_*_comm (pair_uma_halo.cpp)
  std::string element_map_string() const;

  // Hooks for the Kokkos variant (kokkos/pair_uma_kokkos.*), which shares settings, pair_coeff,
  // init_style and logs with this class and evaluates through the same engine.
  uma::Engine *engine_handle() const;    // the loaded engine; nullptr before pair_coeff
  // 'halo exchange' (uma::HaloExchange through this style's pack/unpack_*_comm), created on first use.
  // It maps engine rows to LAMMPS atoms with the graph build_graph made, or the one given to
  // set_halo_atom_map by a style that builds its own graph (uma/kk): engine atom k is LAMMPS atom
  // lmp_of[k] (host memory, n_atoms entries, the first n_energy of them local).
  uma::HaloExchange *halo_exchange();
  void set_halo_atom_map(const int *lmp_of, int64_t n_atoms, int64_t n_energy);
  // Sums over all ranks for the model's global per-layer reductions (MPI_Allreduce), or nullptr where
  // none is needed (one rank, or a model without them). Not null: every rank must evaluate, also one
  // without local atoms, since the sums are collective.
  uma::RankSum *rank_sum();
  // Sums per-element counts of local atoms over ranks and hands them to the engine (MoLE merge).
  // Returns false, on every rank alike, when the whole system has no atom of a mapped type: then
  // there is nothing to evaluate and the UMA energy is 0.
  bool merge_experts_for_global_composition(const int64_t *local_counts, int ncounts);
  // The one ERROR line (error->one) of a failed evaluation on this rank: sizes, the engine's message
  // and, for out of memory, what to change.
  void evaluation_failed(int64_t natoms, int64_t nedges, const std::string &what) const;
  // Finite-input and finite-output guards: each ends the run with one ERROR (error->one) naming the
  // step and the atom(s). check_positions_finite: this rank's local atoms; coincident_atoms: LAMMPS
  // atoms i and j at one position; non_finite_output: after an evaluation whose energy or edge
  // gradients are not finite (host arrays: edge vectors and gradients [nedges][3], edges src -> dst
  // as engine atoms, engine atom k = LAMMPS atom lmp_of[k], per-atom energies or nullptr).
  void check_positions_finite() const;
  void coincident_atoms(int i, int j) const;
  void non_finite_output(double energy, const double *edge_grad, const double *edge_vec, const int64_t *src,
                         const int64_t *dst, int64_t nedges, const int *lmp_of, const double *atom_energy,
                         int64_t n_energy) const;
  // Logs (rank 0) when its evaluation switches between one pass and edge chunks, and when it records
  // a CUDA graph (graph_edges: the graph's edge capacity, 0 = no graph).
  void log_edge_chunks(int64_t edge_chunk, int64_t nedges);
  void log_recompute(uma::Recompute recomputed, int64_t nedges);
  void log_graph(int64_t graph_edges);
  int memory_sharing_ranks = 1;          // ranks of this node on this rank's device (memory budget)
  int engine_cuda_device = -1;           // 'device cuda': >= 0 = this GPU (the one Kokkos uses),
                                         // -1 = one per rank on a node, round-robin
};

}    // namespace LAMMPS_NS

#endif
#endif
