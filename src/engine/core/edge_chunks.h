// Sums of per-edge work into nodes, evaluated over ranges of edges with activation recomputation:
// the forward pass keeps no per-edge intermediates, and the backward pass re-runs one range at a
// time with autograd on and backpropagates it alone (activation checkpointing along the edge axis).
// Per-edge activations dominate UMA's memory (tens of kB per edge and layer), so this bounds the
// memory of a large system by the chunk size, at the price of one more forward pass of that work.
#ifndef UMA_ENGINE_EDGE_CHUNKS_H
#define UMA_ENGINE_EDGE_CHUNKS_H

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace uma {

// The per-edge work: node_inputs are whole ([N,...]), edge_inputs are the chunk's rows of every
// edge tensor (all of the same length, the chunk's edge count; int tensors such as src/dst are
// allowed). Returns the chunk's contribution to a node tensor, the same shape for every chunk.
// Must be a pure function of its inputs (it is called twice per chunk).
struct EdgeWork : torch::CustomClassHolder {
  virtual torch::Tensor operator()(const std::vector<torch::Tensor>& node_inputs,
                                   const std::vector<torch::Tensor>& edge_inputs) const = 0;
};

// sum over chunks of `work`, differentiable with respect to every floating-point input.
// chunk_edges <= 0 or >= the edge count: one plain call of `work` (ordinary autograd, no recompute).
torch::Tensor sum_over_edge_chunks(const c10::intrusive_ptr<EdgeWork>& work,
                                   const std::vector<torch::Tensor>& node_inputs,
                                   const std::vector<torch::Tensor>& edge_inputs, int64_t chunk_edges);

}  // namespace uma

#endif
