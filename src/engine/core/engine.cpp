// The UMA-S forward pass (fairchem escn_md.py::eSCNMDBackbone.forward, escn_md_block.py, the
// MLP_EFS_Head and the task's de-normalisation), with the energy differentiated with respect to the
// edge vectors only: the energy depends on positions and cell through them alone, so dE/d(edge)
// gives forces, the virial and per-atom virials without a second pass.
#include "engine/core/engine.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "engine/core/charge_balance.h"
#include "engine/core/edge_chunks.h"
#include "engine/core/fused_paths.h"
#include "engine/core/memory_budget.h"
#include "engine/nn/layers.h"
#include "engine/nn/mole.h"
#include "engine/nn/tf32_weights.h"
#include "engine/params/model_config.h"
#include "engine/params/weights.h"
#include "engine/so3/edge_rotation_ops.h"
#include "engine/so3/wigner.h"
#include "model/model_file.h"
#ifdef UMA_HAVE_CUDA_KERNELS
#include <c10/cuda/CUDAGuard.h>

#include "engine/core/captured_eval.h"
#include "engine/fused/edge/fused_edge_gate.h"
#include "engine/fused/edge/fused_gate_conv2.h"
#include "engine/fused/edge/fused_half_conv1.h"
#include "engine/fused/edge/fused_edge_geometry.h"
#include "engine/fused/edge/fused_wigner_ops.h"
#include "engine/nn/tensor_core_linear.h"
#endif

namespace uma {

struct Engine::Impl {
  EngineOptions options;
  torch::Dtype dtype;
  ModelConfig config;
  Weights weights;
  ModelInfo info;
  std::vector<bool> element_allowed;

  // System state: task/charge/spin and the global composition fix the MoLE mixture.
  bool system_set = false;
  std::string task;
  int charge = 0, spin = 0;
  torch::Tensor csd;  // [C]
  std::vector<double> fractions;
  bool mixture_valid = false;
  bool unmerged = false;
  std::vector<MixedBlock> mixed;
  torch::Tensor element_refs;  // float64 [max_num_elements] of the current task (zeros if absent)
  double energy_rmsd = 1.0;
  std::vector<LinearW> head;   // the energy MLP of the current task (its dataset's expert on 1.2.x)
  int64_t total_atoms = 0;     // atoms of the whole system (set_composition)

  torch::Tensor gauss_offsets;
  double gauss_coeff = 0.0;
  torch::Tensor m0_columns;  // L-indices of the m = 0 coefficients (0, 2, 6)
  torch::Tensor l_of_m;      // L-index of each M-major coefficient
  torch::Tensor l2_forms;    // wigner.h: on the device once (a per-call host copy cannot be in a CUDA graph)
  std::unique_ptr<LayerTables> tables;

  torch::TensorOptions fopt() const { return torch::TensorOptions().dtype(dtype).device(options.device); }

  // Changes whenever the merged weights or the task tensors change: a recorded CUDA graph reads
  // them by address and must be recorded again.
  uint64_t generation = 0;
#ifdef UMA_HAVE_CUDA_KERNELS
  std::unique_ptr<CapturedEvaluation> captured;
#endif

  void remix() {
    ++generation;
    torch::NoGradGuard no_grad;
    auto f = torch::tensor(fractions, torch::TensorOptions().dtype(torch::kFloat64)).to(options.device, dtype);
    // UMA-S-1.2's composition mean counts a zero "self" value: sum / (N + 1) (model_features.h).
    const double scale = config.features.composition_include_self ? double(total_atoms) / double(total_atoms + 1) : 1.0;
    torch::Tensor alpha =
        config.num_experts > 0 ? expert_coefficients(weights, f, csd, scale) : torch::ones({1}, fopt());
    mixed = mix_experts(weights, alpha, !unmerged, tables->gemm);
#ifdef UMA_HAVE_CUDA_KERNELS
    half_conv1 = half_conv1_on ? fused::half_conv1_weights(mixed, 2 * config.sphere_channels)
                               : std::vector<fused::HalfConv1Weights>();
#endif
    mixture_valid = true;
  }

  // conv 1 on the fp16 message (half_conv1_on): the fp16 copies of each block's merged conv-1 weights, made again
  // with every merge; none where the op does not take them (then conv 1 runs as without the switch).
#ifdef UMA_HAVE_CUDA_KERNELS
  std::vector<fused::HalfConv1Weights> half_conv1;
#endif
  bool half_conv1_on = false;

