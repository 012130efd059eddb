// uma::CapturedEvaluation — one whole evaluation (forward and autograd backward) recorded once as a CUDA
// graph and replayed on later calls. For small systems the GPU work of a step is a few milliseconds
// while launching its ~1000 kernels and running autograd on the host costs several times that; a
// replay is one launch. CUDA builds only (UMA_HAVE_CUDA_KERNELS).
//
// A graph has fixed shapes and addresses, so the inputs are copied into static tensors each call, and
// the edge list is padded to a capacity with edges that contribute exactly zero: source = target =
// atom (edge index mod atoms) and a vector longer than the cutoff, where the envelope (and so every message, the
// edge-degree term and every gradient through them) is exactly zero. The graph is recorded again
// when the atom count changes, the edges outgrow the capacity (or shrink well below it), or the
// weights it reads change (generation). Padding and re-recording rules: graph_policy.h.
#ifndef UMA_ENGINE_CAPTURED_EVAL_H
#define UMA_ENGINE_CAPTURED_EVAL_H

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>

#include "engine/core/engine.h"

namespace uma {

class CapturedEvaluation {
 public:
  // The engine's evaluation of given inputs; it must not synchronise with the host (no .item(), no
  // data-dependent sizes) and must return energy_device, atom_energy and edge_grad.
  using Body = std::function<EvalOutput(const EvalInput&)>;

  // pad_length: length (Å) of the padding edges' vector; must exceed the cutoff.
  CapturedEvaluation(torch::Device device, double pad_length);
  ~CapturedEvaluation();
  CapturedEvaluation(const CapturedEvaluation&) = delete;
  CapturedEvaluation& operator=(const CapturedEvaluation&) = delete;

  // Replays the graph for `in` (recording it first when needed: that call runs `body` directly for
  // its results and records it once more without running). generation: changes whenever anything
  // the body reads besides its inputs changes (merged weights, task embeddings). The returned
  // tensors are the caller's (copies of the graph's static outputs).
  EvalOutput run(const EvalInput& in, uint64_t generation, const Body& body);

  int64_t captures() const;       // graphs recorded so far
  int64_t edge_capacity() const;  // edges of the current graph, padding included (0: none)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace uma

#endif
