// uma::PlannedExchange — a uma::HaloExchange over an ExchangePlan (exchange_plan.h): rows are packed
// per peer with index_select, moved by a transport (transfer(), MPI or NCCL), and unpacked with
// index_copy_ (forward) or index_add_ (reverse) in a fixed order: this rank's own periodic images
// first, then the peers in ascending rank. Packing and unpacking run on the tensors' device.
#ifndef UMA_HALO_PLANNED_EXCHANGE_H
#define UMA_HALO_PLANNED_EXCHANGE_H

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "engine/core/engine.h"
#include "halo/exchange_plan.h"

namespace uma {

class PlannedExchange : public HaloExchange {
 public:
  // The plan for the following exchanges (after every neighbour-list build); its index lists are
  // copied to the device of the next exchanged tensor on first use.
  void set_plan(ExchangePlan plan);
  const ExchangePlan& plan() const { return plan_; }

  // x [n_rows, K]: ghost rows become copies of their owners' rows.
  void forward(torch::Tensor& x) override;
  // g [n_rows, K]: every ghost row is added to its owner's row (here or on its rank), then zeroed.
  void reverse(torch::Tensor& g) override;

 protected:
  // Moves send[k] to plan().peers[k].rank and fills recv[k] (allocated, same dtype and device, the
  // row count the peer sends) from it, for every k; both lists are indexed like plan().peers. A
  // tensor may have zero rows (nothing goes that way). Collective: every peer calls it in turn.
  virtual void transfer(const std::vector<torch::Tensor>& send, std::vector<torch::Tensor>& recv) = 0;

 private:
  ExchangePlan plan_;
  torch::Device device_ = torch::kCPU;
  bool on_device_ = false;  // the index tensors below are on device_
  torch::Tensor self_src_, self_dst_;
  std::vector<torch::Tensor> send_rows_, recv_rows_;  // per peer
  std::vector<torch::Tensor> send_, recv_;             // per peer: this exchange's buffers

  void check(const torch::Tensor& x, const char* what);
  // send_[k] = rows out_rows[k] of x; recv_[k] = room for in_rows[k].size(0) rows.
  void pack(const torch::Tensor& x, const std::vector<torch::Tensor>& out_rows,
            const std::vector<torch::Tensor>& in_rows);
};

}  // namespace uma

#endif
