/* ----------------------------------------------------------------------
   pair_style uma/kk: definitions (instantiated in pair_uma_kokkos.cpp).

   Data flow of one step, all in DeviceType's memory:
     Kokkos full neighbor list -> [build_edges] cutoff filter and per-centre counts, prefix sum,
     fill d_src, d_dst, d_vec -> uma::DeviceEvaluator (torch::from_blob on the same buffers, on
     DeviceType's CUDA stream) -> dE/d(edge vector) -> [scatter_results] atomics into f, d_eatom,
     d_vatom; global virial by a parallel reduction.
   Host <-> device traffic per step: the edge count (the total of the prefix sum, needed to size the
   engine's tensors) and, on steps that need them, the total energy and the six virial sums. The
   atom map and the element counts are refreshed only when atoms were re-sorted or exchanged.
   With 'halo exchange' (several ranks) the node features of ghost atoms travel through the host
   after every layer (src/pair_uma_halo.cpp, LAMMPS's host pair communication): per exchange the
   owners' rows go to pinned host memory and the ghosts' rows come back (the reverse in the backward
   pass); the engine-to-LAMMPS atom map is copied to the host once per reneighboring.
   Per-atom energies and virials are synced to the host on the steps that ask for them, as every
   LAMMPS Kokkos pair style does (computes such as pe/atom read pair->eatom on the host).
------------------------------------------------------------------------- */

#include "pair_uma_kokkos.h"

#include "atom_kokkos.h"
#include "atom_masks.h"
#include "comm.h"
#include "error.h"
#include "force.h"
#include "kokkos.h"
#include "kokkos_compat.h"
#include "memory_kokkos.h"
#include "neigh_list_kokkos.h"
#include "neighbor.h"
#include "update.h"

#include "engine/io/device_evaluator.h"

#include <mpi.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

