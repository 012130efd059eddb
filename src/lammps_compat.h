// lammps_compat.h — the few calls of pair_style uma that depend on the LAMMPS version. Built and
// tested against LAMMPS 29Sep2021 (Debian bookworm's lammps 20220106.git7586adbb6a+ds1-2) and
// 4Feb2025 (Debian trixie's 20250204+dfsg.1-2). Nothing else in the glue checks versions: porting to
// another LAMMPS means editing only this header.
//
// LAMMPS_VERSION_NUMBER (YYYYMMDD of the release) is not defined by LAMMPS's headers (version.h has
// only the string "29 Sep 2021"); cmake/UMAPlugin.cmake parses version.h and passes it, as other
// plugin projects (deepmd-kit's LAMMPS plugin) do. The API changes below are dated by LAMMPS's own
// doc/src/Developer_updating.rst.
#ifndef LMP_UMA_LAMMPS_COMPAT_H
#define LMP_UMA_LAMMPS_COMPAT_H

#ifndef LAMMPS_VERSION_NUMBER
#error "LAMMPS_VERSION_NUMBER (e.g. 20210929) must be defined; cmake/UMAPlugin.cmake sets it from version.h"
#endif

// 24Mar2022: neighbor->add_request(...) with NeighConst flags, and Comm::forward_comm(Pair *) /
// reverse_comm(Pair *) overloads in place of forward_comm_pair / reverse_comm_pair.
#define UMA_LAMMPS_HAS_ADD_REQUEST (LAMMPS_VERSION_NUMBER >= 20220324)

#include "comm.h"
#include "force.h"
#include "lammps.h"
#include "neigh_request.h"
#include "neighbor.h"
#include "pair.h"

namespace LAMMPS_NS {
namespace uma_compat {

// Requests a full neighbor list for `pair`, optionally with the neighbours of ghost atoms.
// Up to 24Mar2022: neighbor->request() returns an index into neighbor->requests and the caller
// flips the flags. From 24Mar2022: neighbor->add_request(pair, NeighConst::REQ_FULL | REQ_GHOST),
// which also takes the instance from pair->instance_me.
inline void request_full_neighbor_list(LAMMPS *lmp, Pair *pair, int instance, bool ghost)
{
#if UMA_LAMMPS_HAS_ADD_REQUEST
  (void) instance;
  lmp->neighbor->add_request(pair, NeighConst::REQ_FULL | (ghost ? NeighConst::REQ_GHOST : 0));
#else
  const int irequest = lmp->neighbor->request(pair, instance);
  NeighRequest *request = lmp->neighbor->requests[irequest];
  request->half = 0;
  request->full = 1;
  request->ghost = ghost ? 1 : 0;
#endif
}

// Pair-style forward / reverse communication (pack_*_comm / unpack_*_comm of `pair`).
// Up to 24Mar2022: Comm::forward_comm_pair / reverse_comm_pair; from 24Mar2022:
// Comm::forward_comm(Pair *) / reverse_comm(Pair *).
#if UMA_LAMMPS_HAS_ADD_REQUEST
inline void forward_comm_pair(Comm *comm, Pair *pair) { comm->forward_comm(pair); }
inline void reverse_comm_pair(Comm *comm, Pair *pair) { comm->reverse_comm(pair); }
#else
inline void forward_comm_pair(Comm *comm, Pair *pair) { comm->forward_comm_pair(pair); }
inline void reverse_comm_pair(Comm *comm, Pair *pair) { comm->reverse_comm_pair(pair); }
#endif

// A sub-style of pair_style hybrid whose communication sizes are known only in init_style (here:
// once pair_coeff has loaded the model) raises the top-level style's sizes, from which Comm::init
// sizes its buffers. 29Sep2021 and 4Feb2025 alike: PairHybrid::flags() takes the maximum over its
// sub-styles only in settings() (and read_restart), before any pair_coeff; Comm::init() runs after
// Force::init(), so raising the sizes in init_style is in time.
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
