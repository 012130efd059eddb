/* ----------------------------------------------------------------------
   pair_style uma, 'halo exchange' (doc/pair_uma.rst): on several MPI ranks, ghost atoms within one
   cutoff are graph nodes without edges; the engine asks, after every node update, for their rows
   to be copied from their owners (forward) and, in the backward pass, for their gradients to be
   summed into the owners (reverse). With halo_comm lammps both go through LAMMPS's pair
   communication of this style (pack/unpack_*_comm below), staged in host memory; halo_comm mpi and
   nccl send rows owner to ghost directly (pair_uma_exchange.cpp, src/halo/). Used by uma and uma/kk.
   Also the sums over ranks of a model's global per-layer reductions (uma::RankSum: the charge
   balance of UMA-S 1.2.x), in every halo mode on several ranks.
------------------------------------------------------------------------- */

#include "pair_uma.h"
#include "pair_uma_state.h"

#include "atom.h"
#include "comm.h"
#include "error.h"
#include "lammps_compat.h"

#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <thread>

using namespace LAMMPS_NS;

// One HaloByComm per style instance. A row of K node-feature values per LAMMPS atom lives in
// state->halo_buf as halo_slots doubles: K doubles with an fp64 engine, K floats packed two per double
// with an fp32 one (the engine's own values, so the exchange is exact either way and fp32 sends half
// the bytes through LAMMPS's double-typed communication buffers).
namespace LAMMPS_NS {
class HaloByComm : public uma::HaloExchange {
 public:
  // UMA_HALO_TRACE=1 in the environment: one stderr line per exchange and rank with the time spent
  // copying to the host, communicating and copying back (diagnostics of multi-rank performance).
  explicit HaloByComm(PairUMA *pair) : pair(pair), trace(std::getenv("UMA_HALO_TRACE") != nullptr) {}
  void forward(torch::Tensor &x) override { exchange(x, false); }
  void reverse(torch::Tensor &g) override { exchange(g, true); }

 private:
  PairUMA *pair;
  bool trace;

  torch::Tensor staging;    // host rows in the engine's dtype, pinned when the engine is on a GPU; reused
  bool staging_pinned = false;

  // Host rows [rows, K] from the reused staging buffer. Pinned memory makes the copies from and to the
  // GPU direct DMA instead of staged pageable copies.
  torch::Tensor host_rows(int64_t rows, int K, torch::ScalarType dtype, bool pinned)
  {
    if (!staging.defined() || staging.size(0) < rows || staging_pinned != pinned ||
        staging.scalar_type() != dtype) {
      staging = torch::empty({std::max<int64_t>(rows + rows / 4, 64), K},
                             torch::dtype(dtype).pinned_memory(pinned));
      staging_pinned = pinned;
    }
    return staging.narrow(0, 0, rows);
  }

  void exchange(torch::Tensor &rows, bool reverse)
  {
    const double t0 = MPI_Wtime();
    PairUMAState &s = *pair->state;
    const int K = s.halo_width;
    const int64_t n = static_cast<int64_t>(s.lmp_of.size());
    const torch::ScalarType dtype = s.halo_fp32 ? torch::kFloat32 : torch::kFloat64;
    if (rows.dim() != 2 || rows.size(0) != n || rows.size(1) != K || rows.scalar_type() != dtype)
      pair->error->one(FLERR, "pair_style uma: halo exchange of [{}, {}] {} node rows, expected [{}, {}] {}",
                       rows.size(0), rows.size(1), c10::toString(rows.scalar_type()), n, K,
                       c10::toString(dtype));
    // Only the rows that travel cross to the host: forward, the owners' rows out and the ghosts' in;
    // reverse, the ghosts' gradients out and the owners' sums in.
    const int64_t nl = s.n_energy, ng = n - nl;
    torch::Tensor owners = rows.narrow(0, 0, nl), ghosts = rows.narrow(0, nl, ng);
    torch::Tensor h = host_rows(reverse ? ng : nl, K, dtype, rows.is_cuda());
    h.copy_(reverse ? ghosts : owners);
    const double t1 = MPI_Wtime();
    const size_t row_bytes = static_cast<size_t>(K) * c10::elementSize(dtype);
    const size_t slot_bytes = static_cast<size_t>(s.halo_slots()) * sizeof(double);
    const int nall = pair->atom->nlocal + pair->atom->nghost;
    if (reverse)
      s.halo_buf.assign(static_cast<size_t>(nall) * s.halo_slots(), 0.0);    // owners accumulate
    else
      s.halo_buf.resize(static_cast<size_t>(nall) * s.halo_slots());         // every row used is written
    char *buf = reinterpret_cast<char *>(s.halo_buf.data());
    const char *hp = static_cast<const char *>(h.data_ptr());
    const int *lmp_of = s.lmp_of.data();
    // Engine rows [first, first + count) <-> LAMMPS rows lmp_of[first + k] of halo_buf.
    auto to_buf = [&](int64_t first, int64_t count) {
      for (int64_t k = 0; k < count; k++)
        std::memcpy(buf + size_t(lmp_of[first + k]) * slot_bytes, hp + size_t(k) * row_bytes, row_bytes);
    };
    auto from_buf = [&](torch::Tensor &to, int64_t first, int64_t count) {
      char *tp = static_cast<char *>(to.data_ptr());
      for (int64_t k = 0; k < count; k++)
        std::memcpy(tp + size_t(k) * row_bytes, buf + size_t(lmp_of[first + k]) * slot_bytes, row_bytes);
    };
    torch::Tensor back;
    if (!reverse) {
      to_buf(0, nl);
      pair->forward_comm_on_host();
      back = host_rows(ng, K, dtype, rows.is_cuda());
      from_buf(back, nl, ng);
    } else {
      to_buf(nl, ng);
      uma_compat::reverse_comm_pair(pair->comm, pair);
      back = host_rows(nl, K, dtype, rows.is_cuda());
      from_buf(back, 0, nl);
    }
    const double t2 = MPI_Wtime();
    if (!reverse) {
      ghosts.copy_(back);
    } else {
      owners.add_(back.to(rows.device()));
      ghosts.zero_();
    }
    if (trace) {
      const double t3 = MPI_Wtime();
      fprintf(stderr, "[uma halo] %.3f rank %d %s rows %lld (local %lld) x %d %s: to host %.1f ms, "
              "communication %.1f ms, back %.1f ms, thread %zx\n", t0, pair->comm->me,
              reverse ? "reverse" : "forward", static_cast<long long>(n),
              static_cast<long long>(s.n_energy), K, c10::toString(dtype), 1e3 * (t1 - t0),
              1e3 * (t2 - t1), 1e3 * (t3 - t2), std::hash<std::thread::id>()(std::this_thread::get_id()));
    }
  }
};
}    // namespace LAMMPS_NS