namespace LAMMPS_NS {

template <class DeviceType>
PairUMAKokkos<DeviceType>::PairUMAKokkos(LAMMPS *lmp) :
    PairUMA(lmp), evaluator_engine(nullptr), n_atoms(0), n_energy(0), n_edges(0),
    mapped_nlocal(-1), mapped_nall(-1), map_stale(true), cuda_device(-1)
{
  if (lmp->kokkos == nullptr)
    error->all(FLERR, "pair_style uma/kk needs the KOKKOS package enabled; run LAMMPS with "
               "'-k on' (and '-sf kk'), or use pair_style uma");
  kokkosable = 1;
  atomKK = (AtomKokkos *) atom;
  execution_space = ExecutionSpaceFromDevice<DeviceType>::space;
  datamask_read = X_MASK | F_MASK | TYPE_MASK | TAG_MASK | ENERGY_MASK | VIRIAL_MASK;
  datamask_modify = F_MASK | ENERGY_MASK | VIRIAL_MASK;
  cuda_device = uma_compat::cuda_device_of<DeviceType>();
  // With 'device cuda' the engine must run on the GPU that holds the Kokkos views.
  if (cuda_device >= 0) engine_cuda_device = cuda_device;
}

template <class DeviceType>
PairUMAKokkos<DeviceType>::~PairUMAKokkos()
{
  if (copymode) return;
  memoryKK->destroy_kokkos(k_eatom, eatom);
  memoryKK->destroy_kokkos(k_vatom, vatom);
  eatom = nullptr;
  vatom = nullptr;
}

/* ----------------------------------------------------------------------
   Same keywords as pair_style uma. On a GPU build the device variant runs the engine on the GPU
   that holds the Kokkos views unless 'device cpu' is given (then inputs and outputs are copied).
------------------------------------------------------------------------- */

template <class DeviceType>
void PairUMAKokkos<DeviceType>::settings(int narg, char **arg)
{
  std::vector<char *> args(arg, arg + narg);
  bool device_given = false;
  for (int iarg = 0; iarg < narg; iarg += 2)
    if (strcmp(arg[iarg], "device") == 0) device_given = true;
  static char device_key[] = "device", device_cuda[] = "cuda";
  if (cuda_device >= 0 && !device_given) {
    args.push_back(device_key);
    args.push_back(device_cuda);
  }
  PairUMA::settings(static_cast<int>(args.size()), args.data());
  map_stale = true;
}

template <class DeviceType>
void PairUMAKokkos<DeviceType>::init_style()
{
  PairUMA::init_style();

  // PairUMA::init_style asked for a full list (with ghost neighbours in shell mode); build it with
  // Kokkos in DeviceType's memory, whatever 'package kokkos neigh' says: every directed edge is a
  // separate message in UMA.
  uma_compat::mark_kokkos_request<DeviceType>(neighbor);

  uma::Engine *engine = engine_handle();
  if (!evaluator || evaluator_engine != engine) {
    evaluator.reset(new uma::DeviceEvaluator(*engine));
    evaluator_engine = engine;
  }
  if (cuda_device >= 0 && evaluator->engine_device() >= 0 &&
      evaluator->engine_device() != cuda_device)
    error->all(FLERR, "pair_style uma/kk: the model is on GPU {} but Kokkos uses GPU {}; give "
               "pair_coeff again after pair_style", evaluator->engine_device(), cuda_device);

  const int ntypes = atom->ntypes;
  d_type_z = t_int_1d("PairUMAKokkos::type_z", ntypes + 1);
  auto h_type_z = Kokkos::create_mirror_view(d_type_z);
  for (int t = 0; t <= ntypes; t++) h_type_z(t) = type_z[t];
  Kokkos::deep_copy(d_type_z, h_type_z);

  map_stale = true;    // types, task, charge or spin may have changed since the last run
}

/* ----------------------------------------------------------------------
   Grows a view to at least n entries with 25% headroom, never shrinking. Allocation failures end
   in one ERROR line naming the buffer and its size.
------------------------------------------------------------------------- */

template <class DeviceType>
template <class View>
void PairUMAKokkos<DeviceType>::grow(View &view, int64_t n, const char *what)
{
  if (static_cast<int64_t>(view.extent(0)) >= n) return;
  const int64_t capacity = std::max<int64_t>(n + n / 4, 64);
  const double mib = static_cast<double>(capacity) * sizeof(typename View::value_type) *
      (View::rank == 2 ? 3 : 1) / (1024.0 * 1024.0);
  try {
    view = View();    // free first: the old contents are not needed
    view = View(Kokkos::ViewAllocateWithoutInitializing(std::string("PairUMAKokkos::") + what),
                capacity);
  } catch (const std::exception &e) {
    error->one(FLERR, "pair_style uma/kk: cannot allocate {} for {} entries ({:.1f} MiB) in {} "
               "memory: {}", what, capacity, mib, cuda_device >= 0 ? "GPU" : "host", e.what());
  }
}

/* ----------------------------------------------------------------------
   Numbers the mapped atoms of [begin, end) in LAMMPS order from `first`; returns the next number.
------------------------------------------------------------------------- */

template <class DeviceType>
int64_t PairUMAKokkos<DeviceType>::number_atoms(int begin, int end, int64_t first)
{
  auto l_type = type;
  auto l_type_z = d_type_z;
  auto l_eng_of = d_eng_of;
  auto l_lmp_of = d_lmp_of;
  auto l_z = d_z;
  int64_t count = 0;
  Kokkos::parallel_scan(
      "PairUMAKokkos::map_atoms", Kokkos::RangePolicy<DeviceType>(begin, end),
      KOKKOS_LAMBDA(const int i, int64_t &offset, const bool final) {
        const int zi = l_type_z(l_type(i));
        if (final) {
          l_eng_of(i) = zi > 0 ? static_cast<int>(first + offset) : -1;
          if (zi > 0) {
            l_lmp_of(first + offset) = i;
            l_z(first + offset) = zi;
          }
        }
        if (zi > 0) offset += 1;
      },
      count);
  return first + count;
}

template <class DeviceType>
void PairUMAKokkos<DeviceType>::map_atoms(bool fold)
{
  const int nlocal = atom->nlocal;
  const int nall = nlocal + atom->nghost;
  grow(d_eng_of, nall, "eng_of");
  grow(d_lmp_of, nall, "lmp_of");
  grow(d_z, nall, "z");
  auto l_tag = tag;
  auto l_eng_of = d_eng_of;

  n_energy = number_atoms(0, nlocal, 0);

  if (!fold) {
    n_atoms = number_atoms(nlocal, nall, n_energy);
  } else {
    // Ghosts are periodic images: each points to its owner's engine atom.
    n_atoms = n_energy;
    tagint maxtag = 0;
    Kokkos::parallel_reduce(
        "PairUMAKokkos::max_tag", Kokkos::RangePolicy<DeviceType>(0, nlocal),
        KOKKOS_LAMBDA(const int i, tagint &m) {
          if (l_tag(i) > m) m = l_tag(i);
        },
        Kokkos::Max<tagint>(maxtag));
    grow(d_owner_of_tag, static_cast<int64_t>(maxtag) + 1, "owner_of_tag");
    auto l_owner = d_owner_of_tag;
    Kokkos::deep_copy(l_owner, -1);
    Kokkos::parallel_for(
        "PairUMAKokkos::owner_of_tag", Kokkos::RangePolicy<DeviceType>(0, nlocal),
        KOKKOS_LAMBDA(const int i) { l_owner(l_tag(i)) = i; });
    tagint orphan = 0;    // an atom ID + 1 of a ghost without owner, 0 = none
    Kokkos::parallel_reduce(
        "PairUMAKokkos::fold_ghosts", Kokkos::RangePolicy<DeviceType>(nlocal, nall),
        KOKKOS_LAMBDA(const int j, tagint &bad) {
          const tagint t = l_tag(j);
          const int owner = (t >= 0 && t <= maxtag) ? l_owner(t) : -1;
          l_eng_of(j) = owner >= 0 ? l_eng_of(owner) : -1;
          if (owner < 0 && t + 1 > bad) bad = t + 1;
        },
        Kokkos::Max<tagint>(orphan));
    if (orphan > 0)
      error->one(FLERR, "pair_style uma: ghost atom ID {} has no owner on this rank; 'halo "
                 "fold' needs one MPI rank; use 'halo shell'", orphan - 1);
  }
  mapped_nlocal = nlocal;
  mapped_nall = nall;

  if (halo_active == Halo::exchange) {
    // The exchange stages node features through the host in LAMMPS order; once per reneighboring.
    auto h_lmp_of = Kokkos::create_mirror_view_and_copy(
        Kokkos::HostSpace(), Kokkos::subview(d_lmp_of, std::make_pair(int64_t(0), n_atoms)));
    set_halo_atom_map(h_lmp_of.data(), n_atoms, n_energy);
  }
}

/* ----------------------------------------------------------------------
   MoLE composition is global: every rank merges the experts with the same element fractions.
------------------------------------------------------------------------- */

template <class DeviceType>
void PairUMAKokkos<DeviceType>::update_composition()
{
  const int ncounts = evaluator->max_num_elements();
  grow(d_counts, ncounts, "counts");
  auto l_counts = d_counts;
  auto l_z = d_z;
  Kokkos::deep_copy(l_counts, 0);
  Kokkos::parallel_for(
      "PairUMAKokkos::count_elements", Kokkos::RangePolicy<DeviceType>(0, n_energy),
      KOKKOS_LAMBDA(const int k) { Kokkos::atomic_increment(&l_counts(l_z(k))); });
  auto h_counts = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), l_counts);
  system_empty = !this->merge_experts_for_global_composition(h_counts.data(), ncounts);
}

