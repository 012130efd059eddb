// uma::DeviceEvaluator — the engine seen through plain pointers, sizes and a CUDA stream, for callers
// that must not include Torch headers (the Kokkos pair style uma/kk, compiled by nvcc_wrapper).
// Inputs are read in place (torch::from_blob, no copy) where they already live on the engine's device;
// outputs stay in tensors owned by the evaluator until the next evaluate() call and are handed back as
// pointers into device (or host) memory.
#ifndef UMA_ENGINE_DEVICE_EVALUATOR_H
#define UMA_ENGINE_DEVICE_EVALUATOR_H

#include <cstdint>
#include <memory>
#include <string>

#include "engine/core/recompute.h"

namespace uma {

class Engine;
class HaloExchange;
class RankSum;

// One graph, as the caller's buffers. Same meaning as uma::EvalInput: edge e points from its centre
// dst[e] to its neighbour src[e], edge_vec[e] = x[src] - x[dst] (+ periodic shift), in Å.
struct DeviceBatch {
  const int64_t *atomic_numbers = nullptr;  // [n_atoms]
  const int64_t *edge_src = nullptr;        // [n_edges]
  const int64_t *edge_dst = nullptr;        // [n_edges]
  const double *edge_vec = nullptr;         // [n_edges][3], row-major (contiguous rows)
  int64_t n_atoms = 0;
  int64_t n_energy_atoms = 0;  // atoms [0, n_energy_atoms) carry energy (LAMMPS: local atoms)
  int64_t n_edges = 0;
  // Where the buffers live: -1 = host memory, >= 0 = this CUDA device.
  int memory_device = -1;
  // CUDA stream (cudaStream_t) the caller's kernels run on; the engine's work is queued on it, so
  // no synchronisation is needed on either side. nullptr = the legacy default stream.
  void *cuda_stream = nullptr;
  // Graph split over MPI ranks with ghost rows [n_energy_atoms, n_atoms) that have no edges of their
  // own ('halo exchange', see uma::HaloExchange in engine.h); nullptr = all rows are complete.
  HaloExchange *halo = nullptr;
  // Several ranks share the system: the model's global per-layer sums (uma::RankSum in engine.h,
  // the charge balance of 1.2.x models); nullptr = this batch is the whole system.
  RankSum *rank_sum = nullptr;
};

struct DeviceResult {
  double energy = 0.0;                 // eV, of atoms [0, n_energy_atoms); only if asked
  const double *edge_grad = nullptr;   // [n_edges][3] dE/d edge_vec (eV/Å), in the batch's memory
  const double *atom_energy = nullptr; // [n_atoms] eV (zero past n_energy_atoms); null unless asked
  int64_t edge_chunk = 0;              // edges per chunk the engine used (0: one pass)
  int64_t graph_edges = 0;             // > 0: replayed (or recorded) as a CUDA graph of this many edges
  Recompute recomputed = Recompute::none;  // EvalOutput::recomputed
  bool finite = true;                  // energy and edge_grad finite (checked only with want_energy)
};

class DeviceEvaluator {
 public:
  // The engine is owned by the caller (PairUMA) and must outlive the evaluator.
  explicit DeviceEvaluator(Engine &engine);
  ~DeviceEvaluator();
  DeviceEvaluator(const DeviceEvaluator &) = delete;
  DeviceEvaluator &operator=(const DeviceEvaluator &) = delete;

  // Edge gradients, and the energy (want_energy: the one device->host copy of an evaluation on a
  // GPU) and per-atom energies when asked. Throws std::runtime_error with Torch's message (no
  // backtrace).
  DeviceResult evaluate(const DeviceBatch &batch, bool want_energy, bool want_atom_energy);


  int max_num_elements() const;
  int max_neighbors() const;  // fairchem's per-atom cap (for the warning; UMA uses all neighbours)
  // -1: the engine runs on the CPU; >= 0: its CUDA device.
  int engine_device() const;

  // Whether this LibTorch sees a usable CUDA device.
  static bool cuda_available();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace uma

#endif
