#include "engine/core/memory_budget.h"

#include "model/errors.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

#ifdef UMA_HAVE_CUDA_KERNELS
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>
#endif

namespace uma {

namespace {

// Peak bytes per edge of a one-pass fp32 evaluation with gradient, per layer and channel: 6.6 MiB
// per atom at 49.1 edges per atom (fcc carbon) and 10.0 MiB at 74.7 (liquid Cu), 4 layers,
// 128 channels, on the H100 (2026-11-26) -> 68.8 and 68.5 values; rounded up. Still the estimate for the Torch path
// (the CPU, or a build without the fused kernels), and the base of the chunk sizes below.
constexpr int64_t kPlainValuesPerEdgeLayerChannel = kTorchPathOnePassValues;
// The same with the fused CUDA kernels as they are now (they keep far less for the backward): measured on an H100 on
// 2026-12-07 in TF32 (benchmarks/results/2026-12-07-h100-radial-recompute.md), peak over one evaluation: 4.08 MiB per
// atom at carbon 2000 (42.5 values), 5.78 at Cu 2000 (39.6), 7.36 at Cu 192 (50.5: a small cell also pays per-atom
// tensors and a CUDA graph's padded edges, far from any memory limit). 48 leaves ~13 % on the large cells, within the
// 40 % of the available memory a one pass leaves free anyway. The GEMM mode does not change what is kept; fp64 keeps
// the same values at 8 bytes.
constexpr int64_t kFusedValuesPerEdgeLayerChannel = 48;
// What recomputing conv 1's radial scale (fused_wigner_ops.h RadialRecipe) takes off that peak: the scale is 12 values
// per channel (6 x 2C per edge and layer), but the backward holds one layer's scale again while it runs; measured
// 8.2, 7.8 and 8.6 values on the three structures above.
constexpr int64_t kRadialRecomputeSavedValues = 8;
// What recomputing conv 2's outputs as well (fused_wigner_ops.h MessageRecipe) takes off: they are 9 values per channel
// (9 x C per edge and layer), but the backward holds one layer's again, with the gated message it makes them from;
// measured 5.7, 5.5 and 5.8 values on the three structures above (H100, 2026-12-07,
// benchmarks/results/2026-12-07-h100-recompute-conv2.md).
constexpr int64_t kConv2RecomputeSavedValues = 5;
// A chunk in the backward pass holds one layer's activations and their gradients.
constexpr int64_t kChunkValuesPerEdgeChannel = 2 * kPlainValuesPerEdgeLayerChannel;
// Kept per edge for the whole evaluation in chunked mode: the Gaussian basis (64), the rotation
// and its transpose with the envelope (2 x 81), what autograd keeps of the Wigner construction, and
// these tensors' gradients in the backward pass. An upper estimate.
constexpr int64_t kPersistentValuesPerEdge = 1000;
// Smallest chunk worth a launch sequence (below this the GPU idles between kernels).
constexpr int64_t kMinChunkEdges = 4096;

int64_t cpu_available_bytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line)) {
    if (line.rfind("MemAvailable:", 0) != 0) continue;
    std::istringstream fields(line.substr(13));
    int64_t kib = 0;
    fields >> kib;
    return kib * 1024;
  }
  return 0;
}

// memory_share as planned for: a part in (0, 1), anything else the whole.
double clamped_share(double memory_share) { return memory_share > 0.0 && memory_share < 1.0 ? memory_share : 1.0; }

// The memory this process may plan for (0: unknown).
int64_t share_of_available(const torch::Device& device, double memory_share) {
  return static_cast<int64_t>(static_cast<double>(available_memory_bytes(device)) * clamped_share(memory_share));
}

// Whether a one-pass evaluation fits: at most 60 % of what is available (the rest for the backward's transients
// and what others allocate meanwhile).
bool one_pass_fits(int64_t num_edges, int64_t num_layers, int64_t channels, int64_t element_bytes, int64_t values,
                   int64_t available) {
  return num_edges * num_layers * channels * values * element_bytes <= available / 10 * 6;
}

}  // namespace

int64_t available_memory_bytes(const torch::Device& device) {
#ifdef UMA_HAVE_CUDA_KERNELS
  if (device.is_cuda()) {
    // "cuda" without an index means the current device (the allocator wants a real index).
    const c10::DeviceIndex index = device.has_index() ? device.index() : c10::cuda::current_device();
    c10::cuda::CUDAGuard guard(index);
    size_t free_bytes = 0, total_bytes = 0;
    if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess) {
      (void)cudaGetLastError();  // clear the sticky-free error state; report "unknown"
      return 0;
    }
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(index);
    const size_t agg = static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE);
    const int64_t cached_unused = stats.reserved_bytes[agg].current - stats.allocated_bytes[agg].current;
    return static_cast<int64_t>(free_bytes) + std::max<int64_t>(0, cached_unused);
  }
#endif
  if (device.is_cpu()) return cpu_available_bytes();
  return 0;
}

int64_t one_pass_values(bool fused_kernels, Recompute recomputed) {
  if (!fused_kernels) return kPlainValuesPerEdgeLayerChannel;
  int64_t values = kFusedValuesPerEdgeLayerChannel;
  if (recomputed >= Recompute::radial) values -= kRadialRecomputeSavedValues;
  if (recomputed >= Recompute::radial_and_conv2) values -= kConv2RecomputeSavedValues;
  return values;
}

Recompute plan_recompute(int requested, int64_t num_edges, int64_t num_layers, int64_t channels,
                         int64_t element_bytes, const torch::Device& device, double memory_share) {
  if (num_edges == 0 || requested < 0) return Recompute::none;
  if (requested > 0) return requested == 1 ? Recompute::radial : Recompute::radial_and_conv2;
  const int64_t available = share_of_available(device, memory_share);
  auto fits = [&](Recompute r) {
    return one_pass_fits(num_edges, num_layers, channels, element_bytes, one_pass_values(true, r), available);
  };
  if (available == 0 || fits(Recompute::none)) return Recompute::none;
  for (Recompute r : {Recompute::radial, Recompute::radial_and_conv2})
    if (fits(r)) return r;
  return Recompute::none;
}

int64_t plan_edge_chunks(int64_t requested, int64_t num_edges, int64_t num_layers, int64_t channels,
                         int64_t element_bytes, const torch::Device& device, double memory_share,
                         int64_t values_per_edge_layer_channel) {
  if (requested < 0 || num_edges == 0) return 0;
  if (requested > 0) return requested < num_edges ? requested : 0;
  const double share = clamped_share(memory_share);
  const int64_t available = share_of_available(device, memory_share);
  if (available == 0 ||
      one_pass_fits(num_edges, num_layers, channels, element_bytes, values_per_edge_layer_channel, available))
    return 0;
  const int64_t per_edge = kChunkValuesPerEdgeChannel * channels * element_bytes;
  const int64_t persistent = num_edges * kPersistentValuesPerEdge * element_bytes;
  const int64_t left = available - persistent;
  if (left < kMinChunkEdges * per_edge) {
    std::ostringstream msg;
    msg << "out of memory (planned): " << num_edges << " edges keep about " << (persistent >> 20)
        << " MiB for the whole evaluation, more than the " << (available >> 20) << " MiB this process may use"
        << (share < 1.0 ? " (its share of the memory available on the device, split between the processes "
                          "that use it)"
                        : " (the memory available on the device)");
    throw Error(msg.str());
  }
  const int64_t chunk = std::max(kMinChunkEdges, left / 4 / per_edge);
  return chunk < num_edges ? chunk : 0;
}

}  // namespace uma