/* ----------------------------------------------------------------------
   Every neighbour strictly inside the cutoff is an edge (see PairUMA::build_graph). Edges keep the
   neighbor list's order: centre by centre, neighbours in list order.
------------------------------------------------------------------------- */

template <class DeviceType>
void PairUMAKokkos<DeviceType>::build_edges(bool ghost_centres)
{
  auto *k_list = static_cast<NeighListKokkos<DeviceType> *>(list);
  const int ncentres = list->inum + (ghost_centres ? list->gnum : 0);
  auto d_ilist = k_list->d_ilist;
  auto d_numneigh = k_list->d_numneigh;
  auto d_neighbors = k_list->d_neighbors;
  auto l_x = x;
  auto l_eng_of = d_eng_of;
  const double cutsq_model = cutoff * cutoff;

  grow(d_ncut, ncentres, "edge_counts");
  grow(d_offset, ncentres, "edge_offsets");
  auto l_ncut = d_ncut;
  auto l_offset = d_offset;
  Kokkos::parallel_for(
      "PairUMAKokkos::count_edges", Kokkos::RangePolicy<DeviceType>(0, ncentres),
      KOKKOS_LAMBDA(const int ii) {
        const int i = d_ilist(ii);
        int count = 0;
        if (l_eng_of(i) >= 0) {
          const int jnum = d_numneigh(i);
          for (int jj = 0; jj < jnum; jj++) {
            const int j = d_neighbors(i, jj) & NEIGHMASK;
            if (l_eng_of(j) < 0) continue;
            const double dx = l_x(j, 0) - l_x(i, 0);
            const double dy = l_x(j, 1) - l_x(i, 1);
            const double dz = l_x(j, 2) - l_x(i, 2);
            const double rsq = dx * dx + dy * dy + dz * dz;
            if (!(rsq >= cutsq_model)) count++;    // as the fill below, NaN included
          }
        }
        l_ncut(ii) = count;
      });
  int64_t total = 0;
  Kokkos::parallel_scan(
      "PairUMAKokkos::edge_offsets", Kokkos::RangePolicy<DeviceType>(0, ncentres),
      KOKKOS_LAMBDA(const int ii, int64_t &offset, const bool final) {
        if (final) l_offset(ii) = offset;
        offset += l_ncut(ii);
      },
      total);
  n_edges = total;

  const int max_neighbors = evaluator->max_neighbors();
  if (max_neighbors > 0 && !warned_neighbors) {
    // First local centre with more edges than fairchem's cap, as ilist index; inum = none.
    const int inum = list->inum;
    int first = inum;
    Kokkos::parallel_reduce(
        "PairUMAKokkos::max_neighbors", Kokkos::RangePolicy<DeviceType>(0, inum),
        KOKKOS_LAMBDA(const int ii, int &m) {
          if (l_ncut(ii) > max_neighbors && ii < m) m = ii;
        },
        Kokkos::Min<int>(first));
    if (first < inum) {
      warned_neighbors = true;
      int count = 0, i = 0;
      tagint id = 0;
      Kokkos::deep_copy(count, Kokkos::subview(l_ncut, first));
      Kokkos::deep_copy(i, Kokkos::subview(d_ilist, first));
      Kokkos::deep_copy(id, Kokkos::subview(tag, i));
      error->warning(FLERR, "pair_style uma: atom ID {} has {} neighbours within {:g} Å, more "
                     "than the model's max_neighbors {}; UMA uses all of them, fairchem would "
                     "drop the farthest (results may differ from fairchem for dense systems)",
                     id, count, cutoff, max_neighbors);
    }
  }

  grow(d_src, n_edges, "edge_src");
  grow(d_dst, n_edges, "edge_dst");
  grow(d_vec, n_edges, "edge_vec");
  auto l_src = d_src;
  auto l_dst = d_dst;
  auto l_vec = d_vec;
  Kokkos::parallel_for(
      "PairUMAKokkos::build_edges", Kokkos::RangePolicy<DeviceType>(0, ncentres),
      KOKKOS_LAMBDA(const int ii) {
        const int i = d_ilist(ii);
        const int di = l_eng_of(i);
        if (di < 0) return;
        int64_t e = l_offset(ii);
        const int jnum = d_numneigh(i);
        for (int jj = 0; jj < jnum; jj++) {
          const int j = d_neighbors(i, jj) & NEIGHMASK;
          const int sj = l_eng_of(j);
          if (sj < 0) continue;
          const double dx = l_x(j, 0) - l_x(i, 0);
          const double dy = l_x(j, 1) - l_x(i, 1);
          const double dz = l_x(j, 2) - l_x(i, 2);
          const double rsq = dx * dx + dy * dy + dz * dz;
          // Zero and NaN distances stay in: the model's output turns non-finite and
          // report_non_finite names the atoms (no check, and no synchronisation, on the good path).
          if (rsq >= cutsq_model) continue;
          l_src(e) = sj;
          l_dst(e) = di;
          l_vec(e, 0) = dx;
          l_vec(e, 1) = dy;
          l_vec(e, 2) = dz;
          e++;
        }
      });
}

