// How many edges an evaluation may process at once: the engine evaluates all edges in one pass
// when their activations fit in the memory left on the device, and otherwise in chunks with
// recomputation (edge_chunks.h). Estimates, not guarantees; the sizes come from measurements
// (benchmarks/results/2026-11-26-h100-final.md).
#ifndef UMA_ENGINE_MEMORY_BUDGET_H
#define UMA_ENGINE_MEMORY_BUDGET_H

#include <torch/torch.h>

#include <cstdint>

#include "engine/core/recompute.h"

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
// channel (measured; memory_budget.cpp): the Torch path's (70, whatever `recomputed` says: it has no recipes), or the
// fused CUDA kernels' with what they recompute in the backward (48 keeping everything, 40 recomputing conv 1's radial
// scale, 35 also recomputing conv 2's outputs).
int64_t one_pass_values(bool fused_kernels, Recompute recomputed);

// What a one-pass evaluation on the fused kernels recomputes in the backward instead of keeping it (recompute.h).
// requested: 1 conv 1's radial scale, >= 2 that and conv 2's outputs (always, for any edges), < 0 nothing, 0 automatic:
// the first tier, cheapest first, whose pass fits where keeping everything would not (plan_edge_chunks would chunk);
// nothing where none fits (chunks recompute everything anyway).
Recompute plan_recompute(int requested, int64_t num_edges, int64_t num_layers, int64_t channels,
                         int64_t element_bytes, const torch::Device& device, double memory_share = 1.0);

// The share of one of `sharing` processes that evaluate on one device at the same time.
inline double memory_share_of(int sharing) { return sharing > 1 ? 1.0 / sharing : 1.0; }

}  // namespace uma

#endif
