// Launcher of radial_gather (radial_gather_launch.h); the kernel is radial_gather_kernel.cuh.
#include <cstdint>
#include <stdexcept>
#include <string>

#include "kernels/launch_check.h"
#include "radial_gather_kernel.cuh"
#include "radial_gather_launch.h"

namespace uma {
namespace kernels {

void radial_gather(const RadialGatherParams& p, cudaStream_t stream) {
  const char* why = radial_gather_refusal(p);
  if (*why) throw std::invalid_argument(std::string("radial_gather: ") + why);
  const GatherRotateFwdParams<float>& g = p.gather;
  if (g.n_edges == 0) return;
  const MGroupRows<float*> rows = resolve_rows(g.out, g.out_groups, 2 * g.channels);
  if (!rows_valid(rows, 2 * g.channels))
    throw std::invalid_argument("radial_gather: out missing or m-groups overlapping");
  // 16-byte copies of W rows, 8-byte loads of hidden, x and bias, 8-byte stores of the message rows.
  auto aligned = [](const void* ptr, uintptr_t n) { return reinterpret_cast<uintptr_t>(ptr) % n == 0; };
  bool ok = aligned(p.weight, 16) && aligned(p.hidden, 8) && aligned(g.x, 8) && (!p.bias || aligned(p.bias, 8));
  for (int m = 0; m < kMGroups; ++m) ok = ok && aligned(rows.base[m], 8) && rows.edge_stride[m] % 2 == 0;
  if (!ok)
    throw std::invalid_argument("radial_gather: weight must be 16-byte aligned, hidden, x, bias and the m-groups 8-byte");
  using radial_gather_detail::kSmemBytes;
  using radial_gather_detail::kThreads;
  using radial_gather_detail::kTileEdges;
  // At every launch, as CUTLASS's launchers do (the attributes belong to the current device's context): the dynamic
  // shared memory, and the largest carveout, so that two CTAs fit on an SM beside each other (the planned occupancy).
  cudaError_t err =
      cudaFuncSetAttribute(radial_gather_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(kSmemBytes));
  if (err == cudaSuccess)
    err = cudaFuncSetAttribute(radial_gather_kernel, cudaFuncAttributePreferredSharedMemoryCarveout,
                               int(cudaSharedmemCarveoutMaxShared));
  if (err != cudaSuccess)
    throw std::runtime_error(std::string("radial_gather: cannot reserve ") + std::to_string(kSmemBytes) +
                             " bytes of shared memory: " + cudaGetErrorString(err));
  RadialGatherParams q = p;
  q.gather.out = nullptr;
  q.gather.out_groups = rows;
  const unsigned blocks = static_cast<unsigned>((g.n_edges + kTileEdges - 1) / kTileEdges);
  radial_gather_kernel<<<blocks, kThreads, kSmemBytes, stream>>>(q);
  throw_if_launch_failed("radial_gather", "(E=" + std::to_string(g.n_edges) + ", K=" +
                                              std::to_string(p.hidden_dim) + ")");
}

}  // namespace kernels
}  // namespace uma