  // Node<->edge rotations: fused CUDA kernels on a CUDA device when built with them, else torch ops.
  bool fused = false;
  // K2 (fused_gate_conv2), set at construction: the tf32 mode on UMA_TF32_GEMM=rs (RS host) or hopper-rna (TMA host,
  // gate_conv2_tma).
  bool gate_conv2_on = false;
  bool gate_conv2_tma = false;
  // The radial scale inside the gather kernel (kRadialGatherByDefault), set at construction: the tf32 mode on the
  // fused kernels with C = 128 and a radial hidden width the kernel takes.
  bool radial_gather_on = false;
#ifdef UMA_HAVE_CUDA_KERNELS
  using Csr = fused::EdgeCsrTensors;
#else
  struct Csr {};
#endif
  Csr csr;                      // deterministic mode: the whole graph's edge grouping
  const Csr* csr_ptr = nullptr;
  // The edge grouping for a pass over edges src/dst of a graph of total_edges: none unless deterministic; the
  // whole graph's, or for a chunk its own (made into `storage`).
  const Csr* csr_for(const torch::Tensor& src, const torch::Tensor& dst, int64_t num_atoms, int64_t total_edges,
                     Csr& storage) const {
#ifdef UMA_HAVE_CUDA_KERNELS
    if (csr_ptr && src.size(0) != total_edges) {
      storage = fused::make_edge_csr(src, dst, num_atoms);
      return &storage;
    }
#endif
    return csr_ptr;
  }
  // The fused kernels take L-ordered matrices and permute inside; the torch path permutes the
  // matrices once per evaluation (prepare_rotations) and then only multiplies.
  struct EdgeRotations {
    torch::Tensor gather;   // fused: D; torch path: P D
    torch::Tensor scatter;  // fused: D^T env; torch path: D^T env P^T
  };
  EdgeRotations prepare_rotations(const torch::Tensor& wigner, const torch::Tensor& wigner_inv_env) const {
    if (fused) return {wigner, wigner_inv_env};
    return {wigner.index_select(1, l_of_m), wigner_inv_env.index_select(2, l_of_m)};
  }
  // radial: only with the fused kernels (they apply it); the torch path leaves it to so2_conv.
  // The message as the m-groups the SO(2) convolutions read: separate tensors from the fused kernel, views of one
  // [E,9,2C] tensor on the torch path.
  MGroups node_to_edge(const torch::Tensor& x, const torch::Tensor& src, const torch::Tensor& dst,
                       const EdgeRotations& rot, const Csr* csr = nullptr,
                       const torch::Tensor& radial = torch::Tensor()) const {
#ifdef UMA_HAVE_CUDA_KERNELS
    if (fused) {
      auto g = fused::gather_rotate(x, src, dst, rot.gather, csr, radial, tables->round_tf32_operands);
      return {g[0], g[1], g[2]};
    }
#endif
    if (radial.defined()) throw Error("node_to_edge: a radial scale needs the fused CUDA kernels");
    return split_m(gather_rotate_m(x, src, dst, rot.gather));
  }
#ifdef UMA_HAVE_CUDA_KERNELS
  // Conv 1's radial scale as a recipe (fused_wigner_ops.h RadialRecipe): the radial MLP up to its last Linear here,
  // that Linear inside the fused op, made again in its backward instead of kept. With the producer rounding both the
  // hidden rows (the normalisation's output) and the scale's gradient (the gather's backward) come rounded to it.
  fused::RadialRecipe radial_recipe(const torch::Tensor& gauss, const torch::Tensor& pair, const RadialMLPW& rad) const {
    const bool r = tables->round_tf32_operands;
    return {radial_mlp_hidden(gauss, pair, rad, *tables),
            [w = rad.lin6, gemm = tables->gemm, r](const torch::Tensor& h) { return linear(h, w, gemm, {r, r}); },
            rad.lin6.weight, rad.lin6.bias, radial_gather_on};
  }
#endif
  // Conv 1 with its message in fp16 (half_conv1_on, block i's weight copies made): gather_rotate_half, with the radial
  // scale kept or made again as the other path does, and the three f16 GEMMs; then what so2_conv does with the GEMM
  // outputs. False where it does not apply (the caller runs conv 1 as usual).
  bool conv1_on_half_message(size_t i, const torch::Tensor& x, const torch::Tensor& src, const torch::Tensor& dst,
                             const EdgeRotations& rot, const Csr* csr, const torch::Tensor& gauss,
                             const torch::Tensor& pair, const RadialMLPW& rad, MGroups& msg, torch::Tensor& gate,
                             torch::Tensor& m0_with_gate) const {
#ifdef UMA_HAVE_CUDA_KERNELS
    if (i >= half_conv1.size()) return false;
    const int64_t H = config.hidden_channels, gate_channels = config.lmax * H;
    const auto g = recompute >= Recompute::radial
                       ? fused::gather_rotate_half(x, src, dst, rot.gather, csr, radial_recipe(gauss, pair, rad))
                       : fused::gather_rotate_half(x, src, dst, rot.gather, csr,
                                                   radial_mlp(gauss, pair, rad, *tables, fused));
    const auto y = fused::half_conv1(g, half_conv1[i], tables->round_tf32_operands);
    const int64_t E = y[0].size(0);
    msg = {split_m0_output(y[0], H, gate_channels, &gate, &m0_with_gate), y[1].view({E, y[1].size(1) / H, H}),
           y[2].view({E, y[2].size(1) / H, H})};
    return true;
#else
    (void)i, (void)x, (void)src, (void)dst, (void)rot, (void)csr, (void)gauss, (void)pair, (void)rad, (void)msg;
    (void)gate, (void)m0_with_gate;
    return false;
#endif
  }
  // node_to_edge with conv 1's radial scale as a recipe (radial_recipe).
  MGroups node_to_edge_recomputing_radial(const torch::Tensor& x, const torch::Tensor& src, const torch::Tensor& dst,
                                          const EdgeRotations& rot, const Csr* csr, const torch::Tensor& gauss,
                                          const torch::Tensor& pair, const RadialMLPW& rad) const {
#ifdef UMA_HAVE_CUDA_KERNELS
    // With the producer rounding both the hidden rows (the normalisation's output) and the scale's gradient (the
    // gather's backward) come rounded to the recomputed Linear.
    auto g = fused::gather_rotate(x, src, dst, rot.gather, csr, radial_recipe(gauss, pair, rad),
                                  tables->round_tf32_operands);
    return {g[0], g[1], g[2]};
#else
    (void)x, (void)src, (void)dst, (void)rot, (void)csr, (void)gauss, (void)pair, (void)rad;
    throw Error("node_to_edge: recomputing the radial scale needs the fused CUDA kernels");
#endif
  }
  // GateActivation between the convolutions: one fused kernel each way on the GPU (reading the gate logits and
  // the m = 0 rows from conv 1's GEMM output as it is; lmax = 2, which model_config enforces), else the Torch
  // form of layers.h.
  MGroups gate(const MGroups& msg, const torch::Tensor& logits, const torch::Tensor& m0_with_gate) const {
#ifdef UMA_HAVE_CUDA_KERNELS
    if (fused) {
      auto g = fused::edge_gate(m0_with_gate, msg.m1, msg.m2, tables->round_tf32_operands);
      return {g[0], g[1], g[2]};
    }
#endif
    return edge_gate(msg, logits);
  }
  // K2's forward (fused_gate_conv2.h): the gate made inside conv 2's GEMMs where gate_conv2_on (set at
  // construction) and the MoLE weights are merged; otherwise the gate, then so2_conv.
  bool fused_gate_conv2(const torch::Tensor& m0_with_gate, const MixedSO2Conv& conv2) const {
#ifdef UMA_HAVE_CUDA_KERNELS
    return gate_conv2_on && conv2.fc_m0.weight.defined() && conv2.fc_m1.block_weight.defined() &&
           conv2.fc_m2.block_weight.defined() && fused::gate_conv2_available(m0_with_gate);
#else
    (void)m0_with_gate;
    (void)conv2;
    return false;
#endif
  }
  MGroups gate_conv2(const MGroups& msg, const torch::Tensor& m0_with_gate, const MixedSO2Conv& conv2,
                     int64_t C) const {
#ifdef UMA_HAVE_CUDA_KERNELS
    const int64_t E = m0_with_gate.size(0);
    // The TMA host takes the producer rounding's claims as the unfused gate and so2_conv do (gate_and_conv2).
    auto y = fused::gate_conv2(m0_with_gate, msg.m1, msg.m2, conv2.fc_m0.weight, conv2.fc_m0.bias,
                               conv2.fc_m1.block_weight, conv2.fc_m2.block_weight,
                               gate_conv2_tma ? fused::GateConv2Host::tma : fused::GateConv2Host::rounding_rs,
                               gate_conv2_tma && tables->round_tf32_operands);
    return {y[0].view({E, 3, C}), y[1].view({E, 4, C}), y[2].view({E, 2, C})};
#else
    (void)msg;
    (void)m0_with_gate;
    (void)conv2;
    (void)C;
    throw Error("gate_conv2: needs the fused CUDA kernels");
#endif
  }
  // The gate and conv 2 on conv 1's outputs (`msg`, its gate logits `gate` on the Torch path, m0_with_gate on the
  // fused one).
  MGroups gate_and_conv2(const MGroups& msg, const torch::Tensor& gate_logits, const torch::Tensor& m0_with_gate,
                         const MixedSO2Conv& conv2, int64_t C) const {
    if (fused_gate_conv2(m0_with_gate, conv2)) return gate_conv2(msg, m0_with_gate, conv2, C);
    const bool r = tables->round_tf32_operands;  // the gate's output and the scatter's gradient come rounded
    return so2_conv(gate(msg, gate_logits, m0_with_gate), torch::Tensor(), conv2, C, 0, nullptr, nullptr, {r, r});
  }
  // gate_and_conv2, then edge_to_node, with conv 2's outputs as a recipe (fused_wigner_ops.h MessageRecipe): made from
  // conv 1's outputs (which the gate keeps anyway) in the forward without keeping anything, and again in the backward.
  torch::Tensor edge_to_node_recomputing_conv2(const MGroups& conv1, const torch::Tensor& m0_with_gate,
                                               const MixedSO2Conv& conv2, int64_t C, const torch::Tensor& dst, int64_t n,
                                               const EdgeRotations& rot, const Csr* csr) const {
#ifdef UMA_HAVE_CUDA_KERNELS
    // The fused gate reads the m = 0 rows from m0_with_gate: conv1.m0 is not an input.
    const fused::MessageRecipe recipe{{m0_with_gate, conv1.m1, conv1.m2},
                                      [self = this, conv2, C](const std::array<torch::Tensor, 3>& in) {
                                        const MGroups y = self->gate_and_conv2({torch::Tensor(), in[1], in[2]},
                                                                               torch::Tensor(), in[0], conv2, C);
                                        return std::array<torch::Tensor, 3>{y.m0, y.m1, y.m2};
                                      }};
    return fused::rotate_back_scatter(recipe, rot.scatter, dst, n, csr, tables->round_tf32_operands);
#else
    (void)conv1, (void)m0_with_gate, (void)conv2, (void)C, (void)dst, (void)n, (void)rot, (void)csr;
    throw Error("edge_to_node: recomputing conv 2's outputs needs the fused CUDA kernels");
#endif
  }
  // The fused kernels read the m-groups where the last SO(2) convolution left them; the torch path joins them.
  // round_grad: the message's gradient stored rounded to TF32 for the GEMMs that made it (LayerTables::
  // round_tf32_operands; the layers' conv 2, not the edge-degree embedding, whose message is a scaled radial output).
  torch::Tensor edge_to_node(const MGroups& msg, const torch::Tensor& dst, int64_t n, const EdgeRotations& rot,
                             const Csr* csr = nullptr, bool round_grad = false) const {
#ifdef UMA_HAVE_CUDA_KERNELS
    if (fused) return fused::rotate_back_scatter(msg.m0, msg.m1, msg.m2, rot.scatter, dst, n, csr, round_grad);
#endif
    (void)round_grad;
    return rotate_back_scatter_m(join_m(msg), rot.scatter, dst, n);
  }

