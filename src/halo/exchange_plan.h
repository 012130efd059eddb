// uma::ExchangePlan — who sends which node-feature rows to whom in a 'halo exchange', owner to ghost
// directly (one message per pair of ranks that share ghosts, whatever the number of hops LAMMPS's own
// ghost communication takes to bring a corner image). Built once per neighbour-list build from each
// ghost row's owner (rank and row there); used by every transport (planned_exchange.h). MPI and the
// standard library only: no Torch, no LAMMPS.
#ifndef UMA_HALO_EXCHANGE_PLAN_H
#define UMA_HALO_EXCHANGE_PLAN_H

#include <mpi.h>

#include <cstdint>
#include <vector>

namespace uma {

// One rank this rank exchanges rows with. Forward: send_rows (own rows, < n_owned) go out in this
// order and the rows that arrive are written to recv_rows (ghost rows) in order. Reverse: the
// gradients of recv_rows go out and what arrives is added to send_rows. Either list may be empty
// (ghost relations need not be symmetric, e.g. with types that take no part).
struct ExchangePeer {
  int rank = -1;
  std::vector<int64_t> send_rows;
  std::vector<int64_t> recv_rows;
};

struct ExchangePlan {
  int64_t n_rows = 0;   // rows of the exchanged arrays: [0, n_owned) owned, [n_owned, n_rows) ghosts
  int64_t n_owned = 0;
  // Ghosts owned by this rank itself (periodic images on a rank that spans the box in some
  // direction): ghost row self_dst[k] is a copy of owned row self_src[k]. Local copies, no message.
  std::vector<int64_t> self_src, self_dst;
  std::vector<ExchangePeer> peers;  // ascending rank, without this rank; only ranks that share rows
  int64_t rows_from_peers() const;  // ghost rows filled by messages (sum of recv_rows sizes)
};

// Collective over comm: every rank calls it with its own rows. owner_rank[g] and owner_row[g]
// (g in [0, n_rows - n_owned)) name the rank owning ghost row n_owned + g and that atom's row on
// it (< that rank's n_owned). An atom may be a ghost several times on one rank (periodic images,
// images of images): every image is one entry. Counts go by MPI_Alltoall and the requested rows by
// MPI_Alltoallv. Throws uma::Error for an owner outside the communicator or a row its owner does
// not have (on the rank that finds it; the others have their plan).
ExchangePlan make_exchange_plan(MPI_Comm comm, int64_t n_rows, int64_t n_owned,
                                const std::vector<int>& owner_rank,
                                const std::vector<int64_t>& owner_row);

}  // namespace uma

#endif
