// uma::Engine — the public face of the UMA engine: load a .uma model, pick a task/charge/spin and a
// composition (which fixes the merged MoLE weights), and evaluate energy and its gradient with respect
// to every edge vector. Tensors in, tensors out; no LAMMPS types.
#ifndef UMA_ENGINE_ENGINE_H
#define UMA_ENGINE_ENGINE_H

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/recompute.h"
#include "engine/nn/fp32_gemm.h"
#include "model/errors.h"

namespace uma {

enum class Precision { fp32, fp64 };

struct EngineOptions {
  Precision precision = Precision::fp32;
  torch::Device device = torch::kCPU;
  // How fp32 GEMMs run on CUDA (fp32_gemm.h): fp32-accurate split TF32 (the default: it passes the fp32 parity
  // bounds and is faster), strict fp32 (validation), or TF32 (fastest, ~1e-3 eV/atom). fp32 on CUDA only: fp64 and
  // the CPU always run their GEMMs exactly, whatever this says.
  Fp32Gemm fp32_gemm = Fp32Gemm::split_tf32;
  // CUDA only: sum edge contributions into atoms in a fixed order (edges grouped per atom, segmented
  // reduction) instead of with atomics, so repeated runs give bit-identical results.
  bool deterministic = false;
  // Edges evaluated at once. 0 = automatic: all of them when their activations fit in the memory
  // the device has left, else chunks whose activations are recomputed in the backward pass (less
  // memory, about one more forward pass of the edge work). > 0: chunks of this many edges. < 0: never chunk.
  int64_t edge_chunk = 0;
  // CUDA (fused kernels), one-pass evaluations: what is made again in the backward instead of kept (recompute.h).
  // 1: conv 1's radial scale (fused_wigner_ops.h RadialRecipe; 1536 floats per edge and layer less, ~1.15 MiB per atom
  // at 2000 atoms of carbon, for one more 128 -> 1536 GEMM per layer); >= 2: that and conv 2's outputs
  // (MessageRecipe; 9 x C floats less, for the gate and conv 2 once more); < 0 nothing; 0 automatic: the cheapest
  // tier that fits in memory where keeping everything would not (memory_budget.h plan_recompute), before edge chunks.
  int recompute = 0;
  // CUDA: evaluations with at most this many edges are recorded once as a CUDA graph and replayed
  // (captured_eval.h): small systems are bound by launching kernels and running autograd on the
  // host, not by the GPU. Above it the GPU work hides the launches (nothing to gain) and each
  // recording costs an extra evaluation. 0 = never. Not with deterministic, halo exchange or edge chunks.
  static constexpr int64_t kGraphMaxEdgesAuto = 100000;
  int64_t graph_max_edges = kGraphMaxEdgesAuto;
  // Part of the device's available memory the automatic edge chunking plans for (memory_budget.h):
  // 1 / the number of processes that evaluate on the same device at once (MPI ranks on one node for
  // the CPU, ranks sharing one GPU), so that together they plan for the memory there is.
  double memory_share = 1.0;
};

// What the caller wants to know about the model (for logs and input validation).
struct ModelInfo {
  std::string name;
  std::string model_id;            // fairchem's model id: UMA-1.1, UMA-S-1.2, UMA-S-1.2.1
  // The total charge is also the target of a per-layer balance of the node features (1.2.x), for
  // every task: evaluations of one system split over ranks then need EvalInput::rank_sum.
  bool charge_balanced = false;
  std::string provenance;          // one line: source, sha256, seed, fairchem version
  std::vector<int> elements;       // accepted atomic numbers
  std::vector<std::string> tasks;  // e.g. omol omat oc20 odac omc
  double cutoff = 0.0;             // Å
  int max_neighbors = 0;           // fairchem's per-atom cap (informational for callers)
  int num_layers = 0;
  // Edge hops from an atom's energy to the farthest atom it depends on: the edge-degree embedding
  // plus one per layer. A ghost shell of receptive_field_hops * cutoff makes local energies exact.
  int receptive_field_hops = 0;
  int node_feature_width = 0;  // values per atom of the node features: (lmax+1)^2 x channels
  int max_num_elements = 0;  // size of the counts vector set_composition expects (index = Z)
  int num_experts = 0;             // 0 = plain model (no MoLE)
  int64_t num_parameters = 0;
  bool fused_kernels = false;      // the fused CUDA Wigner kernels are in use (else plain torch ops)
  Fp32Gemm fp32_gemm = Fp32Gemm::strict;  // how this engine's GEMMs run (strict on the CPU and in fp64)
  // The tf32 mode's GEMM kernel on this device (tf32_gemm_kernel_name: "hopper-rna", "cublas", ...); empty in the
  // other modes. cublas wherever the Hopper kernels cannot run, whatever UMA_TF32_GEMM asks for.
  std::string tf32_kernel;
  // The tf32 mode's fused kernels store the GEMM operands they make rounded to TF32, and those GEMMs read them as they
  // are (layers.h LayerTables::round_tf32_operands): the same products, a faster kernel.
  bool tf32_prerounded = false;
  // The tf32 mode's edge gate is made inside conv 2's GEMMs (fused_gate_conv2.h, K2), not stored between them.
  bool gate_in_conv2 = false;
  // The tf32 mode makes conv 1's radial scale inside the gather kernel (kernels/radial_gather/), never stored; the
  // automatic recomputation then starts at the radial tier (the backward makes the scale again).
  bool radial_gather = false;
  // The tf32 mode holds conv 1's message in fp16 and runs conv 1 on f16 GEMMs (UMA_HALF_OPERANDS=1; fused_half_conv1.h),
  // where the merged weights allow it.
  bool half_operands = false;
  int charge_min = 0, charge_max = 0, spin_min = 0, spin_max = 0;
  std::map<std::string, int> default_charge, default_spin;  // per task
};

// Graphs split over MPI ranks with a ghost layer of one cutoff: rows [n_energy_atoms, N) are copies
// of atoms owned elsewhere, and only edges into rows [0, n_energy_atoms) are given. The caller
// refreshes the copies from their owners after every node update (forward) and sums their gradients
// into the owners (reverse); every rank calls them in the same order (they are collective).
class HaloExchange {
 public:
  virtual ~HaloExchange() = default;
  // x [N, K] contiguous, on the engine device: overwrite rows >= n_energy_atoms from their owners.
  virtual void forward(torch::Tensor& x) = 0;
  // g [N, K]: add rows >= n_energy_atoms to their owners' rows (on whatever rank) and zero them.
  virtual void reverse(torch::Tensor& g) = 0;
};

// Sums over the MPI ranks that share one system, for the model's global per-layer reductions (the
// charge balance of UMA-S 1.2.x: 3 numbers per layer forward and backward). Collective: every rank
// calls it the same number of times in the same order.
class RankSum {
 public:
  virtual ~RankSum() = default;
  // v: a small contiguous tensor on the engine device; replaced by its sum over all ranks.
  virtual void sum(torch::Tensor& v) = 0;
};

// One evaluation. Edge e points from its target (centre) atom dst[e] to its source (neighbour) src[e]:
// edge_vec[e] = x[src[e]] - x[dst[e]] + periodic shift, exactly fairchem's edge_distance_vec.
// Only atoms [0, n_energy_atoms) contribute to the energy (LAMMPS: local atoms; ghosts follow).
struct EvalInput {
  torch::Tensor atomic_numbers;  // [N] int64, on the engine device
  torch::Tensor edge_src;        // [E] int64
  torch::Tensor edge_dst;        // [E] int64
  torch::Tensor edge_vec;        // [E,3] float64 (converted to the working precision inside)
  int64_t n_energy_atoms = -1;   // -1 = all N
  HaloExchange* halo = nullptr;  // set: node features of rows >= n_energy_atoms come from their owners
  // Several ranks hold parts of one system (rows [0, n_energy_atoms) are this rank's share): global
  // per-layer sums go through it. nullptr: this call holds the whole system. A rank with no atoms
  // must still evaluate (with N = 0) while the others do, as with halo.
  RankSum* rank_sum = nullptr;
};

struct EvalRequest {
  bool gradient = true;     // compute edge_grad (forces and virials need it)
  bool atom_energy = true;  // return per-atom energies
  // Copy the total energy to the host (EvalOutput::energy). On a GPU that is the one device->host
  // synchronisation of an evaluation; device-resident callers turn it off and read energy_device.
  bool host_energy = true;
};

struct EvalOutput {
  double energy = 0.0;          // eV, includes element references (when host_energy)
  torch::Tensor energy_device;  // 0-dim float64 on the engine device, always set
  torch::Tensor atom_energy;  // [N] float64 (zero for atoms >= n_energy_atoms)
  torch::Tensor edge_grad;    // [E,3] float64: dE/d edge_vec (eV/Å)
  int64_t edge_chunk = 0;     // edges per chunk this evaluation used; 0 = all at once
  Recompute recomputed = Recompute::none;  // what the backward made again instead of keeping it (recompute)
  int64_t graph_edges = 0;    // > 0: evaluated through a CUDA graph padded to this many edges
  // Energy and edge gradients (hence forces and virials) are all finite. Checked when host_energy,
  // at no extra synchronisation: the sum of edge_grad is read together with the energy.
  bool finite = true;
};

class Engine {
 public:
  Engine(const std::string& model_path, const EngineOptions& options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const ModelInfo& info() const;
  const EngineOptions& options() const;

  // Task, total charge and spin multiplicity of the system. Throws uma::Error for an unknown task or
  // a value outside the model's tables. Invalidates the merged weights when anything changed.
  void set_system(const std::string& task, int charge, int spin);

  // Element counts of the WHOLE system (all MPI ranks): counts[Z] = number of atoms with atomic
  // number Z (size max_num_elements). Re-merges the MoLE experts if the reduced composition changed
  // (relative tolerance 1e-5 on the fractions, as fairchem). Returns true when a merge happened.
  bool set_composition(const std::vector<int64_t>& counts_by_z);

  // Energy, per-atom energies and dE/d(edge vector). set_system and set_composition must have run.
  EvalOutput evaluate(const EvalInput& input, const EvalRequest& request = {});

  // Changes EngineOptions::edge_chunk (graph_max_edges) for the following evaluations.
  void set_edge_chunk(int64_t edge_chunk);
  void set_recompute(int recompute);  // EngineOptions::recompute
  void set_graph_max_edges(int64_t max_edges);

  // MoLE mixture applied expert by expert, without merging (slow; for tests of the merge).
  void set_use_unmerged_mixture(bool on);

  // CUDA graphs recorded so far (EngineOptions::graph_max_edges); for logs and tests.
  int64_t graph_captures() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// While alive (and `on`), torch picks its deterministic CUDA implementations (index_add_ and the
// like sum in a fixed order); the previous global setting is restored on destruction.
class DeterministicScope {
 public:
  explicit DeterministicScope(bool on);
  ~DeterministicScope();
  DeterministicScope(const DeterministicScope&) = delete;
  DeterministicScope& operator=(const DeterministicScope&) = delete;

 private:
  bool saved_, saved_warn_only_;
};

// Forces from edge gradients: F[src] -= g, F[dst] += g. Returns [N,3] float64.
torch::Tensor forces_from_edge_grad(const torch::Tensor& edge_grad, const torch::Tensor& edge_src,
                                    const torch::Tensor& edge_dst, int64_t n_atoms);

// Virial W = -sum_e edge_vec_e (x) edge_grad_e as [3,3] float64 (W[a][b] = -sum d_a g_b).
// LAMMPS's pair virial order (xx,yy,zz,xy,xz,yz) is W[0][0],W[1][1],W[2][2],W[0][1],W[0][2],W[1][2].
// fairchem's stress is the symmetrised -W / volume.
torch::Tensor virial_from_edge_grad(const torch::Tensor& edge_vec, const torch::Tensor& edge_grad);

}  // namespace uma

#endif