  // This evaluation's halo exchange (EvalInput::halo) and sums over ranks (EvalInput::rank_sum), or
  // none, and their autograd anchor.
  HaloExchange* halo = nullptr;
  RankSum* rank_sum = nullptr;
  int64_t n_owned = 0;
  torch::Tensor halo_anchor;

  // 1.2.x: the total charge as the per-layer balance target (charge_balance.h).
  torch::Tensor balance(const torch::Tensor& x) const {
    const ModelFeatures& f = config.features;
    if (!f.balances_charge()) return x;
    ChargeBalance b;
    b.channel_begin = f.charge_channel_begin;
    b.channel_end = f.charge_channel_end;
    b.target = charge;
    b.num_atoms = double(total_atoms);
    b.n_owned = n_owned;
    b.ranks = rank_sum;
    b.anchor = halo_anchor;
    return balance_charge(x, b);
  }

  // Ghost rows <- their owners' features (forward); ghost gradients -> owners (backward).
  struct HaloCopy : torch::autograd::Function<HaloCopy> {
    // `anchor`: a leaf every rank differentiates for (see halo_anchor), so that each exchange's
    // backward (collective) runs on every rank even where no owned energy depends on it.
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                                 const torch::Tensor& anchor, int64_t exchange) {
      ctx->saved_data["exchange"] = exchange;
      auto y = x.detach().flatten(1).clone();  // [N, K]; flatten, not reshape(-1): N may be 0
      reinterpret_cast<HaloExchange*>(exchange)->forward(y);
      return y.view(x.sizes());
    }
    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grad) {
      auto* exchange = reinterpret_cast<HaloExchange*>(ctx->saved_data["exchange"].toInt());
      auto g = grad[0].flatten(1).clone();
      exchange->reverse(g);
      return {g.view(grad[0].sizes()), torch::Tensor(), torch::Tensor()};
    }
  };
  torch::Tensor exchange_ghosts(const torch::Tensor& x) const {
    if (!halo) return x;
    return HaloCopy::apply(x, halo_anchor, reinterpret_cast<int64_t>(halo));
  }

  // Edges per chunk of this evaluation (0: all at once); see memory_budget.h.
  int64_t chunk_edges = 0;
  // What this evaluation makes again in the backward (EngineOptions::recompute; one-pass evaluations with the fused
  // kernels only: chunks recompute everything anyway).
  Recompute recompute = Recompute::none;

  // Every radial MLP reads x_edge = [Gaussian basis | source and target element embeddings]; the engine passes
  // the Gaussian basis and the element pair of each edge instead (RadialMLPW::lin0_pair), as edge inputs, so that
  // chunks slice them like any other per-edge tensor and x_edge [E,288] is never made.
  torch::Tensor element_pairs(const torch::Tensor& Z, const torch::Tensor& src, const torch::Tensor& dst) const {
    return Z.index_select(0, src) * config.max_num_elements + Z.index_select(0, dst);
  }

  // Edge-degree embedding (nn/embedding.py EdgeDegreeEmbedding, rescale 5) as per-edge work.
  // Edge inputs: gauss, element pairs, wigner_inv_env, src, dst.
  struct DegreeWork : EdgeWork {
    const Impl& m;
    int64_t num_atoms, num_edges;
    DegreeWork(const Impl& i, int64_t n, int64_t e) : m(i), num_atoms(n), num_edges(e) {}
    torch::Tensor operator()(const std::vector<torch::Tensor>&, const std::vector<torch::Tensor>& e) const override {
      const int64_t E = e[0].size(0), C = m.config.sphere_channels;
      auto rad = radial_mlp(e[0], e[1], m.weights.edge_degree_rad, *m.tables).view({E, m.config.lmax + 1, C});
#ifdef UMA_HAVE_CUDA_KERNELS
      // The message has only its m = 0 rows: the rotate-back-and-scatter kernel of the layers with the m = 1, 2
      // groups absent (undefined: zero rows the kernel neither reads nor needs materialised, ~[E,6,C] of zeros and
      // their memset saved), where the Torch form is a per-edge batched K = 3 GEMM, a division and an index_add
      // each way.
      if (m.fused) {
        Csr chunk_csr;
        const Csr* csr = m.csr_for(e[3], e[4], num_atoms, num_edges, chunk_csr);
        const MGroups msg{rad / 5.0, torch::Tensor(), torch::Tensor()};
        return m.edge_to_node(msg, e[4], num_atoms, {torch::Tensor(), e[2]}, csr);
      }
#endif
      auto msg = torch::bmm(e[2].index_select(2, m.m0_columns), rad);
      return torch::zeros({num_atoms, msg.size(1), C}, msg.options()).index_add(0, e[4], msg / 5.0);
    }
  };

  // escn_md_block.py Edgewise as per-edge work: rotate into edge frames, two SO(2) convolutions with
  // a gate, rotate back, sum into targets. Node input: the normalised features; edge inputs:
  // gauss, element pairs, the gather and scatter rotations, src, dst.
  struct EdgewiseWork : EdgeWork {
    const Impl& m;
    const BlockW& block;
    const MixedBlock& mix;
    size_t index;  // the block's
    int64_t num_atoms, num_edges;
    EdgewiseWork(const Impl& i, const BlockW& b, const MixedBlock& x, size_t k, int64_t n, int64_t e)
        : m(i), block(b), mix(x), index(k), num_atoms(n), num_edges(e) {}
    torch::Tensor operator()(const std::vector<torch::Tensor>& node, const std::vector<torch::Tensor>& e) const override {
      const int64_t H = m.config.hidden_channels, C = m.config.sphere_channels, L = m.config.lmax;
      const EdgeRotations rot{e[2], e[3]};
      const auto& src = e[4];
      const auto& dst = e[5];
      Csr chunk_csr;
      const Csr* csr = m.csr_for(src, dst, num_atoms, num_edges, chunk_csr);
      // Conv 1's radial scale: folded into the fused gather kernel (fairchem PR #2073 does the same in Triton),
      // else a multiply inside so2_conv.
      MGroups msg;
      torch::Tensor gate, m0_with_gate;
      // The gather's message and the gate's input gradients come rounded where the producers round.
      const bool r = m.tables->round_tf32_operands;
      if (!m.conv1_on_half_message(index, node[0], src, dst, rot, csr, e[0], e[1], block.so2_conv_1.rad_func, msg,
                                   gate, m0_with_gate)) {
        torch::Tensor radial;
        if (m.recompute >= Recompute::radial) {
          msg = m.node_to_edge_recomputing_radial(node[0], src, dst, rot, csr, e[0], e[1], block.so2_conv_1.rad_func);
        } else {
          // The fused gather keeps the scale's gradient rounded where the producers round (the last Linear's input).
          radial = radial_mlp(e[0], e[1], block.so2_conv_1.rad_func, *m.tables, m.fused);
          msg = m.node_to_edge(node[0], src, dst, rot, csr, m.fused ? radial : torch::Tensor());
        }
        msg = so2_conv(msg, m.fused ? torch::Tensor() : radial, mix.so2_conv_1, H, L * H, &gate, &m0_with_gate,
                       {r, r});
      }
      if (m.recompute >= Recompute::radial_and_conv2)
        return m.edge_to_node_recomputing_conv2(msg, m0_with_gate, mix.so2_conv_2, C, dst, num_atoms, rot, csr);
      return m.edge_to_node(m.gate_and_conv2(msg, gate, m0_with_gate, mix.so2_conv_2, C), dst, num_atoms, rot, csr, r);
    }
  };

  torch::Tensor atom_energies(const torch::Tensor& Z, const torch::Tensor& src, const torch::Tensor& dst,
                              const torch::Tensor& vec);
  // evaluate() after validation and chunk planning; inputs already on the device (a CUDA graph
  // records exactly this).
  EvalOutput evaluate_planned(const EvalInput& in, const EvalRequest& request);
  bool graph_applies(const EvalInput& in, const EvalRequest& request) const {
    return fused && !options.deterministic && !in.halo && !in.rank_sum && chunk_edges == 0 && request.gradient && !unmerged &&
           in.edge_vec.size(0) > 0 && in.edge_vec.size(0) <= options.graph_max_edges &&
           in.atomic_numbers.size(0) > 0;
  }
};