/* ----------------------------------------------------------------------
   Edge e contributes -g to its neighbour, +g to its centre (g = dE/d edge_vec), and -d (x) g to
   the virial, half to each end for per-atom virials; ghosts' shares are reverse-communicated
   (newton on). Per-atom energies of the local engine atoms go to their LAMMPS atoms.
------------------------------------------------------------------------- */

template <class DeviceType>
void PairUMAKokkos<DeviceType>::scatter_results(const double *edge_grad, const double *atom_energy)
{
  typedef Kokkos::View<const double *[3], Kokkos::LayoutRight, DeviceType,
                       Kokkos::MemoryTraits<Kokkos::Unmanaged>>
      t_grad;
  const t_grad g(edge_grad, n_edges);
  auto l_src = d_src;
  auto l_dst = d_dst;
  auto l_vec = d_vec;
  auto l_lmp_of = d_lmp_of;
  auto l_f = f;

  Kokkos::parallel_for(
      "PairUMAKokkos::scatter_forces", Kokkos::RangePolicy<DeviceType>(0, n_edges),
      KOKKOS_LAMBDA(const int64_t e) {
        const int a = l_lmp_of(l_src(e)), b = l_lmp_of(l_dst(e));
        for (int c = 0; c < 3; c++) {
          Kokkos::atomic_add(&l_f(a, c), -g(e, c));
          Kokkos::atomic_add(&l_f(b, c), g(e, c));
        }
      });

  if (vflag_global) {
    EV_FLOAT ev;
    Kokkos::parallel_reduce(
        "PairUMAKokkos::virial", Kokkos::RangePolicy<DeviceType>(0, n_edges),
        KOKKOS_LAMBDA(const int64_t e, EV_FLOAT &acc) {
          acc.v[0] -= l_vec(e, 0) * g(e, 0);
          acc.v[1] -= l_vec(e, 1) * g(e, 1);
          acc.v[2] -= l_vec(e, 2) * g(e, 2);
          acc.v[3] -= l_vec(e, 0) * g(e, 1);
          acc.v[4] -= l_vec(e, 0) * g(e, 2);
          acc.v[5] -= l_vec(e, 1) * g(e, 2);
        },
        ev);
    for (int c = 0; c < 6; c++) virial[c] += ev.v[c];
  }

  if (vflag_atom) {
    auto l_vatom = d_vatom;
    Kokkos::parallel_for(
        "PairUMAKokkos::scatter_vatom", Kokkos::RangePolicy<DeviceType>(0, n_edges),
        KOKKOS_LAMBDA(const int64_t e) {
          const double v[6] = {-l_vec(e, 0) * g(e, 0), -l_vec(e, 1) * g(e, 1),
                               -l_vec(e, 2) * g(e, 2), -l_vec(e, 0) * g(e, 1),
                               -l_vec(e, 0) * g(e, 2), -l_vec(e, 1) * g(e, 2)};
          const int a = l_lmp_of(l_src(e)), b = l_lmp_of(l_dst(e));
          for (int c = 0; c < 6; c++) {
            Kokkos::atomic_add(&l_vatom(a, c), 0.5 * v[c]);
            Kokkos::atomic_add(&l_vatom(b, c), 0.5 * v[c]);
          }
        });
  }

  if (eflag_atom && atom_energy) {
    typedef Kokkos::View<const double *, DeviceType, Kokkos::MemoryTraits<Kokkos::Unmanaged>>
        t_energy;
    const t_energy ae(atom_energy, n_energy);
    auto l_eatom = d_eatom;
    Kokkos::parallel_for(
        "PairUMAKokkos::scatter_eatom", Kokkos::RangePolicy<DeviceType>(0, n_energy),
        KOKKOS_LAMBDA(const int k) { l_eatom(l_lmp_of(k)) += ae(k); });
  }
}

