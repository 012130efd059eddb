/* ----------------------------------------------------------------------
   pair_style uma, checks of the input and fatal diagnoses: one-time warnings about charges the model
   does not use as the user may think; the one LAMMPS ERROR of an input the model cannot evaluate (a
   non-finite position, two atoms at one position), of an evaluation that gave a NaN or Inf (naming the
   atom), and of a failed evaluation (with what to change when memory ran out). Shared by uma and uma/kk.
------------------------------------------------------------------------- */

#include "pair_uma.h"
#include "pair_uma_state.h"

#include "atom.h"
#include "comm.h"
#include "error.h"
#include "update.h"
#include "utils.h"

#include <mpi.h>

#include <cmath>
#include <string>

using namespace LAMMPS_NS;

// One-time warnings about charges the model does not use as the user may think (init_style).
// Warnings, not errors: per-atom charges are legitimate for other styles of pair_style
// hybrid/overlay (coul/long next to uma), and charge/spin of a task trained only with the defaults
// are accepted by the model, they only lie outside its training data.
void PairUMA::warn_about_charges()
{
  if (atom->q_flag && !warned_atom_charges) {
    warned_atom_charges = true;
    double q_local = 0.0, q_total = 0.0;
    for (int i = 0; i < atom->nlocal; i++) q_local += atom->q[i];
    MPI_Allreduce(&q_local, &q_total, 1, MPI_DOUBLE, MPI_SUM, world);
    if (comm->me == 0)
      error->warning(FLERR, "pair_style uma: the per-atom charges of this atom_style (sum {:g} e) are not "
                     "used by UMA; the model takes the system's total charge from 'pair_style uma ... "
                     "charge Q' (now {})", q_total, charge);
  }
  const uma::ModelInfo &info = state->engine->info();
  // UMA-S 1.1: charge and spin are inputs of task omol only; the other tasks' data had the defaults.
  // UMA-S 1.2.x balances every task's node features to the total charge (info.charge_balanced).
  const bool nondefault =
      charge != task_default(info.default_charge, task) || spin != task_default(info.default_spin, task);
  if (!info.charge_balanced && task != "omol" && nondefault && !warned_task_charge) {
    warned_task_charge = true;
    if (comm->me == 0)
      error->warning(FLERR, "pair_style uma: model {} uses charge and spin for task omol only; task {} was "
                     "trained with charge {} and spin {}, so charge {} spin {} are outside its data (results "
                     "are not meaningful); drop charge/spin or use task omol", info.name, task,
                     task_default(info.default_charge, task), task_default(info.default_spin, task), charge, spin);
  }
}

// Non-finite positions (a NaN velocity, an exploding run) would reach the model as NaN edges.
void PairUMA::check_positions_finite() const
{
  double **x = atom->x;
  for (int i = 0; i < atom->nlocal; i++)
    if (!std::isfinite(x[i][0]) || !std::isfinite(x[i][1]) || !std::isfinite(x[i][2]))
      error->one(FLERR, "pair_style uma: atom ID {} has a non-finite position ({}, {}, {}) at step {}; the "
                 "run became unstable (check velocities, the timestep and the forces of earlier steps)",
                 atom->tag[i], x[i][0], x[i][1], x[i][2], update->ntimestep);
}

void PairUMA::coincident_atoms(int i, int j) const
{
  error->one(FLERR, "pair_style uma: atoms ID {} and ID {} are at the same position ({}, {}, {}) at step {}; "
             "the model needs a direction for every pair; remove one (delete_atoms overlap) or move it",
             atom->tag[i], atom->tag[j], atom->x[i][0], atom->x[i][1], atom->x[i][2], update->ntimestep);
}

// The evaluation gave a NaN or Inf energy, force or virial. Names the cause when it is in the input
// (a non-finite position, two atoms at one position: uma/kk finds them only here), else the atom of
// lowest ID with a non-finite force or energy. Host arrays; engine atom k is LAMMPS atom lmp_of[k].
void PairUMA::non_finite_output(double energy, const double *edge_grad, const double *edge_vec,
                                const int64_t *src, const int64_t *dst, int64_t nedges, const int *lmp_of,
                                const double *atom_energy, int64_t n_energy) const
{
  check_positions_finite();
  const tagint *tag = atom->tag;
  tagint first = 0;
  int first_index = -1;
  auto consider = [&](int i) {
    if (first_index < 0 || tag[i] < first) {
      first = tag[i];
      first_index = i;
    }
  };
  for (int64_t e = 0; e < nedges; e++) {
    const double *d = edge_vec + 3 * e;
    if (d[0] == 0.0 && d[1] == 0.0 && d[2] == 0.0) coincident_atoms(lmp_of[dst[e]], lmp_of[src[e]]);
    const double *g = edge_grad + 3 * e;
    if (!std::isfinite(g[0]) || !std::isfinite(g[1]) || !std::isfinite(g[2])) {
      consider(lmp_of[dst[e]]);
      consider(lmp_of[src[e]]);
    }
  }
  const char *what = "force";
  if (first_index < 0 && atom_energy) {
    what = "energy";
    for (int64_t k = 0; k < n_energy; k++)
      if (!std::isfinite(atom_energy[k])) consider(lmp_of[k]);
  }
  // With the first convolution's message in fp16 a value beyond fp16's range becomes infinite: name that too.
  const std::string half = state->engine->info().half_operands
      ? "; or, with UMA_HALF_OPERANDS=1, a first-convolution message beyond fp16's range (65504): unset it"
      : "";
  if (first_index < 0)
    error->one(FLERR, "pair_style uma: the model gave a non-finite energy ({}) at step {} on this rank; the "
               "forces are finite; check the model file (NaN or Inf weights){}", energy, update->ntimestep, half);
  error->one(FLERR, "pair_style uma: the model gave a non-finite {} at step {}: first atom with one is ID {} "
             "(type {}, position {} {} {}); energy on this rank {}; check the model file (NaN or Inf weights) "
             "and the input (overlapping atoms){}", what, update->ntimestep, first, atom->type[first_index],
             atom->x[first_index][0], atom->x[first_index][1], atom->x[first_index][2], energy, half);
}

void PairUMA::evaluation_failed(int64_t natoms, int64_t nedges, const std::string &what) const
{
  const bool oom = what.find("out of memory") != std::string::npos ||
                   what.find("can't allocate memory") != std::string::npos ||
                   what.find("bad_alloc") != std::string::npos;
  const std::string hint = !oom
      ? std::string()
      : fmt::format(" -- out of memory: keep 'chunk auto' (the default) or set a smaller 'chunk N' (now {}), "
                    "or use fewer MPI ranks per node/GPU ({} share this rank's memory) or more nodes/GPUs",
                    chunk_setting == 0 ? std::string("auto")
                                       : chunk_setting < 0 ? std::string("off") : std::to_string(chunk_setting),
                    memory_sharing_ranks);
  error->one(FLERR, "pair_style uma: evaluation failed ({} atoms, {} edges on this rank): {}{}", natoms, nedges,
             what, hint);
}
