// uma::make_exchange_plan (exchange_plan.h): requests from every ghost's rank to its owner.

#include "halo/exchange_plan.h"

#include <string>

#include "model/errors.h"

namespace uma {

int64_t ExchangePlan::rows_from_peers() const {
  int64_t n = 0;
  for (const auto& p : peers) n += static_cast<int64_t>(p.recv_rows.size());
  return n;
}

ExchangePlan make_exchange_plan(MPI_Comm comm, int64_t n_rows, int64_t n_owned,
                                const std::vector<int>& owner_rank,
                                const std::vector<int64_t>& owner_row) {
  int me = 0, nprocs = 1;
  MPI_Comm_rank(comm, &me);
  MPI_Comm_size(comm, &nprocs);
  const int64_t n_ghosts = n_rows - n_owned;
  ExchangePlan plan;
  plan.n_rows = n_rows;
  plan.n_owned = n_owned;
  std::string bad;  // the first inconsistency found here; thrown after the collectives
  if (n_ghosts < 0 || static_cast<int64_t>(owner_rank.size()) != n_ghosts ||
      static_cast<int64_t>(owner_row.size()) != n_ghosts)
    bad = "halo exchange plan: " + std::to_string(owner_rank.size()) + " owner ranks and " +
          std::to_string(owner_row.size()) + " owner rows for " + std::to_string(n_ghosts) +
          " ghost rows";

  // Ghost rows grouped by owner, in ascending ghost row within each group (the order both sides use).
  std::vector<std::vector<int64_t>> ghosts_of(nprocs), rows_at(nprocs);
  for (int64_t g = 0; bad.empty() && g < n_ghosts; g++) {
    const int r = owner_rank[g];
    if (r < 0 || r >= nprocs || owner_row[g] < 0) {
      bad = "halo exchange plan: ghost row " + std::to_string(n_owned + g) + " has owner rank " +
            std::to_string(r) + " row " + std::to_string(owner_row[g]) + " (ranks: " +
            std::to_string(nprocs) + ")";
      break;
    }
    if (r == me) {
      if (owner_row[g] >= n_owned) {
        bad = "halo exchange plan: ghost row " + std::to_string(n_owned + g) + " is a periodic image of row " +
              std::to_string(owner_row[g]) + ", which this rank does not own (" + std::to_string(n_owned) + " rows)";
        break;
      }
      plan.self_src.push_back(owner_row[g]);
      plan.self_dst.push_back(n_owned + g);
    } else {
      ghosts_of[r].push_back(n_owned + g);
      rows_at[r].push_back(owner_row[g]);
    }
  }
  if (!bad.empty())  // send nothing, but take part in the collectives below
    for (int r = 0; r < nprocs; r++) ghosts_of[r].clear(), rows_at[r].clear();

  // How many rows each rank asks of each other rank, then the rows themselves.
  std::vector<int> ask(nprocs), asked(nprocs), ask_at(nprocs + 1, 0), asked_at(nprocs + 1, 0);
  for (int r = 0; r < nprocs; r++) ask[r] = static_cast<int>(rows_at[r].size());
  MPI_Alltoall(ask.data(), 1, MPI_INT, asked.data(), 1, MPI_INT, comm);
  for (int r = 0; r < nprocs; r++) {
    ask_at[r + 1] = ask_at[r] + ask[r];
    asked_at[r + 1] = asked_at[r] + asked[r];
  }
  std::vector<int64_t> ask_rows(ask_at[nprocs]), asked_rows(asked_at[nprocs]);
  for (int r = 0; r < nprocs; r++)
    for (int k = 0; k < ask[r]; k++) ask_rows[ask_at[r] + k] = rows_at[r][k];
  MPI_Alltoallv(ask_rows.data(), ask.data(), ask_at.data(), MPI_INT64_T, asked_rows.data(), asked.data(),
                asked_at.data(), MPI_INT64_T, comm);

  for (int r = 0; r < nprocs; r++) {
    if (r == me || (ask[r] == 0 && asked[r] == 0)) continue;
    ExchangePeer p;
    p.rank = r;
    p.recv_rows = std::move(ghosts_of[r]);
    p.send_rows.assign(asked_rows.begin() + asked_at[r], asked_rows.begin() + asked_at[r + 1]);
    for (int64_t row : p.send_rows)
      if (bad.empty() && (row < 0 || row >= n_owned))
        bad = "halo exchange plan: rank " + std::to_string(r) + " asks for row " + std::to_string(row) +
              " of this rank, which owns " + std::to_string(n_owned) + " rows";
    plan.peers.push_back(std::move(p));
  }
  if (!bad.empty()) throw Error(bad + " (rank " + std::to_string(me) + ")");
  return plan;
}

}  // namespace uma
