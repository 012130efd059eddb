/* ----------------------------------------------------------------------
   pair_style uma: the log lines of the model, of edge chunks and of CUDA graphs (rank 0), shared
   by uma and uma/kk.
------------------------------------------------------------------------- */

#include "pair_uma.h"

#include "atom.h"
#include "comm.h"
#include "utils.h"

#include "engine/core/engine.h"
#include "pair_uma_state.h"

using namespace LAMMPS_NS;

void PairUMA::log_model()
{
  logged_model = true;
  if (comm->me != 0) return;
  const uma::ModelInfo &info = state->engine->info();
  const auto &device = state->engine->options().device;
  utils::logmesg(lmp, "UMA: model {} ({}) from {}\nUMA:   provenance: {}\n", info.name, info.model_id,
                 model_path, info.provenance);
  utils::logmesg(lmp, "UMA:   types: {}\n", element_map_string());
  utils::logmesg(lmp, "UMA:   task {}, charge {}{}, spin {}, precision {}, device {}\n", task, charge,
                 info.charge_balanced ? " (also the per-layer charge-balance target)" : "", spin,
                 fp64 ? std::string("fp64")
                      : device.is_cuda() ? fmt::format("fp32 (GEMMs: {}{})", uma::fp32_gemm_name(info.fp32_gemm),
                                                       info.tf32_kernel.empty() ? std::string()
                                                       : ", kernel " + info.tf32_kernel +
                                                             (info.tf32_prerounded ? ", operands pre-rounded" : "") +
                                                             (info.gate_in_conv2 ? ", gate in conv 2" : "") +
                                                             (info.radial_gather ? ", radial scale in the gather" : "") +
                                                             (info.half_operands ? ", conv 1 on an fp16 message" : ""))
                                         : std::string("fp32"),
                 device.str());
  utils::logmesg(lmp, "UMA:   cutoff {:g} Å, {} layers, {} parameters, {}\n", info.cutoff,
                 info.num_layers, info.num_parameters,
                 info.num_experts > 0 ? fmt::format("{} experts (MoLE)", info.num_experts)
                                      : std::string("no MoLE"));
}

void PairUMA::log_edge_chunks(int64_t edge_chunk, int64_t nedges)
{
  const bool chunked = edge_chunk > 0;
  if (comm->me != 0 || chunked == logged_chunked) return;
  logged_chunked = chunked;
  if (chunked)
    utils::logmesg(lmp, "UMA: {} edges on rank 0 exceed the memory budget of one pass: evaluating in "
                   "chunks of {} edges, recomputed in the backward pass (pair_style keyword chunk)\n",
                   nedges, edge_chunk);
  else
    utils::logmesg(lmp, "UMA: {} edges on rank 0: evaluating in one pass again\n", nedges);
}

void PairUMA::log_recompute(uma::Recompute recomputed, int64_t nedges)
{
  if (comm->me != 0 || recomputed == logged_recompute) return;
  logged_recompute = recomputed;
  if (recomputed != uma::Recompute::none)
    utils::logmesg(lmp, "UMA: {} edges on rank 0: {} recomputed in the backward pass instead of kept (less "
                   "memory, more GEMMs per layer; pair_style keyword recompute)\n", nedges,
                   uma::recompute_what(recomputed));
  else
    utils::logmesg(lmp, "UMA: {} edges on rank 0: everything is kept for the backward pass again\n", nedges);
}

void PairUMA::log_graph(int64_t graph_edges)
{
  if (comm->me != 0 || graph_edges == logged_graph_edges) return;
  if (graph_edges > 0)
    utils::logmesg(lmp, "UMA: evaluation recorded as a CUDA graph for {} atoms and up to {} edges; replayed "
                   "while they fit (pair_style keyword graphs)\n", atom->nlocal, graph_edges);
  else
    utils::logmesg(lmp, "UMA: evaluating without a CUDA graph again (the edges outgrew the graphs limit, "
                   "or graphs were recorded again too often and switched off)\n");
  logged_graph_edges = graph_edges;
}
