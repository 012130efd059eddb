/* -*- c++ -*- ----------------------------------------------------------
   pair_style uma/kk (uma/kk/device, uma/kk/host, alias uma/gpu): pair_style uma with the graph
   built and the results scattered in Kokkos views, in DeviceType's memory. Settings, pair_coeff,
   init_style checks and log lines are PairUMA's. The engine (LibTorch) is reached only through
   uma::DeviceEvaluator (src/engine/io/device_evaluator.h): plain pointers, sizes and a CUDA stream,
   so this header set and Torch's never meet in one translation unit.
------------------------------------------------------------------------- */

#ifdef PAIR_CLASS
// clang-format off
PairStyle(uma/kk,PairUMAKokkos<LMPDeviceType>);
PairStyle(uma/kk/device,PairUMAKokkos<LMPDeviceType>);
PairStyle(uma/kk/host,PairUMAKokkos<LMPHostType>);
PairStyle(uma/gpu,PairUMAKokkos<LMPDeviceType>);
// clang-format on
#else

#ifndef LMP_PAIR_UMA_KOKKOS_H
#define LMP_PAIR_UMA_KOKKOS_H

#include "kokkos_type.h"
#include "pair_uma.h"

#include <cstdint>
#include <memory>

namespace uma {
class DeviceEvaluator;
struct DeviceResult;
}

namespace LAMMPS_NS {

template <class DeviceType>
class PairUMAKokkos : public PairUMA {
 public:
  typedef DeviceType device_type;
  typedef ArrayTypes<DeviceType> AT;

  PairUMAKokkos(class LAMMPS *);
  ~PairUMAKokkos() override;

  void compute(int, int) override;
  void settings(int, char **) override;
  void init_style() override;

  // Stages of compute(). Public because CUDA extended lambdas may not live in private or protected
  // member functions.

  // Engine atoms from LAMMPS atoms (mapped local atoms in LAMMPS order, then, in shell and exchange
  // mode, the mapped ghosts; in fold mode a ghost is its owner): d_eng_of, d_lmp_of, d_z, n_atoms,
  // n_energy; in exchange mode the map is handed to PairUMA's halo exchange (host copy).
  // Runs when atoms were re-sorted or exchanged (reneighboring) or the types may have changed.
  void map_atoms(bool fold);
  int64_t number_atoms(int begin, int end, int64_t first);
  // Element counts on the device -> PairUMA::merge_experts_for_global_composition.
  void update_composition();
  // Edges from the Kokkos full neighbor list (cutoff filter, counts, prefix sum, fill):
  // d_src, d_dst, d_vec, n_edges. Centres: local atoms, and ghosts too in shell mode.
  void build_edges(bool ghost_centres);
  // dE/d(edge vector) -> f, and d_eatom, d_vatom, virial when asked.
  void scatter_results(const double *edge_grad, const double *atom_energy);
  // After an evaluation with a non-finite energy or edge gradient: one ERROR naming the cause.
  void report_non_finite(const uma::DeviceResult &result);

  // Device views of the graph, reused across steps and grown with headroom.
  typedef Kokkos::View<int *, DeviceType> t_int_1d;
  typedef Kokkos::View<int64_t *, DeviceType> t_i64_1d;
  typedef Kokkos::View<double *[3], Kokkos::LayoutRight, DeviceType> t_vec_2d;

 protected:
  typename AT::t_x_array_randomread x;
  typename AT::t_f_array f;
  typename AT::t_int_1d_randomread type;
  typename AT::t_tagint_1d tag;

  DAT::tdual_efloat_1d k_eatom;
  DAT::tdual_virial_array k_vatom;
  typename AT::t_efloat_1d d_eatom;
  typename AT::t_virial_array d_vatom;

  t_int_1d d_type_z;        // atomic number per LAMMPS type, 0 = NULL (index 1..ntypes)
  t_int_1d d_eng_of;        // LAMMPS atom index -> engine atom, -1 = not in the graph
  t_int_1d d_lmp_of;        // engine atom -> LAMMPS atom index
  t_int_1d d_owner_of_tag;  // fold mode: atom ID -> local index, -1 = none
  t_i64_1d d_z;             // engine atom -> atomic number
  t_i64_1d d_counts;        // element counts of this rank's local engine atoms (index = Z)
  t_int_1d d_ncut;          // edges (neighbours within the cutoff) per centre
  t_i64_1d d_offset;        // first edge of each centre (exclusive prefix sum of d_ncut)
  t_i64_1d d_src, d_dst;    // edges: neighbour, centre (engine atoms)
  t_vec_2d d_vec;           // edge vectors x[src] - x[dst], Å

  std::unique_ptr<uma::DeviceEvaluator> evaluator;
  uma::Engine *evaluator_engine;    // engine the evaluator was made for
  int64_t n_atoms, n_energy, n_edges;
  int mapped_nlocal, mapped_nall;   // atom counts when map_atoms last ran
  bool map_stale;                   // map_atoms and update_composition must run before the next step
  bool system_empty = false;        // no atom of a mapped type on any rank: nothing to evaluate
  int cuda_device;                  // DeviceType's CUDA device, -1 = host memory

  template <class View>
  void grow(View &view, int64_t n, const char *what);
};

}    // namespace LAMMPS_NS

#endif
#endif