/* ----------------------------------------------------------------------
   A non-finite evaluation (rare): graph and results to the host for PairUMA::non_finite_output.
------------------------------------------------------------------------- */

template <class DeviceType>
void PairUMAKokkos<DeviceType>::report_non_finite(const uma::DeviceResult &result)
{
  atomKK->sync(Host, X_MASK | TAG_MASK | TYPE_MASK);
  typedef Kokkos::View<double *, DeviceType, Kokkos::MemoryTraits<Kokkos::Unmanaged>> t_raw;
  auto host = [](auto view) { return Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), view); };
  auto h_src = host(d_src);
  auto h_dst = host(d_dst);
  auto h_vec = host(d_vec);
  auto h_lmp_of = host(d_lmp_of);
  std::vector<double> grad(3 * n_edges), energies;
  if (n_edges > 0)
    Kokkos::deep_copy(Kokkos::View<double *, Kokkos::HostSpace>(grad.data(), grad.size()),
                      t_raw(const_cast<double *>(result.edge_grad), grad.size()));
  if (result.atom_energy && n_atoms > 0) {
    energies.resize(n_atoms);
    Kokkos::deep_copy(Kokkos::View<double *, Kokkos::HostSpace>(energies.data(), energies.size()),
                      t_raw(const_cast<double *>(result.atom_energy), energies.size()));
  }
  non_finite_output(result.energy, grad.data(), h_vec.data(), h_src.data(), h_dst.data(), n_edges,
                    h_lmp_of.data(), energies.empty() ? nullptr : energies.data(), n_energy);
}