Engine::Engine(const std::string& model_path, const EngineOptions& options) : impl_(new Impl) {
  auto& m = *impl_;
  m.options = options;
  m.dtype = options.precision == Precision::fp64 ? torch::kFloat64 : torch::kFloat32;
  if (options.device.is_cuda() && !torch::cuda::is_available())
    throw Error("device cuda requested but this LibTorch sees no CUDA device; use device cpu");
  ModelFile file(model_path);
  m.config = ModelConfig::from_file(file);
  m.weights = Weights::load(file, m.config, m.dtype, options.device);
  const auto& c = m.config;
  if (m.weights.charge_embedding.size(0) != c.charge_max - c.charge_min + 1 || c.charge_min != -100)
    throw Error("model file '" + model_path + "': charge embedding rows do not match charge_range");

  ModelInfo& i = m.info;
  i.name = c.model_name;
  i.model_id = c.features.model_id;
  i.charge_balanced = c.features.balances_charge();
  i.provenance = c.provenance + ", file sha256 " + file.sha256().substr(0, 16) + "...";
  i.elements = c.elements;
  for (const auto& t : c.tasks) {
    i.tasks.push_back(t.first);
    i.default_charge[t.first] = t.second.default_charge;
    i.default_spin[t.first] = t.second.default_spin;
  }
  i.cutoff = c.cutoff;
  i.max_neighbors = c.max_neighbors;
  i.num_layers = c.num_layers;
  i.receptive_field_hops = c.num_layers + 1;
  i.max_num_elements = c.max_num_elements;
  i.node_feature_width = (c.lmax + 1) * (c.lmax + 1) * c.sphere_channels;
  i.num_experts = c.num_experts;
  i.num_parameters = m.weights.num_parameters;
  i.charge_min = c.charge_min;
  i.charge_max = c.charge_max;
  i.spin_min = c.spin_min;
  i.spin_max = std::min<int>(c.spin_max, m.weights.spin_embedding.size(0) - 1);
  m.element_allowed.assign(c.max_num_elements, false);
  for (int z : c.elements) m.element_allowed[z] = true;

  // GaussianSmearing(0, cutoff, n, 2.0): offsets in the working precision, coefficient from their
  // spacing as a double, exactly as fairchem computes it with .item().
  m.gauss_offsets = torch::linspace(0.0, c.cutoff, c.num_distance_basis, m.fopt());
  const double spacing = (m.gauss_offsets[1] - m.gauss_offsets[0]).item<double>();
  m.gauss_coeff = -0.5 / std::pow(2.0 * spacing, 2);
  m.m0_columns = torch::tensor({0, 2, 6}, torch::TensorOptions().dtype(torch::kInt64)).to(options.device);
  m.l_of_m = l_index_of_m(options.device);
  m.l2_forms = l2_quadratic_forms(m.fopt());
  // The GEMM modes are fp32 GPU modes: fp64 and the CPU run their GEMMs exactly (EngineOptions::fp32_gemm).
  const Fp32Gemm gemm =
      options.device.is_cuda() && options.precision == Precision::fp32 ? options.fp32_gemm : Fp32Gemm::strict;
#ifdef UMA_HAVE_CUDA_KERNELS
  m.fused = options.device.is_cuda();
#endif
  m.tables = std::make_unique<LayerTables>(m.dtype, options.device, gemm, m.fused);
  {
    const char* node = std::getenv("UMA_FUSED_NODE_KERNELS");  // see LayerTables::fused_node
    m.tables->fused_node = m.fused && !(node && std::string(node) == "0");
  }
  if (options.device.is_cuda()) at::globalContext().setAllowTF32CuBLAS(gemm == Fp32Gemm::tf32);
  // The TF32 GEMM that reads its weights as stored gets them rounded, once (tf32_weights.h).
  if (tf32_weights_prerounded(gemm)) round_gemm_weights_to_tf32(m.weights);
  // A bad UMA_TF32_GEMM fails here, with the model, not at the first evaluation. K2 (fused_gate_conv2) is decided
  // here, at every construction: the tf32 mode on the RS Hopper GEMM unless UMA_FUSED_GATE_CONV2=0 (A/B timings), and
  // on the rounding TMA GEMM (hopper-rna) where UMA_FUSED_GATE_CONV2=1 (unset: kGateInConv2TmaByDefault).
  if (gemm == Fp32Gemm::tf32) {
    const Tf32GemmKernel kernel = tf32_gemm_kernel_requested();
    const bool rs = kernel == Tf32GemmKernel::hopper_rs, tma = kernel == Tf32GemmKernel::hopper_tma_rna;
    const bool wanted = env_switch("UMA_FUSED_GATE_CONV2", rs || kGateInConv2TmaByDefault);
    m.gate_conv2_on = m.fused && wanted && (rs || tma);
    m.gate_conv2_tma = m.gate_conv2_on && tma;
#ifdef UMA_HAVE_CUDA_KERNELS
    m.radial_gather_on = m.fused && env_switch("UMA_FUSED_RADIAL_GATHER", kRadialGatherByDefault) &&
                         fused::radial_gather_takes(m.config.sphere_channels, m.config.edge_channels);
    // conv 1 on the fp16 message: the rounding TMA GEMM's mode (its producer rounding is checked below), not with the
    // radial gather (whose kernel writes the message in fp32).
    m.half_conv1_on = m.fused && tma && env_switch("UMA_HALF_OPERANDS", kHalfOperandsByDefault) && !m.radial_gather_on;
#endif
  }
#ifdef UMA_HAVE_CUDA_KERNELS
  // The producer rounding (LayerTables::round_tf32_operands): where the fused kernels feed the rounding Hopper GEMM,
  // if UMA_TF32_PREROUND says 1 (0: off; unset: kPreroundByDefault). Read at every construction (not once per
  // process), so that a test can build an engine with and one without.
  if (m.fused && gemm == Fp32Gemm::tf32 && tf32_gemm_kernel_requested() == Tf32GemmKernel::hopper_tma_rna) {
    const c10::cuda::CUDAGuard guard(options.device);
    m.tables->round_tf32_operands =
        env_switch("UMA_TF32_PREROUND", kPreroundByDefault) && fused::tf32_linear_available();
  }
  m.half_conv1_on = m.half_conv1_on && m.tables->round_tf32_operands;  // the fp16 message holds the rounded values
#endif
  if (options.deterministic && !m.fused)
    throw Error("deterministic summation needs the fused CUDA kernels (device cuda in a CUDA build); "
                "on the CPU results are deterministic already");
  i.fused_kernels = m.fused;
  i.fp32_gemm = gemm;
  if (gemm == Fp32Gemm::tf32) {
    bool hopper = false;
#ifdef UMA_HAVE_CUDA_KERNELS
    const c10::cuda::CUDAGuard guard(options.device);  // the engine's GPU, not whichever is current
    hopper = fused::tf32_linear_available();
#endif
    i.tf32_kernel = tf32_gemm_kernel_name(hopper ? tf32_gemm_kernel_requested() : Tf32GemmKernel::cublas);
    i.tf32_prerounded = m.tables->round_tf32_operands;
    i.gate_in_conv2 = m.gate_conv2_on && hopper;
    i.radial_gather = m.radial_gather_on;
    i.half_operands = m.half_conv1_on;
  }
}

