// What the autograd wrappers of the fused CUDA kernels (edge/ and node/ here, and nn/tensor_core_linear.cpp) share:
// argument checks and launcher failures as uma::Error (the one error type the engine's callers handle), and the
// stream the kernels go on (Torch's current one, so they order with the surrounding Torch work and CUDA-graph
// capture).
#ifndef UMA_ENGINE_FUSED_LAUNCH_H
#define UMA_ENGINE_FUSED_LAUNCH_H

#include <ATen/cuda/CUDAContext.h>
#include <torch/torch.h>

#include <exception>
#include <string>

#include "model/errors.h"

namespace uma {
namespace kernels {}  // the launchers' namespace (src/kernels/*/..._launch.h)
namespace fused {

// The names every wrapper uses (one place, not one copy per wrapper).
namespace k = uma::kernels;
using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

inline void require(bool ok, const std::string& what) {
  if (!ok) throw Error(what);
}

// The TF32 mode's producer rounding (round_tf32, kernels/tf32_operand.cuh) is for float32 tensors only.
inline void require_round_tf32_dtype(const std::string& op, bool round_tf32, const Tensor& like) {
  require(!round_tf32 || like.scalar_type() == torch::kFloat32, op + ": round_tf32 needs float32");
}

// Runs a launcher; its std::invalid_argument / std::runtime_error become uma::Error.
template <typename F>
void launch(F&& f) {
  try {
    f();
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(e.what());
  }
}

inline cudaStream_t current_stream() { return at::cuda::getCurrentCUDAStream().stream(); }

// torch::autograd::Function::apply records every tensor argument's metadata when it builds the graph node and refuses
// an undefined one ("tensor does not have a device"). An optional tensor argument therefore travels through apply as
// a stand-in, a defined empty 1-D tensor, and becomes undefined again inside forward. (No optional argument of the
// wrappers is ever a real empty 1-D tensor: those are per-edge or per-row 2-D and 3-D tensors, or index vectors that
// come with a 2-D table.)
inline Tensor optional_arg(const Tensor& t, const Tensor& like) {
  return t.defined() ? t : torch::empty({0}, like.options());
}
inline Tensor from_optional_arg(const Tensor& t) { return t.dim() == 1 && t.numel() == 0 ? Tensor() : t; }

}  // namespace fused
}  // namespace uma

#endif  // UMA_ENGINE_FUSED_LAUNCH_H
