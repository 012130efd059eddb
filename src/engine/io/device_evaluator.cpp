// uma::DeviceEvaluator: wraps the caller's buffers as tensors without copying and runs the engine on
// the caller's CUDA stream.
#include "engine/io/device_evaluator.h"

#include "engine/core/engine.h"

#ifdef UMA_HAVE_CUDA_KERNELS
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#endif

#include <optional>
#include <stdexcept>
#include <vector>

namespace uma {

struct DeviceEvaluator::Impl {
  Engine &engine;
  // Outputs of the last evaluation, in the batch's memory; alive until the next call.
  torch::Tensor edge_grad, atom_energy;
  explicit Impl(Engine &e) : engine(e) {}
};

namespace {

torch::Device memory_device(int index)
{
  return index < 0 ? torch::Device(torch::kCPU)
                   : torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

// A caller buffer as a tensor on `where` (aliasing, no copy), moved to `engine_device` if that
// differs (a copy, only for uma/kk/host with an engine on the GPU or the reverse).
torch::Tensor wrap(const void *data, std::vector<int64_t> shape, torch::Dtype dtype,
                   const torch::Device &where, const torch::Device &engine_device)
{
  const auto options = torch::TensorOptions().dtype(dtype).device(where);
  int64_t numel = 1;
  for (int64_t s : shape) numel *= s;
  torch::Tensor t = numel == 0 ? torch::empty(shape, options)
                               : torch::from_blob(const_cast<void *>(data), shape, options);
  return t.to(engine_device);
}

}  // namespace

DeviceEvaluator::DeviceEvaluator(Engine &engine) : impl_(new Impl(engine)) {}
DeviceEvaluator::~DeviceEvaluator() = default;

int DeviceEvaluator::max_num_elements() const { return impl_->engine.info().max_num_elements; }

int DeviceEvaluator::max_neighbors() const { return impl_->engine.info().max_neighbors; }

int DeviceEvaluator::engine_device() const
{
  const torch::Device &d = impl_->engine.options().device;
  return d.is_cuda() ? static_cast<int>(d.index() < 0 ? 0 : d.index()) : -1;
}

bool DeviceEvaluator::cuda_available() { return torch::cuda::is_available(); }

DeviceResult DeviceEvaluator::evaluate(const DeviceBatch &b, bool want_energy,
                                       bool want_atom_energy)
{
  Impl &s = *impl_;
  const torch::Device where = memory_device(b.memory_device);
  const torch::Device engine_device = s.engine.options().device;
  try {
#ifdef UMA_HAVE_CUDA_KERNELS
    // Queue the engine's work on the caller's stream: the edge list written by the caller's
    // kernels is complete before the engine reads it, and the caller's later kernels see the
    // engine's outputs, with no device-wide synchronisation.
    std::optional<c10::cuda::CUDAStreamGuard> stream_guard;
    if (engine_device.is_cuda())
      stream_guard.emplace(c10::cuda::getStreamFromExternal(
          static_cast<cudaStream_t>(b.cuda_stream), engine_device.index()));
#endif
    EvalInput in;
    in.atomic_numbers = wrap(b.atomic_numbers, {b.n_atoms}, torch::kInt64, where, engine_device);
    in.edge_src = wrap(b.edge_src, {b.n_edges}, torch::kInt64, where, engine_device);
    in.edge_dst = wrap(b.edge_dst, {b.n_edges}, torch::kInt64, where, engine_device);
    in.edge_vec = wrap(b.edge_vec, {b.n_edges, 3}, torch::kFloat64, where, engine_device);
    in.n_energy_atoms = b.n_energy_atoms;
    in.halo = b.halo;
    in.rank_sum = b.rank_sum;
    EvalRequest request;
    request.gradient = true;
    request.atom_energy = want_atom_energy;
    request.host_energy = want_energy;
    EvalOutput out = s.engine.evaluate(in, request);

    s.edge_grad = out.edge_grad.to(where, torch::kFloat64).contiguous();
    DeviceResult r;
    r.energy = want_energy ? out.energy : 0.0;
    r.finite = out.finite;
    r.edge_chunk = out.edge_chunk;
    r.graph_edges = out.graph_edges;
    r.recomputed = out.recomputed;
    r.edge_grad = b.n_edges > 0 ? s.edge_grad.data_ptr<double>() : nullptr;
    if (want_atom_energy) {
      s.atom_energy = out.atom_energy.to(where, torch::kFloat64).contiguous();
      r.atom_energy = b.n_atoms > 0 ? s.atom_energy.data_ptr<double>() : nullptr;
    }
    return r;
  } catch (const c10::Error &e) {
    throw std::runtime_error(e.what_without_backtrace());  // Torch's what() appends a backtrace
  }
}

}  // namespace uma