Engine::~Engine() = default;

const ModelInfo& Engine::info() const { return impl_->info; }
const EngineOptions& Engine::options() const { return impl_->options; }

void Engine::set_system(const std::string& task, int charge, int spin) {
  auto& m = *impl_;
  auto it = m.config.tasks.find(task);
  if (it == m.config.tasks.end()) {
    std::string known;
    for (const auto& t : m.info.tasks) known += (known.empty() ? "" : ", ") + t;
    throw Error("unknown task '" + task + "' for model " + m.info.name + "; choose one of: " + known);
  }
  if (charge < m.info.charge_min || charge > m.info.charge_max)
    throw Error("charge " + std::to_string(charge) + " is outside the model's range [" +
                std::to_string(m.info.charge_min) + ", " + std::to_string(m.info.charge_max) + "]");
  if (spin < m.info.spin_min || spin > m.info.spin_max)
    throw Error("spin multiplicity " + std::to_string(spin) + " is outside the model's range [" +
                std::to_string(m.info.spin_min) + ", " + std::to_string(m.info.spin_max) + "]");
  if (m.system_set && task == m.task && charge == m.charge && spin == m.spin) return;
  m.task = task;
  m.charge = charge;
  m.spin = spin;
  m.energy_rmsd = it->second.energy_rmsd;
  m.head.clear();
  for (const auto& layer : m.weights.energy_block)  // a per-dataset head is a one-hot mixture: pick the expert
    m.head.push_back({layer.experts[it->second.head_expert], layer.bias});
  auto refs = m.weights.element_refs.find(it->second.dataset);
  m.element_refs = refs != m.weights.element_refs.end()
                       ? refs->second
                       : torch::zeros({m.config.max_num_elements},
                                      torch::TensorOptions().dtype(torch::kFloat64).device(m.options.device));
  {
    torch::NoGradGuard no_grad;
    m.csd = system_embedding(m.weights, charge, spin, it->second.dataset);
  }
  m.system_set = true;
  m.mixture_valid = false;
  ++m.generation;
}

