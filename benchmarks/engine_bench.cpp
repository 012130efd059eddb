// uma-engine-bench: energy + forces (+ virial) throughput of uma::Engine on one structure.
//
//   uma-engine-bench --model M.uma --structure S.json [--device cuda|cpu] [--precision fp32|fp64] [--tf32 | --split-tf32]
//                    (fp32 GEMMs strict unless one of those is given; the engine's own default is split TF32)
//                    [--deterministic] [--no-graphs] [--recompute yes|radial|no|auto] [--task T] [--warmup 3] [--repeats 10]
//                    [--profile] [--trace FILE] [--json OUT.json]
//
// Reads a structure in the fixture JSON format (numbers, positions, cell, pbc; optional task/charge/spin),
// sets the system and composition (merged MoLE), builds the radius graph ONCE with uma::build_radius_graph
// (CPU; timed separately, not part of the per-evaluation time), copies it to the device, then times
// engine.evaluate() (energy and dE/d(edge vector)) + forces_from_edge_grad + virial_from_edge_grad,
// synchronising the device after each call: median (and min/max) of --repeats calls after --warmup calls.
// On CUDA it also reports the caching allocator's peak bytes during one evaluation (and the bytes held
// before it: weights + inputs). --profile runs one more evaluation under the Kineto profiler and prints the
// GPU kernel time by category (GEMM / fused Wigner kernels / index+scatter / elementwise / reductions+norms /
// copies) and the top kernels; --trace also saves the Chrome trace.
// Output: a human summary on stderr and one JSON object on stdout (and in --json). Exit code 3 on CUDA out of
// memory (JSON then has "oom": true). Never registered with ctest.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/core/engine.h"
#include "engine/io/radius_graph.h"
#include "engine/io/structure_eval.h"

#ifdef UMA_HAVE_CUDA_KERNELS
#include <c10/cuda/CUDACachingAllocator.h>
#include <torch/csrc/autograd/profiler_kineto.h>
#endif

namespace {

struct Args {
  std::string model, structure, task, device = "cuda", precision = "fp32", json_out, trace;
  uma::Fp32Gemm gemm = uma::Fp32Gemm::strict;  // --tf32, --split-tf32 (fp32 on CUDA)
  bool deterministic = false, profile = false, graphs = true;
  int recompute = 0;
  int warmup = 3, repeats = 10;
};

[[noreturn]] void usage(const char* msg) {
  std::fprintf(stderr, "uma-engine-bench: %s\n(see the comment at the top of benchmarks/engine_bench.cpp)\n", msg);
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value after " + k).c_str());
      return argv[++i];
    };
    if (k == "--model") a.model = val();
    else if (k == "--structure") a.structure = val();
    else if (k == "--task") a.task = val();
    else if (k == "--device") a.device = val();
    else if (k == "--precision") a.precision = val();
    else if (k == "--tf32") a.gemm = uma::Fp32Gemm::tf32;
    else if (k == "--split-tf32") a.gemm = uma::Fp32Gemm::split_tf32;
    else if (k == "--deterministic") a.deterministic = true;
    else if (k == "--no-graphs") a.graphs = false;
    else if (k == "--recompute") {  // yes | radial | no | auto (EngineOptions::recompute)
      const std::string v = val();
      if (!uma::recompute_setting_of(v, a.recompute)) usage("--recompute takes yes, radial, no or auto");
    }
    else if (k == "--warmup") a.warmup = std::stoi(val());
    else if (k == "--repeats") a.repeats = std::stoi(val());
    else if (k == "--profile") a.profile = true;
    else if (k == "--trace") a.trace = val(), a.profile = true;
    else if (k == "--json") a.json_out = val();
    else usage(("unknown argument " + k).c_str());
  }
  if (a.model.empty() || a.structure.empty()) usage("--model and --structure are required");
  if (a.repeats < 1) usage("--repeats must be >= 1");
  return a;
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void sync(const torch::Device& dev) {
  if (dev.is_cuda()) torch::cuda::synchronize(dev.index() < 0 ? 0 : dev.index());
}

