/* ----------------------------------------------------------------------
   pair_style uma, 'halo exchange' over an owner-direct plan (halo_comm mpi or nccl; doc/pair_uma.rst):
   which transport a run uses, the owners of the ghost rows (learned through one LAMMPS forward
   communication per neighbour-list build), and the plan and transport of src/halo/ built from them.
   UMA_HALO_VERIFY=1 (diagnostics, tests): every exchange is also done by LAMMPS's own communication
   (halo_comm lammps) and must give identical rows. UMA_HALO_TRACE=1: the time of every exchange.
------------------------------------------------------------------------- */

#include "pair_uma.h"
#include "pair_uma_state.h"

#include "atom.h"
#include "comm.h"
#include "error.h"
#include "neighbor.h"
#include "utils.h"

#include "halo/mpi_exchange.h"
#ifdef UMA_HAVE_NCCL
#include "halo/nccl_exchange.h"
#endif

#include <mpi.h>

#include <cstdio>
#include <cstdlib>
#include <string>

using namespace LAMMPS_NS;

const char *PairUMA::halo_comm_name(HaloComm mode)
{
  switch (mode) {
    case HaloComm::automatic: return "auto";
    case HaloComm::lammps: return "lammps";
    case HaloComm::mpi: return "mpi";
    case HaloComm::nccl: return "nccl";
  }
  return "?";
}

// auto: NCCL where it can work and pays (every rank on a GPU of its own); else the LAMMPS path, which
// is tested on every CPU configuration. Explicit nccl that cannot work is an ERROR naming the fix.
void PairUMA::resolve_halo_comm()
{
  const bool explicit_halo = halo_setting == Halo::shell || halo_setting == Halo::fold;
  if (halo_comm_setting != HaloComm::automatic && explicit_halo)
    error->all(FLERR, "pair_style uma: 'halo_comm {}' chooses how 'halo exchange' moves rows, and halo is "
               "'{}'; drop halo_comm or use 'halo exchange'", halo_comm_name(halo_comm_setting),
               halo_setting == Halo::shell ? "shell" : "fold");
  const torch::Device device = state->engine->options().device;
  int most_sharing = 0;    // the most ranks of one node on one GPU
  MPI_Allreduce(&memory_sharing_ranks, &most_sharing, 1, MPI_INT, MPI_MAX, world);
#ifdef UMA_HAVE_NCCL
  const bool have_nccl = true;
#else
  const bool have_nccl = false;
#endif
  HaloComm mode = halo_comm_setting;
  if (mode == HaloComm::automatic)
    mode = have_nccl && device.is_cuda() && most_sharing == 1 ? HaloComm::nccl : HaloComm::lammps;
  if (mode == HaloComm::nccl) {
    if (!have_nccl)
      error->all(FLERR, "pair_style uma: 'halo_comm nccl' needs a plugin built with NCCL (configure with "
                 "-DUMA_ENABLE_CUDA=ON; UMA_ENABLE_NCCL finds nccl.h in the nvidia-nccl wheel or "
                 "-DUMA_NCCL_ROOT); use 'halo_comm mpi' or 'halo_comm lammps' with this build");
    if (!device.is_cuda())
      error->all(FLERR, "pair_style uma: 'halo_comm nccl' moves node features between GPUs, and the network "
                 "runs on the CPU here; add 'device cuda' (or run uma/kk on a CUDA Kokkos), or use "
                 "'halo_comm mpi'");
    if (most_sharing > 1)
      error->all(FLERR, "pair_style uma: 'halo_comm nccl' needs one GPU per MPI rank, and {} ranks of one node "
                 "share a GPU; run at most as many ranks per node as it has GPUs (e.g. mpirun -np <GPUs>, "
                 "'-k on g <GPUs>'), or use 'halo_comm mpi'", most_sharing);
  }
  // A new transport or device: make the transport again (collective; MPI_Comm_dup, NCCL init).
  const std::string key = fmt::format("{} {}", halo_comm_name(mode), device.str());
  if (key != state->planned_key) {
    state->traced.reset();
    state->verified.reset();
    state->planned.reset();
    state->planned_key = key;
  }
  halo_comm_active = mode;
  // Neighbor::init restarts its build count (the plan's key) with every run: plan again.
  state->planned_at = -1;
}