bool Engine::set_composition(const std::vector<int64_t>& counts) {
  auto& m = *impl_;
  if (!m.system_set) throw Error("set_system must be called before set_composition");
  const int zmax = m.config.max_num_elements;
  if (static_cast<int>(counts.size()) > zmax)
    for (size_t z = zmax; z < counts.size(); ++z)
      if (counts[z] > 0)
        throw Error("atomic number " + std::to_string(z) + " is beyond the model's " + std::to_string(zmax) +
                    " elements");
  int64_t total = 0;
  for (size_t z = 0; z < counts.size() && z < size_t(zmax); ++z) {
    if (counts[z] < 0) throw Error("negative element count");
    if (counts[z] > 0 && !m.element_allowed[z])
      throw Error("element with atomic number " + std::to_string(z) + " is not in model " + m.info.name);
    total += counts[z];
  }
  if (total == 0) throw Error("the system has no atoms the model can evaluate");
  std::vector<double> f(zmax, 0.0);
  for (size_t z = 0; z < counts.size() && z < size_t(zmax); ++z) f[z] = double(counts[z]) / double(total);
  // Same reduced composition (fairchem's merge-consistency check uses rtol 1e-5): keep the mixture.
  bool same = m.mixture_valid && m.fractions.size() == f.size();
  for (size_t z = 0; same && z < f.size(); ++z) same = std::abs(f[z] - m.fractions[z]) <= 1e-5 * std::abs(m.fractions[z]);
  // The atom count itself enters the charge balance (1/N) and UMA-S-1.2's composition mean (N/(N+1)).
  const bool new_total = total != m.total_atoms;
  m.total_atoms = total;
  if (same && new_total && m.config.features.composition_include_self) same = false;
  if (same) {
    if (new_total) ++m.generation;  // a recorded CUDA graph holds 1/N as a constant
    return false;
  }
  m.fractions = f;
  m.remix();
  return true;
}

