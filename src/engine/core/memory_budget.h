// How many edges an evaluation may process at once: the engine evaluates all edges in one pass
// when their activations fit in the memory left on the device, and otherwise in chunks with
// recomputation (edge_chunks.h). Estimates, not guarantees; the sizes come from measurements
// (benchmarks/results/2026-11-26-h100-final.md).
#ifndef UMA_ENGINE_MEMORY_BUDGET_H
#define UMA_ENGINE_MEMORY_BUDGET_H

#include <torch/torch.h>

#include <cstdint>

namespace uma {

// Bytes the engine could still allocate on `device`: for CUDA the driver's free memory plus what
// the caching allocator holds unused; for the CPU the kernel's MemAvailable. 0 if unknown.
int64_t available_memory_bytes(const torch::Device& device);

// Edges per chunk for one evaluation (0: all edges in one pass, no recomputation).
// requested: > 0 a fixed chunk size, < 0 never chunk, 0 automatic (one pass if it needs at most
// 60 % of the available memory, else chunks that need about a quarter of what the per-edge tensors
// kept for the whole evaluation leave). Never returns a chunk that would hold every edge.
// memory_share in (0, 1]: the part of the available memory this evaluation may plan for, where
// several processes (MPI ranks on one node, or on one GPU) evaluate at the same time and each sees
// the same available memory. Automatic mode throws uma::Error ("out of memory") when even the
// per-edge tensors kept for the whole evaluation would not fit in the share.
// The Torch path's one-pass peak, the largest of one_pass_values (below).
constexpr int64_t kTorchPathOnePassValues = 70;

// values_per_edge_layer_channel: the one pass's peak as one_pass_values gives it for the path that runs.
int64_t plan_edge_chunks(int64_t requested, int64_t num_edges, int64_t num_layers, int64_t channels,
                         int64_t element_bytes, const torch::Device& device, double memory_share = 1.0,
                         int64_t values_per_edge_layer_channel = kTorchPathOnePassValues);

// The peak of a one-pass evaluation with the gradient, in values of the working precision per edge, layer and
// channel (measured; memory_budget.cpp): the Torch path's (70), the fused CUDA kernels' (48), or theirs with conv 1's
// radial scale recomputed in the backward (40).
int64_t one_pass_values(bool fused_kernels, bool radial_recomputed);

// Whether a one-pass evaluation on the fused kernels recomputes conv 1's radial scale in the backward instead of
// keeping it (one more GEMM per layer). requested: > 0 always, < 0 never, 0 automatic: only where a pass that keeps
// it would not fit (plan_edge_chunks would chunk) and one that recomputes it would.
bool plan_radial_recompute(int requested, int64_t num_edges, int64_t num_layers, int64_t channels,
                           int64_t element_bytes, const torch::Device& device, double memory_share = 1.0);

// The share of one of `sharing` processes that evaluate on one device at the same time.
inline double memory_share_of(int sharing) { return sharing > 1 ? 1.0 / sharing : 1.0; }

}  // namespace uma

#endif
