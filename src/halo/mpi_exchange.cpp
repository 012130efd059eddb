// uma::MpiExchange (mpi_exchange.h).

#include "halo/mpi_exchange.h"

#include <limits>
#include <string>

#include "model/errors.h"

namespace uma {

MpiExchange::MpiExchange(MPI_Comm comm) { MPI_Comm_dup(comm, &comm_); }

MpiExchange::~MpiExchange() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

void MpiExchange::transfer(const std::vector<torch::Tensor>& send, std::vector<torch::Tensor>& recv) {
  const auto& peers = plan().peers;
  const size_t n = peers.size();
  if (n == 0) return;
  // Host tensors: the buffers themselves; a GPU's are copied (send) or filled through a copy (recv).
  std::vector<torch::Tensor> hsend(n), hrecv(n);
  for (size_t k = 0; k < n; k++) {
    hsend[k] = send[k].to(torch::kCPU).contiguous();
    hrecv[k] = recv[k].is_cpu() ? recv[k] : torch::empty(recv[k].sizes(), recv[k].options().device(torch::kCPU));
  }
  auto count = [](const torch::Tensor& t) {
    // Counts in elements of the rows' type: 2^31 - 1 of them is ~1.8 million rows of 1152 values.
    if (t.numel() > std::numeric_limits<int>::max())
      throw Error("halo exchange over MPI: " + std::to_string(t.size(0)) +
                  " rows to one rank exceed MPI's int count; use more ranks or halo_comm lammps");
    return static_cast<int>(t.numel());
  };
  const MPI_Datatype type = send[0].scalar_type() == torch::kFloat64 ? MPI_DOUBLE : MPI_FLOAT;
  std::vector<MPI_Request> requests;
  requests.reserve(2 * n);
  constexpr int kTag = 17;
  for (size_t k = 0; k < n; k++) {
    if (hrecv[k].numel() == 0) continue;
    requests.emplace_back();
    MPI_Irecv(hrecv[k].data_ptr(), count(hrecv[k]), type, peers[k].rank, kTag, comm_, &requests.back());
  }
  for (size_t k = 0; k < n; k++) {
    if (hsend[k].numel() == 0) continue;
    requests.emplace_back();
    MPI_Isend(hsend[k].data_ptr(), count(hsend[k]), type, peers[k].rank, kTag, comm_, &requests.back());
  }
  MPI_Waitall(static_cast<int>(requests.size()), requests.data(), MPI_STATUSES_IGNORE);
  for (size_t k = 0; k < n; k++)
    if (!recv[k].is_cpu()) recv[k].copy_(hrecv[k]);
}

}  // namespace uma
