// uma::NcclExchange (nccl_exchange.h).

#include "halo/nccl_exchange.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <nccl.h>

#include <string>

#include "model/errors.h"

namespace uma {

namespace {
void check_nccl(ncclResult_t status, const char* what) {
  if (status != ncclSuccess)
    throw Error(std::string("halo exchange over NCCL: ") + what + " failed: " + ncclGetErrorString(status));
}
}  // namespace

struct NcclExchange::Comm {
  ncclComm_t comm = nullptr;
  int device = 0;
};

NcclExchange::NcclExchange(MPI_Comm comm, const torch::Device& device) : comm_(new Comm) {
  if (!device.is_cuda() || !device.has_index())
    throw Error("halo exchange over NCCL needs the engine on one CUDA device (device cuda), got " + device.str());
  int me = 0, nprocs = 1;
  MPI_Comm_rank(comm, &me);
  MPI_Comm_size(comm, &nprocs);
  ncclUniqueId id;
  ncclResult_t made = ncclSuccess;
  if (me == 0) made = ncclGetUniqueId(&id);
  // Every rank learns whether rank 0 has an id before any waits in ncclCommInitRank for it.
  int ok = made == ncclSuccess;
  MPI_Bcast(&ok, 1, MPI_INT, 0, comm);
  if (!ok) throw Error(std::string("halo exchange over NCCL: ncclGetUniqueId failed on rank 0") +
                       (me == 0 ? std::string(": ") + ncclGetErrorString(made) : std::string()));
  MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, comm);
  comm_->device = device.index();
  c10::cuda::CUDAGuard guard(comm_->device);
  check_nccl(ncclCommInitRank(&comm_->comm, nprocs, id, me), "ncclCommInitRank");
}

NcclExchange::~NcclExchange() {
  if (comm_ && comm_->comm) ncclCommDestroy(comm_->comm);
}

void NcclExchange::transfer(const std::vector<torch::Tensor>& send, std::vector<torch::Tensor>& recv) {
  const auto& peers = plan().peers;
  if (peers.empty()) return;
  c10::cuda::CUDAGuard guard(comm_->device);
  // The stream the engine (and the packing index_select) runs on: NCCL's work is ordered after the
  // packing and before the unpacking without waiting on the host.
  cudaStream_t stream = at::cuda::getCurrentCUDAStream(comm_->device).stream();
  const ncclDataType_t type = send[0].scalar_type() == torch::kFloat64 ? ncclFloat64 : ncclFloat32;
  for (size_t k = 0; k < peers.size(); k++)
    if (!send[k].is_cuda() || !recv[k].is_cuda())
      throw Error("halo exchange over NCCL: rows are not on the GPU (engine device " + send[k].device().str() + ")");
  check_nccl(ncclGroupStart(), "ncclGroupStart");
  for (size_t k = 0; k < peers.size(); k++) {
    if (send[k].numel() > 0)
      check_nccl(ncclSend(send[k].data_ptr(), static_cast<size_t>(send[k].numel()), type, peers[k].rank,
                          comm_->comm, stream), "ncclSend");
    if (recv[k].numel() > 0)
      check_nccl(ncclRecv(recv[k].data_ptr(), static_cast<size_t>(recv[k].numel()), type, peers[k].rank,
                          comm_->comm, stream), "ncclRecv");
  }
  check_nccl(ncclGroupEnd(), "ncclGroupEnd");
}

}  // namespace uma
