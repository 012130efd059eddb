// uma::CapturedEvaluation; see captured_eval.h.
#include "engine/core/captured_eval.h"

#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include <algorithm>
#include <optional>
#include <string>

#include "engine/core/graph_policy.h"

namespace uma {

struct CapturedEvaluation::Impl {
  torch::Device device;
  torch::Tensor pad_vec;  // [1,3] float64: a direction off the rotation's y axis, longer than the cutoff
  std::optional<c10::cuda::CUDAStream> capture_stream;
  std::unique_ptr<at::cuda::CUDAGraph> graph;
  int64_t n_atoms = -1, n_energy = -1, capacity = 0;
  uint64_t generation = 0;
  torch::Tensor z, src, dst, vec;  // static inputs (ordinary allocations, outside the graph's pool)
  // The padding edges' atom: edge index mod N. Spread over the atoms, not all on atom 0: the kernels still add their
  // zeros into the atoms' rows with atomics, and thousands of them on one atom's rows serialise (a graph pads up to
  // ~5 % of its edges).
  torch::Tensor pad_atoms;
  EvalOutput out;                  // static outputs (in the graph's pool)
  int64_t captures = 0;
  GraphPolicy policy;

  Impl(torch::Device d, double pad_length) : device(d) {
    pad_vec = torch::tensor({0.48, 0.60, 0.64}, torch::TensorOptions().dtype(torch::kFloat64).device(d))
                  .mul(pad_length)
                  .view({1, 3});
  }

  void drop_graph() {
    out = EvalOutput();  // the outputs live in the graph's pool: release them before the pool goes
    graph.reset();
  }

  void make_static_inputs(int64_t N, int64_t cap) {
    auto i64 = torch::TensorOptions().dtype(torch::kInt64).device(device);
    z = torch::empty({N}, i64);
    pad_atoms = torch::arange(cap, i64).remainder(std::max<int64_t>(N, 1));
    src = pad_atoms.clone();
    dst = pad_atoms.clone();
    vec = pad_vec.expand({cap, 3}).contiguous();
  }

  // Copies this call's inputs into the static tensors; rows [E, capacity) become padding again.
  void fill(const EvalInput& in, int64_t E) {
    z.copy_(in.atomic_numbers);
    src.narrow(0, 0, E).copy_(in.edge_src);
    dst.narrow(0, 0, E).copy_(in.edge_dst);
    vec.narrow(0, 0, E).copy_(in.edge_vec);
    if (E < capacity) {
      src.narrow(0, E, capacity - E).copy_(pad_atoms.narrow(0, E, capacity - E));
      dst.narrow(0, E, capacity - E).copy_(pad_atoms.narrow(0, E, capacity - E));
      vec.narrow(0, E, capacity - E).copy_(pad_vec.expand({capacity - E, 3}));
    }
  }

  void record(const EvalInput& s, const CapturedEvaluation::Body& body) {
    if (!capture_stream) capture_stream = c10::cuda::getStreamFromPool(false, device.index());
    auto current = c10::cuda::getCurrentCUDAStream(device.index());
    // The capture stream must see the static inputs written on the caller's stream.
    at::cuda::CUDAEvent ready;
    ready.record(current);
    ready.block(*capture_stream);
    graph = std::make_unique<at::cuda::CUDAGraph>();
    // The graph keeps its activations in a pool of its own; hand the blocks the direct run just freed
    // back to the driver first, so that recording needs no more memory than that run did.
    c10::cuda::CUDACachingAllocator::emptyCache();
    c10::cuda::CUDAStreamGuard guard(*capture_stream);
    graph->capture_begin();
    try {
      out = body(s);
      graph->capture_end();
    } catch (const std::exception& e) {
      std::string what = e.what();
      try {
        graph->capture_end();
      } catch (...) {
      }
      (void)cudaGetLastError();
      out = EvalOutput();
      graph.reset();
      throw Error("recording the evaluation as a CUDA graph failed (" + std::to_string(s.atomic_numbers.size(0)) +
                  " atoms, " + std::to_string(s.edge_vec.size(0)) + " edges incl. padding): " + what +
                  "; run without graphs (pair_style keyword 'graphs no')");
    }
    ++captures;
  }
};

CapturedEvaluation::CapturedEvaluation(torch::Device device, double pad_length)
    : impl_(new Impl(device, pad_length)) {}
CapturedEvaluation::~CapturedEvaluation() = default;

EvalOutput CapturedEvaluation::run(const EvalInput& in, uint64_t generation, const Body& body) {
  Impl& m = *impl_;
  const int64_t N = in.atomic_numbers.size(0), E = in.edge_vec.size(0);
  const int64_t n_energy = in.n_energy_atoms < 0 ? N : in.n_energy_atoms;
  const bool again = !m.graph || N != m.n_atoms || n_energy != m.n_energy || generation != m.generation ||
                     !GraphPolicy::capacity_fits(m.capacity, E);
  if (!m.policy.allow(again)) {
    // Recording so often that graphs cost more than they save: evaluate directly from now on.
    if (m.graph) {
      m.drop_graph();
      m.z = m.src = m.dst = m.vec = torch::Tensor();
    }
    return body(in);
  }
  if (again) {
    m.drop_graph();
    m.n_atoms = N;
    m.n_energy = n_energy;
    m.generation = generation;
    m.capacity = GraphPolicy::capacity_for(E);
    m.make_static_inputs(N, m.capacity);
  }
  m.fill(in, E);
  EvalInput s;
  s.atomic_numbers = m.z;
  s.edge_src = m.src;
  s.edge_dst = m.dst;
  s.edge_vec = m.vec;
  s.n_energy_atoms = n_energy;

  EvalOutput r;
  if (again) {
    // This call's results come from running the body directly; that run also creates, outside the
    // capture, what torch makes lazily on first use (cuBLAS handles and workspaces).
    r = body(s);
    m.record(s, body);
  } else {
    m.graph->replay();
    r.energy_device = m.out.energy_device.clone();
    r.atom_energy = m.out.atom_energy.clone();
    r.edge_grad = m.out.edge_grad;
  }
  // Padding rows dropped; the copy leaves the caller nothing that the next replay overwrites.
  r.edge_grad = r.edge_grad.narrow(0, 0, E).clone();
  return r;
}

int64_t CapturedEvaluation::captures() const { return impl_->captures; }
int64_t CapturedEvaluation::edge_capacity() const { return impl_->graph ? impl_->capacity : 0; }

}  // namespace uma