void PairUMA::forward_comm_on_host()
{
  // Through the host buffer: CommKokkos would send a Kokkos pair style (uma/kk) down its device
  // path, which packs with pack_forward_comm_kokkos; the host path uses pack_forward_comm for both
  // styles (the reverse path is host-only in LAMMPS anyway).
  const ExecutionSpace space = execution_space;
  execution_space = Host;
  uma_compat::forward_comm_pair(comm, this);
  execution_space = space;
}

// Forward and reverse communication move halo_slots raw doubles per atom (forward: 2 while the owners of
// ghosts are learned, pair_uma_exchange.cpp); only the reverse sum needs
// the values' type. Node features are invariant under the periodic shift of an image: no pbc correction.
int PairUMA::pack_forward_comm(int n, int *list, double *buf, int /*pbc_flag*/, int * /*pbc*/)
{
  const int W = state->comm_slots();
  const double *from = state->halo_buf.data();
  for (int i = 0; i < n; i++) std::copy_n(from + size_t(list[i]) * W, W, buf + size_t(i) * W);
  return n * W;
}

void PairUMA::unpack_forward_comm(int n, int first, double *buf)
{
  const int W = state->comm_slots();
  std::copy_n(buf, size_t(n) * W, state->halo_buf.data() + size_t(first) * W);
}

int PairUMA::pack_reverse_comm(int n, int first, double *buf)
{
  const int W = state->halo_slots();
  std::copy_n(state->halo_buf.data() + size_t(first) * W, size_t(n) * W, buf);
  return n * W;
}

namespace {
template <typename T>
void add_rows(double *to, const double *from, int n, const int *list, int slots, int K)
{
  for (int i = 0; i < n; i++) {
    T *t = reinterpret_cast<T *>(to + size_t(list[i]) * slots);
    const T *f = reinterpret_cast<const T *>(from + size_t(i) * slots);
    for (int c = 0; c < K; c++) t[c] += f[c];
  }
}
}    // namespace

void PairUMA::unpack_reverse_comm(int n, int *list, double *buf)
{
  if (state->halo_fp32)
    add_rows<float>(state->halo_buf.data(), buf, n, list, state->halo_slots(), state->halo_width);
  else
    add_rows<double>(state->halo_buf.data(), buf, n, list, state->halo_slots(), state->halo_width);
}

namespace LAMMPS_NS {
// uma::RankSum by MPI_Allreduce over the world, through the host: a few numbers per layer. Summed in
// double whatever the engine's precision, so that the result does not depend on how the system is
// split beyond the order of the per-rank partial sums.
class RankSumByMPI : public uma::RankSum {
 public:
  explicit RankSumByMPI(MPI_Comm world) : world(world) {}
  void sum(torch::Tensor &v) override
  {
    torch::Tensor host = v.to(torch::kCPU, torch::kFloat64).contiguous();
    MPI_Allreduce(MPI_IN_PLACE, host.data_ptr<double>(), static_cast<int>(host.numel()), MPI_DOUBLE,
                  MPI_SUM, world);
    v.copy_(host);
  }

 private:
  MPI_Comm world;
};
}    // namespace LAMMPS_NS

uma::RankSum *PairUMA::rank_sum()
{
  // One rank holds the whole system (fold or shell on one rank): the engine sums by itself.
  if (comm->nprocs == 1 || !state->engine || !state->engine->info().charge_balanced) return nullptr;
  if (!state->ranks) state->ranks.reset(new RankSumByMPI(world));
  return state->ranks.get();
}

uma::HaloExchange *PairUMA::halo_exchange()
{
  // The LAMMPS path is also the reference of the planned ones under UMA_HALO_VERIFY (nothing is
  // allocated before its first exchange).
  if (!state->exchange) state->exchange.reset(new HaloByComm(this));
  if (halo_comm_active != HaloComm::lammps) return planned_halo_exchange(state->exchange.get());
  return state->exchange.get();
}

void PairUMA::set_halo_atom_map(const int *lmp_of, int64_t n_atoms, int64_t n_energy)
{
  state->lmp_of.assign(lmp_of, lmp_of + n_atoms);
  state->n_energy = n_energy;
}