// One forward communication of (rank, engine row) pairs: owned atoms write their own; LAMMPS copies
// every atom's slot to its ghost images, and later swaps forward what earlier ones brought, so a
// corner image (several hops) names its true owner, not a rank it passed through.
void PairUMA::learn_ghost_owners(std::vector<int> &owner_rank, std::vector<int64_t> &owner_row)
{
  PairUMAState &s = *state;
  const int nall = atom->nlocal + atom->nghost;
  const int64_t n = static_cast<int64_t>(s.lmp_of.size());
  s.halo_buf.assign(static_cast<size_t>(nall) * 2, -1.0);
  for (int64_t k = 0; k < s.n_energy; k++) {
    s.halo_buf[2 * size_t(s.lmp_of[k])] = comm->me;
    s.halo_buf[2 * size_t(s.lmp_of[k]) + 1] = static_cast<double>(k);    // exact up to 2^53 rows
  }
  s.comm_slots_override = 2;
  forward_comm_on_host();
  s.comm_slots_override = 0;
  owner_rank.resize(n - s.n_energy);
  owner_row.resize(n - s.n_energy);
  for (int64_t g = s.n_energy; g < n; g++) {
    owner_rank[g - s.n_energy] = static_cast<int>(s.halo_buf[2 * size_t(s.lmp_of[g])]);
    owner_row[g - s.n_energy] = static_cast<int64_t>(s.halo_buf[2 * size_t(s.lmp_of[g]) + 1]);
  }
}

namespace {
// UMA_HALO_VERIFY: the planned transport against LAMMPS's communication on every exchange. Forward
// is a copy, so the node features must be bitwise equal. Reverse sums in another order, so it is
// checked on rows of small integers (sums exact in fp32 and fp64), again bitwise; then the planned
// transport does the real work. Throws uma::Error (one ERROR line from the glue) on a difference.
class VerifiedExchange : public uma::HaloExchange {
 public:
  VerifiedExchange(LAMMPS *lmp, uma::HaloExchange *planned, uma::HaloExchange *reference) :
      lmp(lmp), planned(planned), reference(reference)
  {
  }
  void forward(torch::Tensor &x) override
  {
    torch::Tensor ref = x.clone();
    reference->forward(ref);
    planned->forward(x);
    compare(x, ref, "forward (node features)");
  }
  void reverse(torch::Tensor &g) override
  {
    // Integers in [0, 61): a few dozen images per owner sum far below 2^24 (fp32 exact).
    const int64_t n = g.size(0), K = g.size(1);
    torch::Tensor rows = torch::arange(n, torch::kInt64).unsqueeze(1) * 31 +
        torch::arange(K, torch::kInt64).unsqueeze(0) * 7 + 13 * lmp->comm->me;
    torch::Tensor test = (rows % 61).to(g.options()).contiguous();
    torch::Tensor ref = test.clone();
    reference->reverse(ref);
    planned->reverse(test);
    compare(test, ref, "reverse (integer test rows)");
    planned->reverse(g);
    if (++reverses == 1 && lmp->comm->me == 0)
      utils::logmesg(lmp, "UMA: halo verify: owner-direct exchanges equal LAMMPS communication (forward "
                     "bitwise on node features, reverse bitwise on integer rows)\n");
  }

 private:
  LAMMPS *lmp;
  uma::HaloExchange *planned, *reference;
  int64_t reverses = 0;
  void compare(const torch::Tensor &got, const torch::Tensor &want, const char *what)
  {
    const torch::Tensor differ = (got != want).any(1).nonzero();
    if (differ.numel() > 0)
      throw uma::Error(fmt::format("UMA_HALO_VERIFY: {} differs from LAMMPS communication in {} of {} rows "
                                   "(first: engine row {}) on rank {}", what, differ.numel(), got.size(0),
                                   differ[0][0].item<int64_t>(), lmp->comm->me));
  }
};

// UMA_HALO_TRACE: one stderr line per exchange and rank with its time (the GPU synchronised before and
// after, so the time is the exchange's own), as the LAMMPS path prints (pair_uma_halo.cpp).
class TracedExchange : public uma::HaloExchange {
 public:
  TracedExchange(int me, const char *name, uma::HaloExchange *inner) : me(me), name(name), inner(inner) {}
  void forward(torch::Tensor &x) override { timed(x, false); }
  void reverse(torch::Tensor &g) override { timed(g, true); }