void Engine::set_edge_chunk(int64_t edge_chunk) { impl_->options.edge_chunk = edge_chunk; }
void Engine::set_recompute(int recompute) { impl_->options.recompute = recompute; }
void Engine::set_graph_max_edges(int64_t max_edges) { impl_->options.graph_max_edges = max_edges; }

void Engine::set_use_unmerged_mixture(bool on) {
  impl_->unmerged = on;
  if (impl_->mixture_valid) impl_->remix();
}

torch::Tensor Engine::Impl::atom_energies(const torch::Tensor& Z, const torch::Tensor& src, const torch::Tensor& dst,
                                          const torch::Tensor& vec) {
  const auto& w = weights;
  const int64_t N = Z.size(0), E = vec.size(0), C = config.sphere_channels;

  // Edge geometry (escn_md.py: wigner, envelope, distance expansion): one fused kernel each way with the CUDA
  // kernels, else the Torch form (the reference the fused one is tested against).
#ifdef UMA_HAVE_CUDA_KERNELS
  const EdgeGeometry geo = fused ? fused::edge_geometry(vec, gauss_offsets, config.cutoff, gauss_coeff)
                                 : edge_geometry(vec, gauss_offsets, config.cutoff, gauss_coeff, l2_forms);
#else
  const EdgeGeometry geo = edge_geometry(vec, gauss_offsets, config.cutoff, gauss_coeff, l2_forms);
#endif
  const auto &wigner = geo.wigner, &wigner_inv_env = geo.wigner_inv_env, &gauss = geo.gauss;
  const EdgeRotations rot = prepare_rotations(wigner, wigner_inv_env);
  const LayerTables& t = *tables;

  // Node initialisation: l = 0 row = element embedding + system (charge/spin/task) embedding.
  auto x = torch::cat({(w.sphere_embedding.index_select(0, Z) + csd).unsqueeze(1), torch::zeros({N, 8, C}, fopt())}, 1);

  // Per-edge work goes through sum_over_edge_chunks: one plain pass, or chunks with recomputation
  // when the activations of all edges would not fit (chunk_edges > 0).
  const torch::Tensor pairs = element_pairs(Z, src, dst);
  if (E > 0)
    x = x + sum_over_edge_chunks(c10::make_intrusive<DegreeWork>(*this, N, E), {},
                                 {gauss, pairs, wigner_inv_env, src, dst}, chunk_edges);
  // Halo exchange: only owned rows were updated; ghosts take their owners' values before every
  // layer reads them (the last layer's output feeds owned energies only).
  x = exchange_ghosts(x);

  for (int64_t i = 0; i < config.num_layers; ++i) {
    const BlockW& block = w.blocks[i];
    // norm_1, then the system embedding on the l = 0 row (a constant: csd is made without grad), in one call.
    const auto h = rms_norm_sh(x, block.norm_1, t, csd);
    if (E > 0)
      x = x + sum_over_edge_chunks(c10::make_intrusive<EdgewiseWork>(*this, block, mixed[i], i, N, E), {h},
                                   {gauss, pairs, rot.gather, rot.scatter, src, dst}, chunk_edges);
    x = x + spectral_atomwise(rms_norm_sh(x, block.norm_2, t), block, t);
    x = balance(x);
    if (i + 1 < config.num_layers) x = exchange_ghosts(x);
  }
  x = rms_norm_sh(x, w.norm, t);
  auto e = x.select(1, 0);
  e = torch::silu(linear(e, head[0], t.gemm));
  e = torch::silu(linear(e, head[1], t.gemm));
  return linear(e, head[2], t.gemm).view({N});
}

namespace {
// The energy to the host, and with it (one copy, the evaluation's one synchronisation) the sum of
// the edge gradients: a NaN or Inf anywhere in the energy, a force or the virial shows in one of
// the two (forces and virials are linear in edge_grad).
void read_energy_checked(EvalOutput& out) {
  torch::Tensor both = out.edge_grad.defined() && out.edge_grad.numel() > 0
                           ? torch::stack({out.energy_device, out.edge_grad.sum()})
                           : out.energy_device.reshape({1});
  both = both.to(torch::kCPU, torch::kFloat64);
  const double* v = both.data_ptr<double>();
  out.energy = v[0];
  out.finite = std::isfinite(v[0]) && (both.numel() < 2 || std::isfinite(v[1]));
}
}  // namespace

