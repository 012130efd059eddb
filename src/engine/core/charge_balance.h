// Per-layer charge balancing of UMA-S 1.2.x (fairchem escn_md.py balance_channels_batched): after every
// block the l = 0 coefficients of a few channels are shifted by one value per channel so that their
// sum over the system's atoms equals its total charge,
//     x[n, 0, c] <- x[n, 0, c] - (sum_m x[m, 0, c] - Q) / N.
// A global coupling: with the system split over MPI ranks the sum runs over every rank's own atoms
// (RankSum), and so does its gradient in the backward pass.
#ifndef UMA_ENGINE_CHARGE_BALANCE_H
#define UMA_ENGINE_CHARGE_BALANCE_H

#include <torch/torch.h>

#include "engine/core/engine.h"

namespace uma {

struct ChargeBalance {
  int64_t channel_begin = 0, channel_end = 0;  // channels [begin, end) of the l = 0 coefficient
  double target = 0.0;                         // Q: the system's total charge
  double num_atoms = 1.0;                      // N: atoms of the whole system, every rank
  int64_t n_owned = 0;                         // rows [0, n_owned): this rank's atoms, summed
  RankSum* ranks = nullptr;                    // nullptr: this call holds the whole system
  // With ranks: a leaf every rank differentiates for, so that each reduction's backward (collective)
  // runs on every rank, also where no energy depends on it (Engine's halo anchor).
  torch::Tensor anchor;
};

// x [N, (lmax+1)^2, C] (rows past n_owned: ghost copies, shifted alike) -> balanced x. Differentiable;
// no host synchronisation on one rank (recordable in a CUDA graph).
torch::Tensor balance_charge(const torch::Tensor& x, const ChargeBalance& b);

}  // namespace uma

#endif
