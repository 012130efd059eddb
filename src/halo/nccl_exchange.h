// uma::NcclExchange — the PlannedExchange transport over NCCL: ncclSend/ncclRecv per peer inside one
// ncclGroupStart/End on the current CUDA stream of the rows' device (the engine's), so packing,
// transfer and unpacking stay on the GPU in stream order with no host synchronisation. One NCCL
// communicator per MPI communicator (one per LAMMPS world): rank 0 makes the unique id, MPI_Bcast
// hands it to the others. Compiled when UMA_ENABLE_NCCL finds nccl.h (UMA_HAVE_NCCL).
#ifndef UMA_HALO_NCCL_EXCHANGE_H
#define UMA_HALO_NCCL_EXCHANGE_H

#include <mpi.h>

#include <memory>

#include "halo/planned_exchange.h"

namespace uma {

class NcclExchange : public PlannedExchange {
 public:
  // Collective over comm: every rank on its own GPU `device` (CUDA; NCCL does not allow two ranks
  // of one communicator on one GPU). Throws uma::Error with NCCL's message when that fails.
  NcclExchange(MPI_Comm comm, const torch::Device& device);
  ~NcclExchange() override;  // ncclCommDestroy
  NcclExchange(const NcclExchange&) = delete;
  NcclExchange& operator=(const NcclExchange&) = delete;

 protected:
  void transfer(const std::vector<torch::Tensor>& send, std::vector<torch::Tensor>& recv) override;

 private:
  struct Comm;  // the ncclComm_t, kept out of this header
  std::unique_ptr<Comm> comm_;
};

}  // namespace uma

#endif
