// uma::PlannedExchange (planned_exchange.h): pack, transfer, unpack.

#include "halo/planned_exchange.h"

#include <algorithm>
#include <string>
#include <utility>

#include "model/errors.h"

namespace uma {

namespace {
torch::Tensor index_tensor(const std::vector<int64_t>& rows, const torch::Device& device) {
  auto t = torch::empty({static_cast<int64_t>(rows.size())}, torch::kInt64);
  if (!rows.empty()) std::copy(rows.begin(), rows.end(), t.data_ptr<int64_t>());
  return t.to(device);
}
}  // namespace

void PlannedExchange::set_plan(ExchangePlan plan) {
  plan_ = std::move(plan);
  on_device_ = false;
}

void PlannedExchange::check(const torch::Tensor& x, const char* what) {
  if (x.dim() != 2 || x.size(0) != plan_.n_rows || !x.is_contiguous())
    throw Error(std::string("halo exchange (") + what + "): expected contiguous [" + std::to_string(plan_.n_rows) +
                ", K] rows as planned, got " + std::to_string(x.dim()) + "-d with " +
                std::to_string(x.dim() > 0 ? x.size(0) : 0) + " rows");
  if (on_device_ && x.device() == device_) return;
  device_ = x.device();
  self_src_ = index_tensor(plan_.self_src, device_);
  self_dst_ = index_tensor(plan_.self_dst, device_);
  send_rows_.clear();
  recv_rows_.clear();
  for (const auto& p : plan_.peers) {
    send_rows_.push_back(index_tensor(p.send_rows, device_));
    recv_rows_.push_back(index_tensor(p.recv_rows, device_));
  }
  on_device_ = true;
}

void PlannedExchange::pack(const torch::Tensor& x, const std::vector<torch::Tensor>& out_rows,
                           const std::vector<torch::Tensor>& in_rows) {
  const size_t n = plan_.peers.size();
  send_.resize(n);
  recv_.resize(n);
  for (size_t k = 0; k < n; k++) {
    send_[k] = x.index_select(0, out_rows[k]);
    recv_[k] = torch::empty({in_rows[k].size(0), x.size(1)}, x.options());
  }
}

void PlannedExchange::forward(torch::Tensor& x) {
  check(x, "forward");
  // Sources are owned rows, destinations ghost rows: no row is read after it is written.
  if (self_dst_.numel() > 0) x.index_copy_(0, self_dst_, x.index_select(0, self_src_));
  pack(x, send_rows_, recv_rows_);
  transfer(send_, recv_);
  for (size_t k = 0; k < plan_.peers.size(); k++)
    if (recv_[k].size(0) > 0) x.index_copy_(0, recv_rows_[k], recv_[k]);
}

void PlannedExchange::reverse(torch::Tensor& g) {
  check(g, "reverse");
  pack(g, recv_rows_, send_rows_);  // ghosts' gradients go back the way their rows came
  transfer(send_, recv_);
  // Fixed order: own images, then peers by rank; within a list in plan order (index_add_ on the
  // CPU sums repeated rows in that order; on a GPU, with deterministic yes, in a fixed order).
  if (self_src_.numel() > 0) g.index_add_(0, self_src_, g.index_select(0, self_dst_));
  for (size_t k = 0; k < plan_.peers.size(); k++)
    if (recv_[k].size(0) > 0) g.index_add_(0, send_rows_[k], recv_[k]);
  g.narrow(0, plan_.n_owned, plan_.n_rows - plan_.n_owned).zero_();
}

}  // namespace uma
