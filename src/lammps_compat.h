// lammps_compat.h — the few calls of pair_style uma that depend on the LAMMPS version. Written for
// LAMMPS 29Sep2021 (Debian's lammps 20220106.git7586adbb6a+ds1-2). Nothing else in the glue checks
// versions: porting to a newer LAMMPS means editing only this header.
#ifndef LMP_UMA_LAMMPS_COMPAT_H
#define LMP_UMA_LAMMPS_COMPAT_H

#include "comm.h"
#include "force.h"
#include "lammps.h"
#include "neigh_request.h"
#include "neighbor.h"
#include "pair.h"

namespace LAMMPS_NS {
namespace uma_compat {

// Requests a full neighbor list for `pair`, optionally with the neighbours of ghost atoms.
// 29Sep2021: neighbor->request() returns an index into neighbor->requests and the caller flips the
// flags. Newer LAMMPS (from 2Jun2022): neighbor->add_request(pair, NeighConst::REQ_FULL |
// NeighConst::REQ_GHOST).
inline void request_full_neighbor_list(LAMMPS *lmp, void *requestor, int instance, bool ghost)
{
  const int irequest = lmp->neighbor->request(requestor, instance);
  NeighRequest *request = lmp->neighbor->requests[irequest];
  request->half = 0;
  request->full = 1;
  request->ghost = ghost ? 1 : 0;
}

// Pair-style forward / reverse communication (pack_*_comm / unpack_*_comm of `pair`).
// 29Sep2021: Comm::forward_comm_pair / reverse_comm_pair; newer LAMMPS: Comm::forward_comm(Pair *).
inline void forward_comm_pair(Comm *comm, Pair *pair) { comm->forward_comm_pair(pair); }
inline void reverse_comm_pair(Comm *comm, Pair *pair) { comm->reverse_comm_pair(pair); }

// A sub-style of pair_style hybrid whose communication sizes are known only in init_style (here:
// once pair_coeff has loaded the model) raises the top-level style's sizes, from which Comm::init
// sizes its buffers. 29Sep2021: PairHybrid::flags() takes the maximum over its sub-styles only in
// settings() (and read_restart), before any pair_coeff; Comm::init() runs after Force::init(), so
// raising the sizes in init_style is in time.
inline void raise_top_pair_comm_sizes(LAMMPS *lmp, Pair *sub)
{
  Pair *top = lmp->force->pair;
  if (!top || top == sub) return;
  if (top->comm_forward < sub->comm_forward) top->comm_forward = sub->comm_forward;
  if (top->comm_reverse < sub->comm_reverse) top->comm_reverse = sub->comm_reverse;
}

}    // namespace uma_compat
}    // namespace LAMMPS_NS

#endif