#ifdef UMA_HAVE_CUDA_KERNELS
int64_t cuda_bytes_in_use(int dev) {
  return c10::cuda::CUDACachingAllocator::getDeviceStats(dev).allocated_bytes[0].current;
}
int64_t cuda_peak_bytes(int dev) {
  return c10::cuda::CUDACachingAllocator::getDeviceStats(dev).allocated_bytes[0].peak;
}
int64_t cuda_reserved_peak(int dev) {
  return c10::cuda::CUDACachingAllocator::getDeviceStats(dev).reserved_bytes[0].peak;
}

std::string category_of(const std::string& n) {
  auto has = [&](const char* s) { return n.find(s) != std::string::npos; };
  if (has("gather_rotate") || has("rotate_back_scatter")) return "fused Wigner kernels";
  if (has("FastF32")) return "GEMM (split TF32, CUTLASS)";  // ours: kernels/gemm/split_tf32_gemm.cu
  if (has("gemm") || has("gemv") || has("cutlass") || has("xmma") || has("cublas") || has("splitK") ||
      has("Kernel2") || has("sm90_") || has("sm80_") || has("ampere_") || has("bmm"))
    return "GEMM (cuBLAS)";
  if (has("Memcpy") || has("Memset") || has("CatArray") || has("copy_kernel") || has("direct_copy"))
    return "copies / cat / memset";
  if (has("index") || has("scatter") || has("gather") || has("Index")) return "index_select / index_add";
  if (has("layer_norm") || has("LayerNorm") || has("reduce") || has("Reduce") || has("norm")) return "reductions / norms";
  if (has("elementwise") || has("Elementwise") || has("pointwise")) return "elementwise";
  return "other";
}
#endif

}  // namespace

