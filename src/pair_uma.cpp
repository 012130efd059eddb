/* ----------------------------------------------------------------------
   pair_style uma: LAMMPS glue for the uma::Engine. It only adapts: the neighbor list becomes
   an edge list (src = neighbour j, dst = centre i, vec = x[j] - x[i]); the engine's
   dE/d(edge vector) becomes forces, virials and per-atom virials. Torch types stay in this file,
   pair_uma_halo.cpp (the halo exchange) and pair_uma_state.h; pair_uma.h includes none of them.
------------------------------------------------------------------------- */

#include "pair_uma.h"

#include "atom.h"
#include "comm.h"
#include "domain.h"
#include "error.h"
#include "force.h"
#include "lammps_compat.h"
#include "memory.h"
#include "neigh_list.h"
#include "neighbor.h"
#include "update.h"
#include "utils.h"

#include "engine/core/engine.h"
#include "engine/core/memory_budget.h"
#include "pair_uma_state.h"

#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <functional>
#include <limits>

using namespace LAMMPS_NS;

namespace {

const char *const kElementSymbols[] = {
    "",   "H",  "He", "Li", "Be", "B",  "C",  "N",  "O",  "F",  "Ne", "Na", "Mg", "Al", "Si",
    "P",  "S",  "Cl", "Ar", "K",  "Ca", "Sc", "Ti", "V",  "Cr", "Mn", "Fe", "Co", "Ni", "Cu",
    "Zn", "Ga", "Ge", "As", "Se", "Br", "Kr", "Rb", "Sr", "Y",  "Zr", "Nb", "Mo", "Tc", "Ru",
    "Rh", "Pd", "Ag", "Cd", "In", "Sn", "Sb", "Te", "I",  "Xe", "Cs", "Ba", "La", "Ce", "Pr",
    "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Hf", "Ta", "W",
    "Re", "Os", "Ir", "Pt", "Au", "Hg", "Tl", "Pb", "Bi", "Po", "At", "Rn", "Fr", "Ra", "Ac",
    "Th", "Pa", "U",  "Np", "Pu", "Am", "Cm", "Bk", "Cf", "Es", "Fm", "Md", "No", "Lr", "Rf",
    "Db", "Sg", "Bh", "Hs", "Mt", "Ds", "Rg", "Cn", "Nh", "Fl", "Mc", "Lv", "Ts", "Og"};
constexpr int kMaxZ = sizeof(kElementSymbols) / sizeof(kElementSymbols[0]) - 1;
static_assert(kMaxZ == 118, "one symbol per element H..Og, index = atomic number");

// The pair_style value that selects a GEMM mode ('tf32 no|split|yes'), for messages.
const char *tf32_keyword(uma::Fp32Gemm mode)
{
  return mode == uma::Fp32Gemm::tf32 ? "yes" : mode == uma::Fp32Gemm::split_tf32 ? "split" : "no";
}

int symbol_to_z(const std::string &symbol)
{
  for (int z = 1; z <= kMaxZ; ++z)
    if (symbol == kElementSymbols[z]) return z;
  return 0;
}

std::string element_name(int z)
{
  return (z >= 1 && z <= kMaxZ) ? kElementSymbols[z] : fmt::format("Z={}", z);
}

std::string join(const std::vector<std::string> &items)
{
  std::string out;
  for (const auto &s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// Runs fn on every rank. Failures on all ranks (a bad model file) give one ERROR line from rank 0;
// a failure on some ranks only (out of memory) ends with error->one on the failing rank.
void run_collectively(LAMMPS *lmp, const std::string &context, const std::function<void()> &fn)
{
  std::string message;
  int failed = 0;
  try {
    fn();
  } catch (const c10::Error &e) {
    message = e.what_without_backtrace();    // Torch's what() appends a C++ backtrace
    failed = 1;
  } catch (const std::exception &e) {
    message = e.what();
    failed = 1;
  }
  int nfailed = 0;
  MPI_Allreduce(&failed, &nfailed, 1, MPI_INT, MPI_SUM, lmp->world);
  if (nfailed == lmp->comm->nprocs) lmp->error->all(FLERR, "{}: {}", context, message);
  if (failed) lmp->error->one(FLERR, "{}: {}", context, message);
  if (nfailed) lmp->error->all(FLERR, "{}: failed on {} of {} MPI ranks", context, nfailed,
                               lmp->comm->nprocs);
}

// A host vector as a tensor on `device`. On the CPU this aliases the vector (no copy).
template <typename T>
torch::Tensor to_device(std::vector<T> &data, std::vector<int64_t> shape, torch::Dtype dtype,
                        const torch::Device &device)
{
  auto options = torch::TensorOptions().dtype(dtype);
  if (data.empty()) return torch::empty(shape, options.device(device));
  return torch::from_blob(data.data(), shape, options).to(device);
}

}    // namespace

/* ---------------------------------------------------------------------- */

PairUMA::PairUMA(LAMMPS *lmp) :
    Pair(lmp), state(new PairUMAState), charge_set(false), spin_set(false), charge_setting(0),
    spin_setting(0), fp64(false), use_cuda(false), gemm_mode(uma::Fp32Gemm::split_tf32), gemm_mode_set(false), deterministic(false),
    halo_setting(Halo::automatic), halo_comm_setting(HaloComm::automatic),
    halo_comm_active(HaloComm::lammps), chunk_setting(0), graphs_setting(uma::EngineOptions::kGraphMaxEdgesAuto),
    recompute_setting(0),
    charge(0),
    spin(0), cutoff(0.0), halo_active(Halo::fold), logged_model(false), composition_known(false),
    warned_neighbors(false), logged_chunked(false), logged_recompute(uma::Recompute::none), logged_graph_edges(0)
{
  // Model parameters come from the .uma file given to pair_coeff, which must be repeated after
  // read_restart (as for pair_style mliap, snap, pace); write_data writes no Pair Coeffs.
  restartinfo = 0;
  writedata = 0;
  one_coeff = 1;
  manybody_flag = 1;
  single_enable = 0;
  // The virial comes from the edge gradients (sum over edges of -d (x) dE/dd), which is complete
  // on every rank; f.r over ghosts would need the ghost forces before reverse communication.
  no_virial_fdotr_compute = 1;
  centroidstressflag = CENTROID_NOTAVAIL;
}

PairUMA::~PairUMA()
{
  if (allocated) {
    memory->destroy(setflag);
    memory->destroy(cutsq);
    memory->destroy(cutghost);
  }
}

void PairUMA::allocate()
{
  allocated = 1;
  const int n = atom->ntypes;
  memory->create(setflag, n + 1, n + 1, "pair:setflag");
  memory->create(cutsq, n + 1, n + 1, "pair:cutsq");
  memory->create(cutghost, n + 1, n + 1, "pair:cutghost");
  for (int i = 0; i <= n; i++)
    for (int j = 0; j <= n; j++) setflag[i][j] = 0;
  type_z.assign(n + 1, 0);
}

/* ----------------------------------------------------------------------
   pair_style uma [task T] [charge Q] [spin S] [precision fp32|fp64] [device cpu|cuda]
                  [halo auto|shell|fold|exchange] [halo_comm auto|lammps|mpi|nccl]
                  [chunk auto|off|N] [recompute auto|yes|no] [graphs auto|yes|no]
                  [tf32 no|split|yes] [deterministic yes|no]
------------------------------------------------------------------------- */

void PairUMA::settings(int narg, char **arg)
{
  const bool old_fp64 = fp64, old_cuda = use_cuda, old_deterministic = deterministic;
  const uma::Fp32Gemm old_gemm_mode = gemm_mode;
  task_setting.clear();
  charge_set = spin_set = false;
  fp64 = false;
  use_cuda = false;
  gemm_mode = uma::Fp32Gemm::split_tf32;  // fp32-accurate; fp64 and the CPU ignore it
  gemm_mode_set = false;
  deterministic = false;
  halo_setting = Halo::automatic;
  halo_comm_setting = HaloComm::automatic;
  chunk_setting = 0;
  graphs_setting = uma::EngineOptions::kGraphMaxEdgesAuto;
  recompute_setting = 0;

  for (int iarg = 0; iarg < narg; iarg += 2) {
    const std::string key = arg[iarg];
    if (iarg + 1 >= narg)
      error->all(FLERR, "pair_style uma: keyword '{}' needs a value; e.g. pair_style uma task omat "
                 "charge 0 spin 0 precision fp32 device cpu", key);
    const std::string value = arg[iarg + 1];
    if (key == "task") {
      task_setting = value;
    } else if (key == "charge" || key == "spin") {
      if (!utils::is_integer(value.c_str()))
        error->all(FLERR, "pair_style uma: expected an integer after '{}', got '{}'; e.g. {} 0",
                   key, value, key);
      const int v = utils::inumeric(FLERR, value.c_str(), false, lmp);
      if (key == "charge") {
        charge_setting = v;
        charge_set = true;
      } else {
        spin_setting = v;
        spin_set = true;
      }
    } else if (key == "precision") {
      if (value != "fp32" && value != "fp64")
        error->all(FLERR, "pair_style uma: expected fp32 or fp64 after 'precision', got '{}'",
                   value);
      fp64 = (value == "fp64");
    } else if (key == "device") {
      if (value != "cpu" && value != "cuda")
        error->all(FLERR, "pair_style uma: expected cpu or cuda after 'device', got '{}'", value);
      use_cuda = (value == "cuda");
      if (use_cuda && !torch::cuda::is_available())
        error->all(FLERR, "pair_style uma: 'device cuda' requested, but this LibTorch has no "
                   "usable CUDA device; use 'device cpu' or a CUDA build of LibTorch on a GPU "
                   "node");
    } else if (key == "halo") {
      if (value == "auto")
        halo_setting = Halo::automatic;
      else if (value == "shell")
        halo_setting = Halo::shell;
      else if (value == "fold")
        halo_setting = Halo::fold;
      else if (value == "exchange")
        halo_setting = Halo::exchange;
      else
        error->all(FLERR, "pair_style uma: expected auto, shell, fold or exchange after 'halo', "
                   "got '{}'", value);
    } else if (key == "halo_comm") {
      const char *names[] = {"auto", "lammps", "mpi", "nccl"};
      const HaloComm modes[] = {HaloComm::automatic, HaloComm::lammps, HaloComm::mpi, HaloComm::nccl};
      const auto at = std::find(std::begin(names), std::end(names), value);
      if (at == std::end(names))
        error->all(FLERR, "pair_style uma: expected auto, lammps, mpi or nccl after 'halo_comm', got '{}'", value);
      halo_comm_setting = modes[at - std::begin(names)];
    } else if (key == "chunk") {
      if (value == "auto")
        chunk_setting = 0;
      else if (value == "off")
        chunk_setting = -1;
      else {
        const bigint edges = utils::is_integer(value.c_str()) ? utils::bnumeric(FLERR, value.c_str(), false, lmp) : 0;
        if (edges <= 0)
          error->all(FLERR, "pair_style uma: expected auto, off or a positive number of edges after "
                     "'chunk', got '{}'", value);
        chunk_setting = edges;
      }
    } else if (key == "recompute") {
      if (!uma::recompute_setting_of(value, recompute_setting))
        error->all(FLERR, "pair_style uma: expected auto, yes, radial or no after 'recompute', got '{}'", value);
    } else if (key == "tf32") {
      gemm_mode_set = true;
      if (value == "no")
        gemm_mode = uma::Fp32Gemm::strict;
      else if (value == "split")
        gemm_mode = uma::Fp32Gemm::split_tf32;
      else if (value == "yes")
        gemm_mode = uma::Fp32Gemm::tf32;
      else
        error->all(FLERR, "pair_style uma: expected no, split or yes after 'tf32', got '{}'", value);
    } else if (key == "deterministic") {
      if (value != "yes" && value != "no")
        error->all(FLERR, "pair_style uma: expected yes or no after '{}', got '{}'", key, value);
      deterministic = (value == "yes");
    } else if (key == "graphs") {
      if (value == "auto")
        graphs_setting = uma::EngineOptions::kGraphMaxEdgesAuto;
      else if (value == "yes")
        graphs_setting = std::numeric_limits<int64_t>::max();
      else if (value == "no")
        graphs_setting = 0;
      else
        error->all(FLERR, "pair_style uma: expected auto, yes or no after 'graphs', got '{}'", value);
    } else {
      error->all(FLERR, "pair_style uma: unknown keyword '{}'; expected task, charge, spin, "
                 "precision, device, halo, halo_comm, chunk, recompute, graphs, tf32 or deterministic", key);
    }
  }

  if (gemm_mode_set && gemm_mode != uma::Fp32Gemm::strict && fp64)
    error->all(FLERR, "pair_style uma: 'tf32 {}' applies to precision fp32 only (TF32 tensor cores take fp32 "
               "GEMM inputs); drop it or use precision fp32", tf32_keyword(gemm_mode));

  // pair_style uma given again: LAMMPS keeps the pair coefficients when a pair_style command names
  // the style in use (Input::pair_style calls settings() only), so the model given to pair_coeff is
  // reloaded with the new engine options, with the same element map.
  if (state->engine && (fp64 != old_fp64 || use_cuda != old_cuda || gemm_mode != old_gemm_mode ||
                        deterministic != old_deterministic)) {
    load_engine();
    if (comm->me == 0)
      utils::logmesg(lmp, "UMA: pair_style uma changed the precision, device, tf32 or deterministic setting: "
                     "model {} reloaded with the pair coefficients kept\n", model_path);
  }
  if (state->engine) {
    state->engine->set_edge_chunk(chunk_setting);
    state->engine->set_recompute(recompute_setting);
    state->engine->set_graph_max_edges(graphs_setting);
  }
}

/* ----------------------------------------------------------------------
   pair_coeff * * <model>.uma <element or NULL for each type>
------------------------------------------------------------------------- */

void PairUMA::coeff(int narg, char **arg)
{
  if (!allocated) allocate();
  const int ntypes = atom->ntypes;
  if (narg < 3 || strcmp(arg[0], "*") != 0 || strcmp(arg[1], "*") != 0)
    error->all(FLERR, "pair_coeff for uma: expected '* * <model>.uma' followed by one element "
               "symbol or NULL per atom type, e.g. pair_coeff * * potentials/uma-s-1p1.uma Cu O");
  if (narg - 3 != ntypes)
    error->all(FLERR, "pair_coeff for uma: expected {} element symbols or NULL (one per atom "
               "type) after the model file, got {}", ntypes, narg - 3);

  model_path = arg[2];
  load_engine();
  const uma::ModelInfo &info = state->engine->info();

  for (int itype = 1; itype <= ntypes; itype++) {
    const std::string symbol = arg[2 + itype];
    if (symbol == "NULL") {
      type_z[itype] = 0;
      continue;
    }
    const int z = symbol_to_z(symbol);
    if (z == 0)
      error->all(FLERR, "pair_coeff for uma: '{}' (LAMMPS type {}) is not an element symbol; "
                 "use a symbol such as Cu, or NULL for types UMA should ignore", symbol, itype);
    if (std::find(info.elements.begin(), info.elements.end(), z) == info.elements.end())
      error->all(FLERR, "pair_coeff for uma: element '{}' (LAMMPS type {}) is not in model {}; "
                 "use NULL for types UMA should ignore", symbol, itype, info.name);
    type_z[itype] = z;
  }

  // LAMMPS needs a pair style for every type: NULL types are for pair_style hybrid/overlay.
  if (force->pair == this)
    for (int itype = 1; itype <= ntypes; itype++)
      if (type_z[itype] == 0)
        error->all(FLERR, "pair_coeff for uma: type {} is NULL, but pair_style uma is used alone "
                   "and LAMMPS needs a pair style for every type; map it to an element, or use "
                   "pair_style hybrid/overlay with another style for it", itype);

  int count = 0;
  for (int i = 1; i <= ntypes; i++)
    for (int j = i; j <= ntypes; j++) {
      setflag[i][j] = (type_z[i] > 0 && type_z[j] > 0) ? 1 : 0;
      count += setflag[i][j];
    }
  if (count == 0)
    error->all(FLERR, "pair_coeff for uma: every type is NULL; map at least one type to an "
               "element of model {}", info.name);

  cutoff = info.cutoff;
  logged_model = false;
  logged_halo.clear();
  composition_known = false;
  warned_neighbors = false;
  logged_chunked = false;
  logged_recompute = uma::Recompute::none;
  resolve_system();
}

// The engine for model_path with the pair_style's options (pair_coeff, and pair_style given again).
void PairUMA::load_engine()
{
  uma::EngineOptions options;
  options.precision = fp64 ? uma::Precision::fp64 : uma::Precision::fp32;
  options.edge_chunk = chunk_setting;
  options.recompute = recompute_setting;
  options.graph_max_edges = graphs_setting;
  options.fp32_gemm = gemm_mode;
  options.deterministic = deterministic;
  // Ranks on one node (MPI_COMM_TYPE_SHARED) share its memory and GPUs.
  MPI_Comm node;
  int local_rank = 0, node_ranks = 1;
  MPI_Comm_split_type(world, MPI_COMM_TYPE_SHARED, comm->me, MPI_INFO_NULL, &node);
  MPI_Comm_rank(node, &local_rank);
  MPI_Comm_size(node, &node_ranks);
  if (use_cuda) {
    // One GPU per rank: ranks on one node take devices round-robin.
    const int ndevices = static_cast<int>(torch::cuda::device_count());
    options.device = torch::Device(
        torch::kCUDA,
        engine_cuda_device >= 0 ? engine_cuda_device : local_rank % std::max(ndevices, 1));
  }
  // Each rank sees the whole device's free memory; the ranks that evaluate on the same device (the
  // node's memory for the CPU, one GPU) split it, or together they would plan for several times what
  // there is (and be killed by the kernel on the CPU).
  const int my_device = options.device.is_cuda() ? options.device.index() : -1;
  std::vector<int> devices(node_ranks);
  MPI_Allgather(&my_device, 1, MPI_INT, devices.data(), 1, MPI_INT, node);
  MPI_Comm_free(&node);
  memory_sharing_ranks = static_cast<int>(std::count(devices.begin(), devices.end(), my_device));
  options.memory_share = uma::memory_share_of(memory_sharing_ranks);
  if (!options.device.is_cuda()) {
    if (deterministic)
      error->all(FLERR, "pair_style uma: 'deterministic yes' applies to a network on a GPU (device cuda, "
                 "or uma/kk on a CUDA Kokkos); on the CPU the sums are in a fixed order already: drop it");
    if (gemm_mode_set && gemm_mode != uma::Fp32Gemm::strict && comm->me == 0)
      error->warning(FLERR, "pair_style uma: 'tf32 {}' has no effect on the CPU (TF32 is a GPU "
                     "tensor-core format; the CPU computes fp32 exactly)", tf32_keyword(gemm_mode));
    if (recompute_setting > 0 && comm->me == 0)
      error->warning(FLERR, "pair_style uma: 'recompute {}' has no effect on the CPU (it applies to the fused "
                     "GPU kernels; use 'chunk' to bound the memory of a CPU run)",
                     uma::recompute_word(recompute_setting));
  }
  state->engine.reset();
  run_collectively(lmp, fmt::format("pair_coeff for uma: cannot load model '{}'", model_path),
                   [&] { state->engine.reset(new uma::Engine(model_path, options)); });
  cutoff = state->engine->info().cutoff;
  logged_model = false;
  logged_halo.clear();
  composition_known = false;
  logged_chunked = false;
  logged_recompute = uma::Recompute::none;
}

// Task, charge and spin from pair_style, defaulting to the model's tables; passed to the engine.
void PairUMA::resolve_system()
{
  const uma::ModelInfo &info = state->engine->info();
  std::string new_task = task_setting;
  if (new_task.empty()) {
    if (info.tasks.size() > 1)
      error->all(FLERR, "pair_style uma: model {} has several tasks ({}) and none was chosen; add "
                 "'task <name>' to pair_style, e.g. pair_style uma task {}", info.name,
                 join(info.tasks), info.tasks.front());
    if (!info.tasks.empty()) new_task = info.tasks.front();
  } else if (std::find(info.tasks.begin(), info.tasks.end(), new_task) == info.tasks.end()) {
    error->all(FLERR, "pair_style uma: task '{}' is not in model {}; choose one of: {}", new_task,
               info.name, join(info.tasks));
  }

  const int new_charge = charge_set ? charge_setting : task_default(info.default_charge, new_task);
  const int new_spin = spin_set ? spin_setting : task_default(info.default_spin, new_task);
  if (new_charge < info.charge_min || new_charge > info.charge_max)
    error->all(FLERR, "pair_style uma: charge {} is outside the range [{}, {}] of model {}; give "
               "the total charge of the system in units of e within that range", new_charge,
               info.charge_min, info.charge_max, info.name);
  if (new_spin < info.spin_min || new_spin > info.spin_max)
    error->all(FLERR, "pair_style uma: spin {} is outside the range [{}, {}] of model {}; give the "
               "spin multiplicity 2S+1 (1 = singlet, 2 = doublet) within that range", new_spin,
               info.spin_min, info.spin_max, info.name);

  if (new_task != task || new_charge != charge || new_spin != spin) composition_known = false;
  task = new_task;
  charge = new_charge;
  spin = new_spin;
  run_collectively(lmp, "pair_style uma: cannot set task/charge/spin",
                   [&] { state->engine->set_system(task, charge, spin); });
}


/* ---------------------------------------------------------------------- */

void PairUMA::init_style()
{
  if (!state->engine)
    error->all(FLERR, "pair_style uma: no model loaded; give 'pair_coeff * * <model>.uma "
               "<elements>' after pair_style uma (again after read_restart)");
  if (strcmp(update->unit_style, "metal") != 0)
    error->all(FLERR, "pair_style uma requires 'units metal' (eV, Å, ps), found 'units {}'; put "
               "'units metal' before the box is defined", update->unit_style);
  // Newton pair on: forces on ghost atoms (from edges to or among ghosts) are summed onto their
  // owners by LAMMPS's reverse communication; with newton off they would be dropped.
  if (force->newton_pair == 0)
    error->all(FLERR, "pair_style uma requires newton pair on; remove 'newton off' (or use "
               "'newton on') in the input; with Kokkos on a GPU, whose default is newton off, run "
               "with '-pk kokkos newton on neigh full'");
  // The model is three-dimensional: a 2-d run would evaluate a flat slab of 3-d atoms with the
  // forces' z components dropped by LAMMPS, a different system than the user meant.
  if (domain->dimension != 3)
    error->all(FLERR, "pair_style uma requires 'dimension 3' (UMA is a model of 3-d atomic systems), "
               "found dimension {}; remove 'dimension 2' from the input", domain->dimension);
  if (halo_setting == Halo::fold && comm->nprocs > 1)
    error->all(FLERR, "pair_style uma: 'halo fold' works on one MPI rank only, found {} ranks; use "
               "'halo auto' or 'halo shell'", comm->nprocs);
  // auto: the exchange on several ranks, CPU or GPU (exact like the shell, with ~1/30 of its ghost
  // volume; on GPUs validated against 1 GPU in fp64 on 2 H100s).
  if (halo_setting != Halo::automatic)
    halo_active = halo_setting;
  else
    halo_active = comm->nprocs == 1 ? Halo::fold : Halo::exchange;
  if (halo_active == Halo::fold && atom->tag_enable == 0)
    error->all(FLERR, "pair_style uma on one rank needs atom IDs to fold periodic images onto "
               "their owners; remove 'atom_modify id no' or use 'halo shell'");

  resolve_system();
  warn_about_charges();
  resolve_halo_comm();

  // Full list: every directed edge j->i is a separate message in UMA, so both i->j and j->i are
  // needed. Shell mode also needs the neighbours of ghost atoms, because ghosts are graph nodes
  // whose features feed the local atoms.
  const bool shell_active = halo_active == Halo::shell;
  ghostneigh = shell_active ? 1 : 0;
  uma_compat::request_full_neighbor_list(lmp, this, instance_me, shell_active);

  // Receptive field: the edge-degree embedding sums over neighbours before the first layer, then
  // each of the num_layers message-passing layers reaches one cutoff further (fairchem
  // eSCNMDBackbone.forward). Ghosts within (num_layers + 1) x cutoff make local energies exact.
  const uma::ModelInfo &info = state->engine->info();
  const int hops = info.receptive_field_hops;
  const double shell = hops * cutoff;
  if (shell_active) comm->cutghostuser = std::max(comm->cutghostuser, shell + neighbor->skin);
  // Halo exchange: one node feature array ((lmax+1)^2 coefficients x channels) per atom and direction.
  // fp32 engines exchange their float values packed two per double: half the bytes, still exact.
  state->halo_width = halo_active == Halo::exchange ? info.node_feature_width : 0;
  state->halo_fp32 = state->engine->options().precision == uma::Precision::fp32;
  comm_forward = comm_reverse = state->halo_slots();
  // Under pair_style hybrid/overlay, LAMMPS sizes its buffers from the hybrid style's sizes.
  uma_compat::raise_top_pair_comm_sizes(lmp, this);

  if (!logged_model) log_model();
  const std::string halo_message =
      halo_active == Halo::fold
          ? fmt::format("one MPI rank: ghost atoms fold onto their owners (periodic graph); ghost "
                        "cutoff {:g} Å + skin", cutoff)
      : halo_active == Halo::exchange
          ? fmt::format("halo exchange: ghost atoms within {:g} Å + skin take their owners' node "
                        "features after every layer ({} values per atom, {} exchanges per step and "
                        "as many in the backward pass; halo_comm {})", cutoff, state->halo_width,
                        info.num_layers, halo_comm_name(halo_comm_active))
          : fmt::format("ghost shell set to {:g} Å = ({} layers + 1 edge embedding) × {:g} Å; "
                        "communication cutoff {:g} Å (with skin)", shell, info.num_layers, cutoff,
                        comm->cutghostuser);
  if (halo_message != logged_halo && comm->me == 0)
    utils::logmesg(lmp, "UMA:   {}\n", halo_message);
  logged_halo = halo_message;
}

double PairUMA::init_one(int i, int j)
{
  // NULL types take no part: no neighbours needed for them.
  const double cut = (type_z[i] > 0 && type_z[j] > 0) ? cutoff : 0.0;
  cutghost[i][j] = cutghost[j][i] = cut;
  return cut;
}

std::string PairUMA::element_map_string() const
{
  std::string out;
  for (int t = 1; t <= atom->ntypes; t++)
    out += fmt::format("{}{} -> {}", t > 1 ? ", " : "", t,
                       type_z[t] ? fmt::format("{} (Z={})", element_name(type_z[t]), type_z[t])
                                 : std::string("NULL (ignored)"));
  return out;
}

// Element counts of this rank's local atoms -> the whole system's (MPI_Allreduce) -> the engine,
// which re-merges the experts only when the reduced composition changed; logged once per change.
bool PairUMA::merge_experts_for_global_composition(const int64_t *local_counts, int ncounts)
{
  state->counts.assign(ncounts, 0);
  MPI_Allreduce(local_counts, state->counts.data(), ncounts, MPI_INT64_T, MPI_SUM, world);
  // No atom of a mapped type anywhere (delete_atoms of everything, fix deposit into an empty box,
  // or only NULL types left under hybrid/overlay): LAMMPS allows an empty system, whose UMA energy
  // is 0. Every rank sees the same sums, so every rank skips the (collective) evaluation alike.
  int64_t total = 0;
  for (int z = 0; z < ncounts; z++) total += state->counts[z];
  if (total == 0) return false;
  bool merged = false;
  try {
    merged = state->engine->set_composition(state->counts);
  } catch (const std::exception &e) {
    error->one(FLERR, "pair_style uma: cannot merge the experts for this composition: {}",
               e.what());
  }
  if (merged && composition_known && comm->me == 0)
    utils::logmesg(lmp, "UMA: composition changed, experts re-merged\n");
  composition_known = true;
  return true;
}

uma::Engine *PairUMA::engine_handle() const
{
  return state->engine.get();
}

/* ----------------------------------------------------------------------
   Engine atoms and edges from the neighbor list. Engine atoms are the mapped local atoms in LAMMPS
   order, then (shell mode) the mapped ghosts. In fold mode a ghost is its owner's periodic image.
------------------------------------------------------------------------- */

void PairUMA::build_graph(Halo mode)
{
  const bool fold = mode == Halo::fold;
  PairUMAState &s = *state;
  const int nlocal = atom->nlocal;
  const int nall = nlocal + atom->nghost;
  const int *type = atom->type;
  double **x = atom->x;

  s.eng_of.assign(nall, -1);
  s.lmp_of.clear();
  s.z.clear();
  for (int i = 0; i < nlocal; i++) {
    if (type_z[type[i]] == 0) continue;
    s.eng_of[i] = static_cast<int>(s.lmp_of.size());
    s.lmp_of.push_back(i);
    s.z.push_back(type_z[type[i]]);
  }
  s.n_energy = static_cast<int64_t>(s.lmp_of.size());

  if (fold) {
    const tagint *tag = atom->tag;
    tagint maxtag = 0;
    for (int i = 0; i < nlocal; i++) maxtag = std::max(maxtag, tag[i]);
    s.owner_of_tag.assign(maxtag + 1, -1);
    for (int i = 0; i < nlocal; i++) s.owner_of_tag[tag[i]] = i;
    for (int j = nlocal; j < nall; j++) {
      const tagint t = tag[j];
      const int owner = (t >= 0 && t <= maxtag) ? s.owner_of_tag[t] : -1;
      if (owner < 0)
        error->one(FLERR, "pair_style uma: ghost atom ID {} has no owner on this rank; 'halo "
                   "fold' needs one MPI rank; use 'halo shell'", t);
      s.eng_of[j] = s.eng_of[owner];
    }
  } else {
    for (int j = nlocal; j < nall; j++) {
      if (type_z[type[j]] == 0) continue;
      s.eng_of[j] = static_cast<int>(s.lmp_of.size());
      s.lmp_of.push_back(j);
      s.z.push_back(type_z[type[j]]);
    }
  }

  // Every neighbour strictly inside the cutoff is an edge (smooth and conservative); fairchem's
  // max_neighbors cap would drop the farthest ones and make the energy discontinuous.
  const double cutsq_model = cutoff * cutoff;
  const int max_neighbors = state->engine->info().max_neighbors;
  // Shell mode: ghosts are centres too (their own edges feed the layers); fold and exchange: local only.
  const int ncentres = list->inum + (mode == Halo::shell ? list->gnum : 0);
  s.src.clear();
  s.dst.clear();
  s.vec.clear();
  for (int ii = 0; ii < ncentres; ii++) {
    const int i = list->ilist[ii];
    const int di = s.eng_of[i];
    if (di < 0) continue;
    const int *jlist = list->firstneigh[i];
    const int jnum = list->numneigh[i];
    int count = 0;
    for (int jj = 0; jj < jnum; jj++) {
      const int j = jlist[jj] & NEIGHMASK;
      const int sj = s.eng_of[j];
      if (sj < 0) continue;
      const double dx = x[j][0] - x[i][0];
      const double dy = x[j][1] - x[i][1];
      const double dz = x[j][2] - x[i][2];
      const double rsq = dx * dx + dy * dy + dz * dz;
      // A NaN distance stays in (the positions check in compute names the atom); a zero one is two
      // atoms at one position, for which the model has no direction: an input error.
      if (rsq >= cutsq_model) continue;
      if (rsq == 0.0) coincident_atoms(i, j);
      s.src.push_back(sj);
      s.dst.push_back(di);
      s.vec.push_back(dx);
      s.vec.push_back(dy);
      s.vec.push_back(dz);
      count++;
    }
    if (i < nlocal && max_neighbors > 0 && count > max_neighbors && !warned_neighbors) {
      warned_neighbors = true;
      error->warning(FLERR, "pair_style uma: atom ID {} has {} neighbours within {:g} Å, more "
                     "than the model's max_neighbors {}; UMA uses all of them, fairchem would "
                     "drop the farthest (results may differ from fairchem for dense systems)",
                     atom->tag[i], count, cutoff, max_neighbors);
    }
  }
}

/* ---------------------------------------------------------------------- */

void PairUMA::compute(int eflag, int vflag)
{
  ev_init(eflag, vflag);
  PairUMAState &s = *state;
  uma::Engine &engine = *s.engine;

  check_positions_finite();
  build_graph(halo_active);
  const int64_t natoms = static_cast<int64_t>(s.lmp_of.size());
  const int64_t nedges = static_cast<int64_t>(s.src.size());

  // MoLE composition is global: every rank merges the experts with the same element fractions.
  const uma::ModelInfo &info = engine.info();
  const int ncounts = info.max_num_elements;
  s.counts_local.assign(ncounts, 0);
  for (int64_t k = 0; k < s.n_energy; k++) s.counts_local[s.z[k]]++;
  if (!merge_experts_for_global_composition(s.counts_local.data(), ncounts)) return;

  // No local atoms: nothing of this rank's energy to evaluate, unless the halo exchange or the sums
  // over ranks (collective) need this rank's part in every exchange.
  const bool exchange = halo_active == Halo::exchange;
  uma::RankSum *ranks = rank_sum();
  if (s.n_energy == 0 && !exchange && !ranks) return;

  double **f = atom->f;
  try {
    const torch::Device device = engine.options().device;
    uma::EvalInput input;
    input.atomic_numbers = to_device(s.z, {natoms}, torch::kInt64, device);
    input.edge_src = to_device(s.src, {nedges}, torch::kInt64, device);
    input.edge_dst = to_device(s.dst, {nedges}, torch::kInt64, device);
    input.edge_vec = to_device(s.vec, {nedges, 3}, torch::kFloat64, device);
    input.n_energy_atoms = s.n_energy;
    if (exchange) input.halo = halo_exchange();
    input.rank_sum = ranks;
    uma::EvalRequest request;
    request.gradient = true;
    request.atom_energy = eflag_atom != 0;
    const uma::EvalOutput out = engine.evaluate(input, request);
    log_edge_chunks(out.edge_chunk, nedges);
    log_recompute(out.recomputed, nedges);
    log_graph(out.graph_edges);
    if (!out.finite) {
      const torch::Tensor g = out.edge_grad.to(torch::kCPU, torch::kFloat64).contiguous();
      torch::Tensor ae;
      if (out.atom_energy.defined()) ae = out.atom_energy.to(torch::kCPU, torch::kFloat64).contiguous();
      non_finite_output(out.energy, g.data_ptr<double>(), s.vec.data(), s.src.data(), s.dst.data(), nedges,
                        s.lmp_of.data(), ae.defined() ? ae.data_ptr<double>() : nullptr, s.n_energy);
    }

    const torch::Tensor forces =
        uma::forces_from_edge_grad(out.edge_grad, input.edge_src, input.edge_dst, natoms)
            .to(torch::kCPU, torch::kFloat64)
            .contiguous();
    const auto F = forces.accessor<double, 2>();
    for (int64_t k = 0; k < natoms; k++) {
      const int i = s.lmp_of[k];
      f[i][0] += F[k][0];
      f[i][1] += F[k][1];
      f[i][2] += F[k][2];
    }

    if (eflag_global) eng_vdwl += out.energy;
    if (eflag_atom) {
      const torch::Tensor ae = out.atom_energy.to(torch::kCPU, torch::kFloat64).contiguous();
      const auto E = ae.accessor<double, 1>();
      for (int64_t k = 0; k < s.n_energy; k++) eatom[s.lmp_of[k]] += E[k];
    }
    if (vflag_global) {
      const torch::Tensor w = uma::virial_from_edge_grad(input.edge_vec, out.edge_grad)
                                  .to(torch::kCPU, torch::kFloat64)
                                  .contiguous();
      const auto W = w.accessor<double, 2>();
      virial[0] += W[0][0];
      virial[1] += W[1][1];
      virial[2] += W[2][2];
      virial[3] += W[0][1];
      virial[4] += W[0][2];
      virial[5] += W[1][2];
    }
    if (vflag_atom && nedges > 0) {
      // Each edge's -d (x) g, half to each end; ghosts' shares are reverse-communicated
      // (newton on).
      const torch::Tensor g = out.edge_grad.to(torch::kCPU, torch::kFloat64).contiguous();
      const auto G = g.accessor<double, 2>();
      for (int64_t e = 0; e < nedges; e++) {
        const double *d = &s.vec[3 * e];
        const double v[6] = {-d[0] * G[e][0], -d[1] * G[e][1], -d[2] * G[e][2],
                             -d[0] * G[e][1], -d[0] * G[e][2], -d[1] * G[e][2]};
        const int a = s.lmp_of[s.src[e]], b = s.lmp_of[s.dst[e]];
        for (int c = 0; c < 6; c++) {
          vatom[a][c] += 0.5 * v[c];
          vatom[b][c] += 0.5 * v[c];
        }
      }
    }
  } catch (const c10::Error &e) {
    // Torch's what() appends a C++ backtrace; the first part is the message.
    evaluation_failed(natoms, nedges, e.what_without_backtrace());
  } catch (const std::exception &e) {
    evaluation_failed(natoms, nedges, e.what());
  }
}