 private:
  int me;
  const char *name;
  uma::HaloExchange *inner;
  void timed(torch::Tensor &rows, bool reverse)
  {
    if (rows.is_cuda()) torch::cuda::synchronize(rows.device().index());
    const double t0 = MPI_Wtime();
    if (reverse)
      inner->reverse(rows);
    else
      inner->forward(rows);
    if (rows.is_cuda()) torch::cuda::synchronize(rows.device().index());
    fprintf(stderr, "[uma halo] %.3f rank %d %s %s rows %lld x %lld %s: %.3f ms\n", t0, me, name,
            reverse ? "reverse" : "forward", static_cast<long long>(rows.size(0)),
            static_cast<long long>(rows.size(1)), c10::toString(rows.scalar_type()), 1e3 * (MPI_Wtime() - t0));
  }
};
}    // namespace

// Made on first use after init_style and planned again after every neighbour-list build; every rank
// gets here in the same evaluations (compute), so the collectives inside meet.
uma::HaloExchange *PairUMA::planned_halo_exchange(uma::HaloExchange *reference)
{
  PairUMAState &s = *state;
  try {
    if (!s.planned) {
      if (halo_comm_active == HaloComm::mpi) s.planned.reset(new uma::MpiExchange(world));
#ifdef UMA_HAVE_NCCL
      else s.planned.reset(new uma::NcclExchange(world, s.engine->options().device));
#endif
    }
    if (s.planned_at != neighbor->ncalls) {
      std::vector<int> owner_rank;
      std::vector<int64_t> owner_row;
      learn_ghost_owners(owner_rank, owner_row);
      s.planned->set_plan(uma::make_exchange_plan(world, static_cast<int64_t>(s.lmp_of.size()), s.n_energy,
                                                  owner_rank, owner_row));
      s.planned_at = neighbor->ncalls;
      if (std::getenv("UMA_HALO_VERIFY")) log_plan();
    }
  } catch (const std::exception &e) {
    error->one(FLERR, "pair_style uma: halo_comm {}: {}", halo_comm_name(halo_comm_active), e.what());
  }
  uma::HaloExchange *exchange = s.planned.get();
  if (std::getenv("UMA_HALO_VERIFY")) {
    if (!s.verified) s.verified.reset(new VerifiedExchange(lmp, s.planned.get(), reference));
    exchange = s.verified.get();
  }
  if (!std::getenv("UMA_HALO_TRACE")) return exchange;
  if (!s.traced) s.traced.reset(new TracedExchange(comm->me, halo_comm_name(halo_comm_active), exchange));
  return s.traced.get();
}

// UMA_HALO_VERIFY: every rank's plan, gathered to rank 0's log: own images, and rows from each peer.
void PairUMA::log_plan()
{
  const uma::ExchangePlan &plan = state->planned->plan();
  std::string mine = fmt::format("rank {}: {} ghost rows, {} own images", comm->me, plan.n_rows - plan.n_owned,
                                 plan.self_dst.size());
  for (const auto &p : plan.peers) mine += fmt::format(", {} from rank {}", p.recv_rows.size(), p.rank);
  int len = static_cast<int>(mine.size());
  std::vector<int> lens(comm->nprocs), at(comm->nprocs + 1, 0);
  MPI_Gather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, 0, world);
  for (int r = 0; r < comm->nprocs; r++) at[r + 1] = at[r] + lens[r];
  std::string all(comm->me == 0 ? at[comm->nprocs] : 0, ' ');
  MPI_Gatherv(mine.data(), len, MPI_CHAR, &all[0], lens.data(), at.data(), MPI_CHAR, 0, world);
  if (comm->me == 0)
    for (int r = 0; r < comm->nprocs; r++)
      utils::logmesg(lmp, "UMA: halo plan {}\n", all.substr(at[r], lens[r]));
}
