#include "engine/core/charge_balance.h"

namespace uma {
namespace {

// Sum over ranks whose backward is the same sum: d(sum_r s_r)/d s_r = 1 for every rank, so each rank's
// gradient is the sum of all ranks' gradients (fairchem gp_utils.all_reduce_sum_with_grad).
struct SumOverRanks : torch::autograd::Function<SumOverRanks> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& partial,
                               const torch::Tensor& anchor, int64_t ranks) {
    ctx->saved_data["ranks"] = ranks;
    ctx->saved_data["zeros"] = torch::zeros_like(partial);
    auto total = partial.detach().clone();
    reinterpret_cast<RankSum*>(ranks)->sum(total);
    return total;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad) {
    // Every rank takes part in the reduction, with zeros where no energy depended on the sum.
    auto g = grad[0].defined() ? grad[0].contiguous().clone() : ctx->saved_data["zeros"].toTensor().clone();
    reinterpret_cast<RankSum*>(ctx->saved_data["ranks"].toInt())->sum(g);
    return {g, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor balance_charge(const torch::Tensor& x, const ChargeBalance& b) {
  const int64_t width = b.channel_end - b.channel_begin;
  if (width <= 0) return x;
  const int64_t C = x.size(2), K = x.size(1);
  auto channels = x.select(1, 0).narrow(1, b.channel_begin, width);  // [N, width]
  auto sum = channels.narrow(0, 0, b.n_owned).sum(0);                // [width], this rank's atoms
  if (b.ranks) sum = SumOverRanks::apply(sum, b.anchor, reinterpret_cast<int64_t>(b.ranks));
  auto shift = (sum - b.target) / b.num_atoms;
  // The shift as a [K, C] table, zero outside the balanced entries: one broadcast subtraction of x,
  // exact for every other entry (x - 0).
  auto table = torch::constant_pad_nd(shift.unsqueeze(0), {b.channel_begin, C - b.channel_end, 0, K - 1});
  return x - table.unsqueeze(0);
}

}  // namespace uma