int main(int argc, char** argv) {
  Args a = parse(argc, argv);
  nlohmann::json out;
  out["structure"] = a.structure;
  out["device"] = a.device;
  out["precision"] = a.precision;
  out["tf32"] = a.gemm == uma::Fp32Gemm::tf32;
  out["fp32_gemm"] = uma::fp32_gemm_name(a.gemm);
  out["deterministic"] = a.deterministic;
  out["graphs_allowed"] = a.graphs;
  out["recompute_requested"] = a.recompute;
  try {
    uma::EngineOptions opt;
    opt.device = a.device == "cuda" ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
    opt.precision = a.precision == "fp64" ? uma::Precision::fp64 : uma::Precision::fp32;
    opt.fp32_gemm = a.gemm;
    opt.deterministic = a.deterministic;
    if (!a.graphs) opt.graph_max_edges = 0;
    opt.recompute = a.recompute;
    const double t_load0 = now_s();
    uma::Engine engine(a.model, opt);
    out["fused_kernels"] = engine.info().fused_kernels;
    out["tf32_kernel"] = engine.info().tf32_kernel;
    out["tf32_prerounded"] = engine.info().tf32_prerounded;
    out["gate_in_conv2"] = engine.info().gate_in_conv2;
    out["radial_gather"] = engine.info().radial_gather;
    out["half_operands"] = engine.info().half_operands;
    out["model_load_s"] = now_s() - t_load0;

    uma::StructureFile f = uma::read_structure_json(a.structure);
    const auto& s = f.structure;
    std::string task = !a.task.empty() ? a.task : (!f.task.empty() ? f.task : "omat");
    engine.set_system(task, f.has_charge ? f.charge : engine.info().default_charge.at(task),
                      f.has_spin ? f.spin : engine.info().default_spin.at(task));
    std::vector<int64_t> counts(128, 0);
    for (int z : s.numbers) ++counts.at(z);
    engine.set_composition(counts);

    const double t_graph0 = now_s();
    uma::RadiusGraph g = uma::build_radius_graph(s, engine.info().cutoff, engine.info().max_neighbors);
    const double graph_s = now_s() - t_graph0;
    const int64_t N = s.numbers.size(), E = g.src.size();
    out["atoms"] = N;
    out["edges"] = E;
    out["edges_per_atom"] = double(E) / double(N);
    out["graph_build_cpu_s"] = graph_s;
    std::fprintf(stderr, "[bench] %s: %lld atoms, %lld edges (%.1f/atom), graph %.2f s (CPU, once)\n",
                 a.structure.c_str(), (long long)N, (long long)E, double(E) / N, graph_s);

    auto i64 = torch::TensorOptions().dtype(torch::kInt64);
    auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
    const auto dev = opt.device;
    uma::EvalInput in;
    in.atomic_numbers = torch::tensor(std::vector<int64_t>(s.numbers.begin(), s.numbers.end()), i64).to(dev);
    in.edge_src = torch::from_blob(g.src.data(), {E}, i64).to(dev);
    in.edge_dst = torch::from_blob(g.dst.data(), {E}, i64).to(dev);
    in.edge_vec = torch::from_blob(g.vectors.data(), {E, 3}, f64).to(dev);
    uma::EvalRequest req;
    req.gradient = true;
    req.atom_energy = false;

    double energy = 0.0, fsum = 0.0;
    int64_t edge_chunk = 0, graph_edges = 0;
    uma::Recompute recomputed = uma::Recompute::none;
    auto one = [&]() {
      uma::EvalOutput o = engine.evaluate(in, req);
      edge_chunk = o.edge_chunk;
      recomputed = o.recomputed;
      graph_edges = o.graph_edges;
      auto forces = uma::forces_from_edge_grad(o.edge_grad, in.edge_src, in.edge_dst, N);
      auto virial = uma::virial_from_edge_grad(in.edge_vec, o.edge_grad);
      sync(dev);
      energy = o.energy;
      return std::make_pair(forces, virial);
    };

#ifdef UMA_HAVE_CUDA_KERNELS
    // Peak bytes of the caching allocator over the warm-up evaluations: the first of them runs directly and, when
    // the engine records a CUDA graph, a later one records it, allocating the graph's pool; replays allocate
    // nothing, so an evaluation measured after the warm-up would show ~0 for a graphed run.
    const int di = 0;
    int64_t before = 0;
    if (dev.is_cuda()) {
      sync(dev);
      before = cuda_bytes_in_use(di);
      c10::cuda::CUDACachingAllocator::resetPeakStats(di);
    }
#endif
    for (int i = 0; i < std::max(a.warmup, 1); ++i) one();  // cuBLAS handles, kernels loaded, allocator warm
#ifdef UMA_HAVE_CUDA_KERNELS
    if (dev.is_cuda()) {
      sync(dev);
      const int64_t peak = cuda_peak_bytes(di);
      out["cuda_bytes_before_eval"] = before;
      out["cuda_peak_bytes"] = peak;
      out["cuda_peak_reserved_bytes"] = cuda_reserved_peak(di);
      out["cuda_eval_bytes_per_atom"] = double(peak - before) / double(N);
      out["cuda_peak_bytes_per_atom"] = double(peak) / double(N);
      std::fprintf(stderr, "[bench] CUDA memory: %.1f MiB before, peak %.1f MiB (%.3f MiB/atom for the evaluation)\n",
                   before / 1048576.0, peak / 1048576.0, (peak - before) / 1048576.0 / N);
    }
#endif
    std::vector<double> times;
    torch::Tensor forces;
    for (int i = 0; i < a.repeats; ++i) {
      const double t0 = now_s();
      auto fv = one();
      times.push_back(now_s() - t0);
      forces = fv.first;
    }
    fsum = forces.abs().sum().item<double>();
    std::vector<double> sorted = times;
    std::sort(sorted.begin(), sorted.end());
    const double median = sorted.size() % 2 ? sorted[sorted.size() / 2]
                                            : 0.5 * (sorted[sorted.size() / 2 - 1] + sorted[sorted.size() / 2]);
    out["seconds_per_eval"] = median;
    out["min_s"] = sorted.front();
    out["max_s"] = sorted.back();
    out["all_seconds"] = times;
    out["evals_per_s"] = 1.0 / median;
    out["atom_steps_per_s"] = double(N) / median;
    out["energy"] = energy;
    out["sum_abs_forces"] = fsum;
    out["edge_chunk"] = edge_chunk;  // 0: one pass; else edges per chunk (recomputed backward)
    out["graph_edges"] = graph_edges;  // > 0: replayed CUDA graph padded to this many edges
    out["radial_recomputed"] = recomputed >= uma::Recompute::radial;
    out["conv2_recomputed"] = recomputed >= uma::Recompute::radial_and_conv2;
    std::fprintf(stderr, "[bench] %s %s%s%s: median %.3f ms (min %.3f, max %.3f; %d repeats after %d warm-up), "
                 "E = %.6f eV, edge chunk %lld, CUDA graph edges %lld\n", a.device.c_str(), a.precision.c_str(),
                 a.gemm == uma::Fp32Gemm::strict ? "" : (std::string("+") + uma::fp32_gemm_name(a.gemm)).c_str(), a.deterministic ? " deterministic" : "", median * 1e3, sorted.front() * 1e3,
                 sorted.back() * 1e3, a.repeats, a.warmup, energy, static_cast<long long>(edge_chunk),
                 static_cast<long long>(graph_edges));

#ifdef UMA_HAVE_CUDA_KERNELS
    if (a.profile && dev.is_cuda()) {
      namespace prof = torch::autograd::profiler;
      using torch::profiler::impl::ActivityType;
      using torch::profiler::impl::ProfilerConfig;
      using torch::profiler::impl::ProfilerState;
      ProfilerConfig cfg(ProfilerState::KINETO, /*report_input_shapes=*/true, false, false, false, false);
      std::set<ActivityType> acts{ActivityType::CPU, ActivityType::CUDA};
      prof::prepareProfiler(cfg, acts);
      prof::enableProfiler(cfg, acts);
      const double t0 = now_s();
      one();
      const double wall = now_s() - t0;
      auto result = prof::disableProfiler();
      std::map<std::string, double> by_cat;
      std::map<std::string, std::pair<double, int>> by_kernel;
      std::map<std::string, std::pair<double, int>> by_op;  // CPU-side aten ops (dispatch time, incl. children)
      double gpu_total = 0.0;
      int n_kernels = 0;
      // Attribution of each GPU kernel to the CPU op that launched it (kernel.linkedCorrelationId ==
      // op.correlationId, as torch.profiler does) with the op's input shapes, and to the enclosing autograd
      // backward function, if any (by time on the op's thread).
      struct OpInfo {
        std::string name;
        uint64_t start, end, tid;
      };
      std::map<uint64_t, OpInfo> op_of_corr;
      std::vector<OpInfo> bwd_fns;
      for (const auto& ev : result->events()) {
        if (ev.deviceType() != c10::DeviceType::CPU) continue;
        const std::string name = ev.name();
        if (name.rfind("autograd::engine::evaluate_function: ", 0) == 0) {
          bwd_fns.push_back({name.substr(37), ev.startNs(), ev.endNs(), ev.startThreadId()});
          continue;
        }
        std::string desc = name;
        if (ev.hasShapes()) {
          desc += "(";
          int k = 0;
          for (const auto& sh : ev.shapes()) {
            if (k++ == 4) break;
            desc += "[";
            for (size_t d = 0; d < sh.size(); ++d) desc += (d ? "," : "") + std::to_string(sh[d]);
            desc += "]";
          }
          desc += ")";
        }
        if (ev.correlationId() != 0) op_of_corr[ev.correlationId()] = {desc, ev.startNs(), ev.endNs(), ev.startThreadId()};
      }
      std::map<std::string, std::pair<double, int>> by_site;  // "fwd|bwd Fn > op(shapes) :: category"
      for (const auto& ev : result->events()) {
        const double us = ev.durationNs() / 1e3;
        if (ev.deviceType() == c10::DeviceType::CUDA) {
          const std::string name = ev.name();
          {
            std::string site = "?";
            auto it = op_of_corr.find(ev.linkedCorrelationId());
            if (it != op_of_corr.end()) {
              const OpInfo& op = it->second;
              const OpInfo* best = nullptr;
              for (const auto& b : bwd_fns)
                if (b.tid == op.tid && b.start <= op.start && op.end <= b.end && (!best || b.start > best->start))
                  best = &b;
              site = (best ? "bwd " + best->name : std::string("fwd")) + " > " + op.name;
            }
            auto& k = by_site[site.substr(0, 200) + " :: " + category_of(name)];
            k.first += us;
            k.second += 1;
          }
          by_cat[category_of(name)] += us;
          auto& k = by_kernel[name.substr(0, 110)];
          k.first += us;
          k.second += 1;
          gpu_total += us;
          ++n_kernels;
        } else if (ev.name().rfind("aten::", 0) == 0) {
          auto& k = by_op[ev.name()];
          k.first += us;
          k.second += 1;
        }
      }
      nlohmann::json p;
      p["wall_ms_profiled"] = wall * 1e3;
      p["gpu_kernel_ms"] = gpu_total / 1e3;
      p["kernels"] = n_kernels;
      std::fprintf(stderr, "[profile] one evaluation under the profiler: wall %.2f ms, GPU kernel time %.2f ms, "
                   "%d kernels (%.1f us mean)\n", wall * 1e3, gpu_total / 1e3, n_kernels,
                   n_kernels ? gpu_total / n_kernels : 0.0);
      std::vector<std::pair<double, std::string>> cats;
      for (auto& kv : by_cat) cats.push_back({kv.second, kv.first});
      std::sort(cats.rbegin(), cats.rend());
      for (auto& c : cats) {
        std::fprintf(stderr, "[profile]   %-28s %9.2f ms  %5.1f %%\n", c.second.c_str(), c.first / 1e3,
                     100.0 * c.first / gpu_total);
        p["by_category_ms"][c.second] = c.first / 1e3;
      }
      std::vector<std::pair<double, std::string>> ks;
      for (auto& kv : by_kernel) ks.push_back({kv.second.first, kv.first});
      std::sort(ks.rbegin(), ks.rend());
      for (size_t i = 0; i < ks.size() && i < 30; ++i) {
        const auto& k = by_kernel[ks[i].second];
        std::fprintf(stderr, "[profile]   %8.3f ms %4dx  %s\n", k.first / 1e3, k.second, ks[i].second.c_str());
        p["top_kernels"].push_back({{"name", ks[i].second}, {"ms", k.first / 1e3}, {"calls", k.second},
                                    {"category", category_of(ks[i].second)}});
      }
      std::vector<std::pair<double, std::string>> sites;
      for (auto& kv : by_site) sites.push_back({kv.second.first, kv.first});
      std::sort(sites.rbegin(), sites.rend());
      for (size_t i = 0; i < sites.size() && i < 45; ++i) {
        const auto& k = by_site[sites[i].second];
        std::fprintf(stderr, "[profile-op] %8.3f ms %4dx  %s\n", k.first / 1e3, k.second, sites[i].second.c_str());
        p["top_sites"].push_back({{"site", sites[i].second}, {"ms", k.first / 1e3}, {"kernels", k.second}});
      }
      std::vector<std::pair<double, std::string>> ops;
      for (auto& kv : by_op) ops.push_back({kv.second.first, kv.first});
      std::sort(ops.rbegin(), ops.rend());
      for (size_t i = 0; i < ops.size() && i < 25; ++i)
        p["top_cpu_ops"].push_back(
            {{"name", ops[i].second}, {"cpu_ms_incl_children", ops[i].first / 1e3}, {"calls", by_op[ops[i].second].second}});
      out["profile"] = p;
      if (!a.trace.empty()) result->save(a.trace);
    }
#endif
  } catch (const std::exception& e) {
    // c10::OutOfMemoryError, or the same message wrapped by another layer
    const std::string what = e.what();
    const bool oom = dynamic_cast<const c10::OutOfMemoryError*>(&e) != nullptr ||
                     what.find("out of memory") != std::string::npos;
    out["error"] = what.substr(0, 600);
    if (oom) out["oom"] = true;
    std::cout << out.dump() << std::endl;
    if (!a.json_out.empty()) std::ofstream(a.json_out) << out.dump(1) << "\n";
    std::fprintf(stderr, "uma-engine-bench: %s\n", oom ? "CUDA out of memory" : what.substr(0, 2000).c_str());
    return oom ? 3 : 1;
  }
  std::cout << out.dump() << std::endl;
  if (!a.json_out.empty()) std::ofstream(a.json_out) << out.dump(1) << "\n";
  return 0;
}