EvalOutput Engine::evaluate(const EvalInput& in, const EvalRequest& request) {
  auto& m = *impl_;
  if (!m.system_set || !m.mixture_valid)
    throw Error("set_system and set_composition must be called before evaluate");
  const int64_t N = in.atomic_numbers.size(0);
  const int64_t n_energy = in.n_energy_atoms < 0 ? N : in.n_energy_atoms;
  if (n_energy > N) throw Error("n_energy_atoms exceeds the number of atoms");
  if (in.edge_vec.dim() != 2 || in.edge_vec.size(1) != 3 || in.edge_src.size(0) != in.edge_vec.size(0) ||
      in.edge_dst.size(0) != in.edge_vec.size(0))
    throw Error("edge arrays disagree in length or edge_vec is not [E,3]");
  const auto dev = m.options.device;
  EvalInput d = in;
  d.atomic_numbers = in.atomic_numbers.to(dev, torch::kInt64);
  d.edge_src = in.edge_src.to(dev, torch::kInt64);
  d.edge_dst = in.edge_dst.to(dev, torch::kInt64);
  d.edge_vec = in.edge_vec.to(dev, torch::kFloat64);
  d.n_energy_atoms = n_energy;
  const int64_t E = in.edge_vec.size(0), element_bytes = c10::elementSize(m.dtype);
  Recompute planned = m.fused ? plan_recompute(m.options.recompute, E, m.config.num_layers, m.config.sphere_channels,
                                               element_bytes, dev, m.options.memory_share)
                              : Recompute::none;
  // With the scale made inside the gather, not keeping it is the faster choice too (kRadialGatherByDefault).
  if (m.radial_gather_on && m.options.recompute == 0 && planned == Recompute::none && E > 0)
    planned = Recompute::radial;
  m.chunk_edges = plan_edge_chunks(m.options.edge_chunk, E, m.config.num_layers, m.config.sphere_channels,
                                   element_bytes, dev, m.options.memory_share, one_pass_values(m.fused, planned));
  // Chunks recompute everything anyway. A CUDA graph recorded with another choice is stale: record again.
  const Recompute recompute = m.chunk_edges == 0 ? planned : Recompute::none;
  if (recompute != m.recompute) ++m.generation;
  m.recompute = recompute;
#ifdef UMA_HAVE_CUDA_KERNELS
  if (m.graph_applies(d, request)) {
    if (!m.captured) m.captured = std::make_unique<CapturedEvaluation>(dev, 2.0 * m.config.cutoff);
    EvalRequest inner = request;
    inner.host_energy = false;  // no host synchronisation inside a graph
    inner.atom_energy = true;
    EvalOutput out = m.captured->run(d, m.generation, [&m, &inner](const EvalInput& s) {
      return m.evaluate_planned(s, inner);
    });
    if (request.host_energy) read_energy_checked(out);
    if (!request.atom_energy) out.atom_energy = torch::Tensor();
    out.graph_edges = m.captured->edge_capacity();
    out.recomputed = m.recompute;  // a replay returns the recorded tensors only
    return out;
  }
#endif
  return m.evaluate_planned(d, request);
}

EvalOutput Engine::Impl::evaluate_planned(const EvalInput& in, const EvalRequest& request) {
  Impl& m = *this;
  const int64_t N = in.atomic_numbers.size(0);
  const int64_t n_energy = in.n_energy_atoms;
  const auto& Z = in.atomic_numbers;
  const auto& src = in.edge_src;
  const auto& dst = in.edge_dst;
  auto vec = in.edge_vec.to(m.dtype).detach();
  if (request.gradient) vec.requires_grad_(true);

#ifdef UMA_HAVE_CUDA_KERNELS
  if (m.fused && m.options.deterministic) {
    m.csr = fused::make_edge_csr(src, dst, N);
    m.csr_ptr = &m.csr;
  }
#endif
  EvalOutput out;
  m.halo = in.halo;
  m.rank_sum = in.rank_sum;
  m.n_owned = n_energy;
  const bool collective = in.halo || in.rank_sum;
  m.halo_anchor = collective ? torch::zeros({}, m.fopt()).requires_grad_(request.gradient) : torch::Tensor();
  out.edge_chunk = m.chunk_edges;
  out.recomputed = m.recompute;
  torch::AutoGradMode grad_mode(request.gradient);
  // Deterministic mode: besides the fused kernels' segmented sums, every remaining torch scatter
  // (edge-degree index_add, index_select backward) uses torch's deterministic implementation.
  DeterministicScope deterministic_scope(m.options.deterministic);
  auto eps = m.atom_energies(Z, src, dst, vec);  // normalised units, working precision
  auto counted = eps.narrow(0, 0, n_energy);
  // Energies in float64 as fairchem (outputs.py reduce_node_to_system), de-normalised, plus the
  // task's element references.
  auto atom_e = eps.detach().to(torch::kFloat64) * m.energy_rmsd + m.element_refs.index_select(0, Z);
  atom_e.narrow(0, n_energy, N - n_energy).zero_();
  out.energy_device = atom_e.sum();
  if (request.atom_energy) out.atom_energy = atom_e;
  if (request.gradient) {
    // allow_unused: with no edges the energy does not depend on any edge vector.
    std::vector<torch::Tensor> wrt{vec};
    if (collective) wrt.push_back(m.halo_anchor);
    auto root = counted.sum();
    // No edges (and no halo): the energy is a constant of the positions; nothing to differentiate.
    auto grads = root.requires_grad() ? torch::autograd::grad({root}, wrt, {}, false, false, true)
                                      : std::vector<torch::Tensor>{torch::Tensor()};
    out.edge_grad = grads[0].defined() ? grads[0].to(torch::kFloat64) * m.energy_rmsd
                                       : torch::zeros({vec.size(0), 3}, vec.options().dtype(torch::kFloat64));
  }
  if (request.host_energy) read_energy_checked(out);
  return out;
}

int64_t Engine::graph_captures() const {
#ifdef UMA_HAVE_CUDA_KERNELS
  if (impl_->captured) return impl_->captured->captures();
#endif
  return 0;
}

DeterministicScope::DeterministicScope(bool on)
    : saved_(at::globalContext().deterministicAlgorithms()),
      saved_warn_only_(at::globalContext().deterministicAlgorithmsWarnOnly()) {
  if (on) at::globalContext().setDeterministicAlgorithms(true, false);
}

DeterministicScope::~DeterministicScope() { at::globalContext().setDeterministicAlgorithms(saved_, saved_warn_only_); }

}  // namespace uma
