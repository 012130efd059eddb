/* ----------------------------------------------------------------------
   pair_style uma, 'halo exchange' (doc/pair_uma.rst): on several MPI ranks, ghost atoms within one
   cutoff are graph nodes without edges; the engine asks, after every node update, for their rows
   to be copied from their owners (forward) and, in the backward pass, for their gradients to be
   summed into the owners (reverse). Both go through LAMMPS's pair communication of this style
   (pack/unpack_*_comm below), staged in host memory. Used by uma and uma/kk alike.
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
#include <functional>
#include <thread>

using namespace LAMMPS_NS;

// 'halo exchange': node features of ghost rows from their owners through LAMMPS's pair
// communication (forward), ghost gradients summed into the owners (reverse). Staged through
// state->halo_buf, one row of halo_width doubles per LAMMPS atom; on a GPU that is a device-host copy
// of the node features per exchange.
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

  torch::Tensor staging;    // host rows in float64, pinned when the engine is on a GPU; grown, reused
  bool staging_pinned = false;

  // Host rows [rows, K] (float64) from the reused staging buffer. Pinned memory makes the copies from
  // and to the GPU direct DMA instead of staged pageable copies.
  torch::Tensor host_rows(int64_t rows, int K, bool pinned)
  {
    if (!staging.defined() || staging.size(0) < rows || staging_pinned != pinned) {
      staging = torch::empty({std::max<int64_t>(rows + rows / 4, 64), K},
                             torch::dtype(torch::kFloat64).pinned_memory(pinned));
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
    if (rows.dim() != 2 || rows.size(0) != n || rows.size(1) != K)
      pair->error->one(FLERR, "pair_style uma: halo exchange of [{}, {}] node rows, expected [{}, {}]",
                       rows.size(0), rows.size(1), n, K);
    // Only the rows that travel cross to the host: forward, the owners' rows out and the ghosts' in;
    // reverse, the ghosts' gradients out and the owners' sums in.
    const int64_t nl = s.n_energy, ng = n - nl;
    torch::Tensor owners = rows.narrow(0, 0, nl), ghosts = rows.narrow(0, nl, ng);
    torch::Tensor h = host_rows(reverse ? ng : nl, K, rows.is_cuda());
    h.copy_(reverse ? ghosts : owners);
    const double t1 = MPI_Wtime();
    const double *hp = h.data_ptr<double>();
    const int nall = pair->atom->nlocal + pair->atom->nghost;
    if (reverse)
      s.halo_buf.assign(static_cast<size_t>(nall) * K, 0.0);    // owners accumulate
    else
      s.halo_buf.resize(static_cast<size_t>(nall) * K);          // every row used is written
    double *buf = s.halo_buf.data();
    const int *lmp_of = s.lmp_of.data();
    torch::Tensor back;
    if (!reverse) {
      for (int64_t k = 0; k < nl; k++) std::copy_n(hp + k * K, K, buf + size_t(lmp_of[k]) * K);
      // Through the host buffer: CommKokkos would send a Kokkos pair style (uma/kk) down its
      // device path, which packs with pack_forward_comm_kokkos; the host path uses
      // pack_forward_comm for both styles (the reverse path is host-only in LAMMPS anyway).
      const ExecutionSpace space = pair->execution_space;
      pair->execution_space = Host;
      uma_compat::forward_comm_pair(pair->comm, pair);
      pair->execution_space = space;
      back = host_rows(ng, K, rows.is_cuda());
      double *bp = back.data_ptr<double>();
      for (int64_t k = 0; k < ng; k++) std::copy_n(buf + size_t(lmp_of[nl + k]) * K, K, bp + k * K);
    } else {
      for (int64_t k = 0; k < ng; k++) std::copy_n(hp + k * K, K, buf + size_t(lmp_of[nl + k]) * K);
      uma_compat::reverse_comm_pair(pair->comm, pair);
      back = host_rows(nl, K, rows.is_cuda());
      double *bp = back.data_ptr<double>();
      for (int64_t k = 0; k < nl; k++) std::copy_n(buf + size_t(lmp_of[k]) * K, K, bp + k * K);
    }
    const double t2 = MPI_Wtime();
    if (!reverse) {
      ghosts.copy_(back);
    } else {
      owners.add_(back.to(rows.device(), rows.scalar_type()));
      ghosts.zero_();
    }
    if (trace) {
      const double t3 = MPI_Wtime();
      fprintf(stderr, "[uma halo] %.3f rank %d %s rows %lld (local %lld) x %d: to host %.1f ms, "
              "communication %.1f ms, back %.1f ms, thread %zx\n", t0, pair->comm->me,
              reverse ? "reverse" : "forward", static_cast<long long>(n),
              static_cast<long long>(s.n_energy), K, 1e3 * (t1 - t0), 1e3 * (t2 - t1), 1e3 * (t3 - t2),
              std::hash<std::thread::id>()(std::this_thread::get_id()));
    }
  }
};
}    // namespace LAMMPS_NS

int PairUMA::pack_forward_comm(int n, int *list, double *buf, int /*pbc_flag*/, int * /*pbc*/)
{
  // Node features are invariant under the periodic shift of an image: no pbc correction.
  const int K = state->halo_width;
  const double *from = state->halo_buf.data();
  for (int i = 0; i < n; i++) std::copy_n(from + size_t(list[i]) * K, K, buf + size_t(i) * K);
  return n * K;
}

void PairUMA::unpack_forward_comm(int n, int first, double *buf)
{
  const int K = state->halo_width;
  std::copy_n(buf, size_t(n) * K, state->halo_buf.data() + size_t(first) * K);
}

int PairUMA::pack_reverse_comm(int n, int first, double *buf)
{
  const int K = state->halo_width;
  std::copy_n(state->halo_buf.data() + size_t(first) * K, size_t(n) * K, buf);
  return n * K;
}

void PairUMA::unpack_reverse_comm(int n, int *list, double *buf)
{
  const int K = state->halo_width;
  double *to = state->halo_buf.data();
  for (int i = 0; i < n; i++)
    for (int c = 0; c < K; c++) to[size_t(list[i]) * K + c] += buf[size_t(i) * K + c];
}

uma::HaloExchange *PairUMA::halo_exchange()
{
  if (!state->exchange) state->exchange.reset(new HaloByComm(this));
  return state->exchange.get();
}

void PairUMA::set_halo_atom_map(const int *lmp_of, int64_t n_atoms, int64_t n_energy)
{
  state->lmp_of.assign(lmp_of, lmp_of + n_atoms);
  state->n_energy = n_energy;
}