/* ---------------------------------------------------------------------- */

template <class DeviceType>
void PairUMAKokkos<DeviceType>::compute(int eflag, int vflag)
{
  ev_init(eflag, vflag, 0);

  // Per-atom arrays: grown (never per step) and zeroed on the device on the steps that need them.
  if (eflag_atom) {
    if (static_cast<int>(k_eatom.extent(0)) < maxeatom) {
      memoryKK->destroy_kokkos(k_eatom, eatom);
      memoryKK->create_kokkos(k_eatom, eatom, maxeatom, "pair:eatom");
    }
    d_eatom = k_eatom.view<DeviceType>();
    Kokkos::deep_copy(d_eatom, 0.0);
  }
  if (vflag_atom) {
    if (static_cast<int>(k_vatom.extent(0)) < maxvatom) {
      memoryKK->destroy_kokkos(k_vatom, vatom);
      memoryKK->create_kokkos(k_vatom, vatom, maxvatom, "pair:vatom");
    }
    d_vatom = k_vatom.view<DeviceType>();
    Kokkos::deep_copy(d_vatom, 0.0);
  }

  atomKK->sync(execution_space, datamask_read);
  if (eflag || vflag)
    atomKK->modified(execution_space, datamask_modify);
  else
    atomKK->modified(execution_space, F_MASK);
  x = atomKK->k_x.view<DeviceType>();
  f = atomKK->k_f.view<DeviceType>();
  type = atomKK->k_type.view<DeviceType>();
  tag = atomKK->k_tag.view<DeviceType>();

  // The atom map changes only when atoms are re-sorted or exchanged, which happens only on
  // reneighboring steps (neighbor->ago == 0), and types only between runs (init_style) or with a
  // reneighboring (fix atom/swap).
  const int nlocal = atom->nlocal, nall = nlocal + atom->nghost;
  if (map_stale || neighbor->ago == 0 || nlocal != mapped_nlocal || nall != mapped_nall) {
    map_atoms(halo_active == Halo::fold);
    update_composition();
    map_stale = false;
  }

  // A rank without local atoms has no energy to evaluate, but in exchange mode, or with sums over
  // ranks, it must take part in every (collective) exchange of the evaluation.
  const bool exchange = halo_active == Halo::exchange;
  uma::RankSum *ranks = rank_sum();  // charge-balanced models on several ranks: collective sums
  if (!system_empty && (n_energy > 0 || exchange || ranks)) {
    build_edges(halo_active == Halo::shell);
    uma::DeviceBatch batch;
    batch.atomic_numbers = d_z.data();
    batch.edge_src = d_src.data();
    batch.edge_dst = d_dst.data();
    batch.edge_vec = d_vec.data();
    batch.n_atoms = n_atoms;
    batch.n_energy_atoms = n_energy;
    batch.n_edges = n_edges;
    batch.memory_device = cuda_device;
    batch.cuda_stream = uma_compat::cuda_stream_of<DeviceType>();
    batch.halo = exchange ? halo_exchange() : nullptr;
    batch.rank_sum = ranks;
    uma::DeviceResult result;
    // The energy read is also the finite-output check: every step in host memory (no cost), on a
    // GPU only on the steps that read the energy anyway (no extra synchronisation).
    const bool want_energy = eflag_global != 0 || cuda_device < 0;
    try {
      result = evaluator->evaluate(batch, want_energy, eflag_atom != 0);
    } catch (const std::exception &e) {
      evaluation_failed(n_atoms, n_edges, e.what());
    }
    log_edge_chunks(result.edge_chunk, n_edges);
    log_recompute(result.recomputed, n_edges);
    log_graph(result.graph_edges);
    if (!result.finite) report_non_finite(result);
    if (eflag_global) eng_vdwl += result.energy;
    scatter_results(result.edge_grad, result.atom_energy);
  }

  if (eflag_atom) {
    k_eatom.template modify<DeviceType>();
    k_eatom.template sync<LMPHostType>();
  }
  if (vflag_atom) {
    k_vatom.template modify<DeviceType>();
    k_vatom.template sync<LMPHostType>();
  }
}

}    // namespace LAMMPS_NS
