// uma::MpiExchange — the PlannedExchange transport over host MPI: one MPI_Isend/MPI_Irecv pair per
// peer on a private duplicate of the communicator (no tag can meet another library's messages).
// Rows of a GPU engine are staged through host memory. For CPUs, and GPUs without NCCL.
#ifndef UMA_HALO_MPI_EXCHANGE_H
#define UMA_HALO_MPI_EXCHANGE_H

#include <mpi.h>

#include "halo/planned_exchange.h"

namespace uma {

class MpiExchange : public PlannedExchange {
 public:
  explicit MpiExchange(MPI_Comm comm);  // collective over comm (MPI_Comm_dup)
  ~MpiExchange() override;              // collective (MPI_Comm_free)
  MpiExchange(const MpiExchange&) = delete;
  MpiExchange& operator=(const MpiExchange&) = delete;

 protected:
  void transfer(const std::vector<torch::Tensor>& send, std::vector<torch::Tensor>& recv) override;

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
};

}  // namespace uma

#endif
