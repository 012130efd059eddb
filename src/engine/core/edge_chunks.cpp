#include "engine/core/edge_chunks.h"

#include <algorithm>

namespace uma {

namespace {

bool differentiable(const torch::Tensor& t) { return t.defined() && t.is_floating_point(); }

// Autograd node: inputs = node tensors then edge tensors (one TensorList); the work object, the
// node-input count and the chunk size travel in saved_data.
struct ChunkedEdgeSum : torch::autograd::Function<ChunkedEdgeSum> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, at::TensorList inputs, int64_t n_node,
                               c10::intrusive_ptr<EdgeWork> work, int64_t chunk) {
    torch::NoGradGuard no_grad;  // nothing per edge is kept: that is the point
    std::vector<torch::Tensor> node(inputs.begin(), inputs.begin() + n_node);
    std::vector<torch::Tensor> edge(inputs.begin() + n_node, inputs.end());
    const int64_t E = edge.front().size(0);
    torch::Tensor total;
    for (int64_t begin = 0; begin < E; begin += chunk) {
      const int64_t len = std::min(chunk, E - begin);
      std::vector<torch::Tensor> part;
      for (const auto& t : edge) part.push_back(t.narrow(0, begin, len));
      auto contribution = (*work)(node, part);
      if (total.defined()) total.add_(contribution);
      else total = contribution;
    }
    ctx->save_for_backward(inputs.vec());
    ctx->saved_data["n_node"] = n_node;
    ctx->saved_data["chunk"] = chunk;
    ctx->saved_data["work"] = c10::IValue::make_capsule(work);
    return total;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto inputs = ctx->get_saved_variables();
    const int64_t n_node = ctx->saved_data["n_node"].toInt();
    const int64_t chunk = ctx->saved_data["chunk"].toInt();
    auto holder = ctx->saved_data["work"].toCapsule();
    const auto* work = static_cast<const EdgeWork*>(holder.get());
    const auto& grad = grad_outputs[0];
    const size_t n_in = inputs.size();

    std::vector<bool> wanted(n_in);
    for (size_t i = 0; i < n_in; ++i) wanted[i] = ctx->needs_input_grad(i) && differentiable(inputs[i]);
    // Node inputs: leaves shared by every chunk's recomputed graph; their gradients accumulate.
    std::vector<torch::Tensor> node(n_node), grads(n_in);
    for (int64_t i = 0; i < n_node; ++i) {
      node[i] = inputs[i].detach();
      if (wanted[i]) node[i].requires_grad_(true);
    }
    for (size_t i = n_node; i < n_in; ++i)
      if (wanted[i]) grads[i] = torch::zeros_like(inputs[i]);

    torch::AutoGradMode enable_grad(true);
    const int64_t E = inputs[n_node].size(0);
    for (int64_t begin = 0; begin < E; begin += chunk) {
      const int64_t len = std::min(chunk, E - begin);
      std::vector<torch::Tensor> part, targets;
      std::vector<size_t> target_index;
      for (int64_t i = 0; i < n_node; ++i)
        if (wanted[i]) targets.push_back(node[i]), target_index.push_back(i);
      for (size_t i = n_node; i < n_in; ++i) {
        auto p = inputs[i].narrow(0, begin, len).detach();
        if (wanted[i]) {
          p.requires_grad_(true);
          targets.push_back(p), target_index.push_back(i);
        }
        part.push_back(p);
      }
      if (targets.empty()) break;
      auto contribution = (*work)(node, part);
      auto g = torch::autograd::grad({contribution}, targets, {grad}, /*retain_graph=*/false,
                                     /*create_graph=*/false, /*allow_unused=*/true);
      for (size_t k = 0; k < targets.size(); ++k) {
        if (!g[k].defined()) continue;
        const size_t i = target_index[k];
        if (static_cast<int64_t>(i) < n_node) grads[i] = grads[i].defined() ? grads[i] + g[k] : g[k];
        else grads[i].narrow(0, begin, len).copy_(g[k]);
      }
    }
    grads.resize(n_in + 3);  // n_node, work and chunk are not tensors
    return grads;
  }
};

}  // namespace

torch::Tensor sum_over_edge_chunks(const c10::intrusive_ptr<EdgeWork>& work,
                                   const std::vector<torch::Tensor>& node_inputs,
                                   const std::vector<torch::Tensor>& edge_inputs, int64_t chunk_edges) {
  const int64_t E = edge_inputs.front().size(0);
  if (chunk_edges <= 0 || chunk_edges >= E) return (*work)(node_inputs, edge_inputs);
  std::vector<torch::Tensor> all(node_inputs);
  all.insert(all.end(), edge_inputs.begin(), edge_inputs.end());
  return ChunkedEdgeSum::apply(at::TensorList(all), static_cast<int64_t>(node_inputs.size()), work, chunk_edges);
}

}  // namespace uma
