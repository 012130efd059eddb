#include "engine/params/weights.h"

#include <cstring>
#include <set>
#include <sstream>

#include "engine/params/model_config.h"
#include "model/errors.h"
#include "model/model_file.h"

namespace uma {
namespace {

std::string shape_str(const std::vector<int64_t>& s) {
  std::ostringstream o;
  o << "[";
  for (size_t i = 0; i < s.size(); ++i) o << (i ? "," : "") << s[i];
  o << "]";
  return o.str();
}

class Loader {
 public:
  Loader(const ModelFile& f, torch::Dtype dtype, torch::Device device) : f_(f), dtype_(dtype), device_(device) {}

  // keep_fp64: element references stay float64 whatever the working precision (fairchem adds them
  // in float64).
  torch::Tensor get(const std::string& name, const std::vector<int64_t>& shape, bool keep_fp64 = false) {
    const StoredTensor& t = f_.tensor(name);
    used_.insert(name);
    // -1 in `shape` is a dimension read from the file (e.g. the number of experts).
    bool ok = t.shape.size() == shape.size();
    for (size_t i = 0; ok && i < shape.size(); ++i) ok = shape[i] < 0 || shape[i] == t.shape[i];
    if (!ok)
      throw Error("model file '" + f_.path() + "': tensor '" + name + "' has shape " + shape_str(t.shape) +
                  ", expected " + shape_str(shape) + "; the file does not match its own metadata");
    torch::Dtype stored = torch::kFloat32;
    switch (t.type) {
      case StoredType::f16: stored = torch::kFloat16; break;
      case StoredType::bf16: stored = torch::kBFloat16; break;
      case StoredType::f32: stored = torch::kFloat32; break;
      case StoredType::f64: stored = torch::kFloat64; break;
    }
    // The mapping is read-only and may be unaligned for the element type: copy out before use.
    auto host = torch::empty(t.shape, torch::TensorOptions().dtype(stored));
    std::memcpy(host.data_ptr(), t.data, t.nbytes);
    if (!keep_fp64) num_parameters_ += t.numel();
    return host.to(device_, keep_fp64 ? torch::kFloat64 : dtype_);
  }

  LinearW linear(const std::string& p, int64_t out, int64_t in, bool bias = true) {
    LinearW l;
    l.weight = get(p + ".weight", {out, in});
    if (bias) l.bias = get(p + ".bias", {out});
    return l;
  }

  LayerNormW layer_norm(const std::string& p, int64_t c) { return {get(p + ".weight", {c}), get(p + ".bias", {c})}; }

  RadialMLPW radial(const std::string& p, int64_t in, int64_t hidden, int64_t out) {
    RadialMLPW r;
    r.lin0 = linear(p + ".net.0", hidden, in);
    r.norm1 = layer_norm(p + ".net.1", hidden);
    r.lin3 = linear(p + ".net.3", hidden, hidden);
    r.norm4 = layer_norm(p + ".net.4", hidden);
    r.lin6 = linear(p + ".net.6", out, hidden);
    return r;
  }

  // MoLE layers store "weights" [X,out,in]; a plain model stores nn.Linear "weight" [out,in].
  MoleLinearW mole(const std::string& p, int64_t out, int64_t in, bool bias, int experts) {
    MoleLinearW m;
    if (f_.has(p + ".weights")) {
      m.experts = get(p + ".weights", {experts, out, in});
      m.is_mole = true;
    } else {
      m.experts = get(p + ".weight", {out, in}).unsqueeze(0);
    }
    if (bias) m.bias = get(p + ".bias", {out});
    return m;
  }

  RMSNormSHW rms_norm(const std::string& p, int64_t lmax, int64_t c) {
    return {get(p + ".affine_weight", {lmax + 1, c}), get(p + ".affine_bias", {c})};
  }

  int64_t num_parameters() const { return num_parameters_; }
  bool used(const std::string& name) const { return used_.count(name) != 0; }

 private:
  std::set<std::string> used_;
  const ModelFile& f_;
  torch::Dtype dtype_;
  torch::Device device_;
  int64_t num_parameters_ = 0;
};

// The metadata decides what is read (layers, experts, datasets, head experts); a tensor the metadata
// does not account for means the two disagree (say `num_layers: 3` over four blocks' tensors), and
// evaluating would silently run another model than the one stored.
void check_all_used(const ModelFile& file, const ModelConfig& c, const Loader& ld) {
  std::vector<std::string> unused;
  for (const auto& name : file.names())
    if (!ld.used(name)) unused.push_back(name);
  if (unused.empty()) return;
  const std::string who = "model file '" + file.path() + "'";
  const std::string& first = unused.front();
  std::string hint;
  const std::string blocks = "backbone.blocks.";
  const std::string emb = "backbone.dataset_embedding.dataset_emb_dict.";
  if (first.compare(0, blocks.size(), blocks) == 0)
    hint = "the metadata says num_layers " + std::to_string(c.num_layers) + " but the file has tensors of block " +
           first.substr(blocks.size(), first.find('.', blocks.size()) - blocks.size());
  else if (first.compare(0, emb.size(), emb) == 0)
    hint = "the metadata's 'datasets' lack the dataset of this embedding";
  else if (first.compare(0, 6, "tasks.") == 0)
    hint = "the metadata's 'datasets' lack the dataset of these element references";
  else if (first.find("routing_mlp") != std::string::npos || first.find("composition_embedding") != std::string::npos)
    hint = "the metadata says num_experts " + std::to_string(c.num_experts) +
           (c.use_composition_embedding ? "" : " without a composition embedding");
  else
    hint = "this engine does not know the tensor (another model family or a newer converter?)";
  std::string list;
  for (size_t i = 0; i < unused.size() && i < 3; ++i) list += (i ? ", '" : "'") + unused[i] + "'";
  if (unused.size() > 3) list += " and " + std::to_string(unused.size() - 3) + " more";
  throw Error(who + " has " + std::to_string(unused.size()) + " tensor(s) its metadata does not use: " + list +
              "; " + hint + ". The metadata and the tensors disagree, so the file is corrupt or hand-edited; "
              "re-convert the checkpoint with tools/uma-convert");
}

}  // namespace

void so3_linear_per_coefficient(SO3LinearW& w) {
  torch::NoGradGuard no_grad;
  const int64_t L = w.weight.size(0) - 1, out = w.weight.size(1), rows = (L + 1) * (L + 1);
  std::vector<int64_t> degree;  // l of each L-major row: 2l + 1 rows of degree l
  for (int64_t l = 0; l <= L; ++l) degree.insert(degree.end(), 2 * l + 1, l);
  const auto index = torch::tensor(degree, torch::TensorOptions().dtype(torch::kInt64)).to(w.weight.device());
  w.weight_per_coefficient = w.weight.index_select(0, index).contiguous();
  w.bias_per_coefficient = torch::zeros({1, rows, out}, w.bias.options());
  w.bias_per_coefficient.select(1, 0).copy_(w.bias.view({1, out}));
}

void factor_radial_inputs(RadialMLPW& r, const torch::Tensor& source_embedding, const torch::Tensor& target_embedding) {
  const int64_t Z = source_embedding.size(0), EC = source_embedding.size(1);
  const int64_t hidden = r.lin0.weight.size(0), gauss = r.lin0.weight.size(1) - 2 * EC;
  const auto w = r.lin0.weight.to(torch::kFloat64);
  r.lin0_gauss = r.lin0.weight.narrow(1, 0, gauss).contiguous();
  auto by_source = torch::matmul(source_embedding.to(torch::kFloat64), w.narrow(1, gauss, EC).t());       // [Z,hidden]
  auto by_target = torch::matmul(target_embedding.to(torch::kFloat64), w.narrow(1, gauss + EC, EC).t());  // [Z,hidden]
  if (r.lin0.bias.defined()) by_target = by_target + r.lin0.bias.to(torch::kFloat64);
  r.lin0_pair = (by_source.unsqueeze(1) + by_target.unsqueeze(0)).reshape({Z * Z, hidden}).to(r.lin0.weight.dtype());
}

Weights Weights::load(const ModelFile& file, const ModelConfig& c, torch::Dtype dtype, torch::Device device) {
  Loader ld(file, dtype, device);
  Weights w;
  const int64_t Z = c.max_num_elements, C = c.sphere_channels, H = c.hidden_channels, EC = c.edge_channels;
  const int64_t L = c.lmax, X = c.num_experts > 0 ? c.num_experts : 1;
  const std::string bb = "backbone.";
  w.sphere_embedding = ld.get(bb + "sphere_embedding.weight", {Z, C});
  w.source_embedding = ld.get(bb + "source_embedding.weight", {Z, EC});
  w.target_embedding = ld.get(bb + "target_embedding.weight", {Z, EC});
  w.charge_embedding = ld.get(bb + "charge_embedding.rand_emb.weight", {-1, C});
  w.spin_embedding = ld.get(bb + "spin_embedding.rand_emb.weight", {-1, C});
  for (const auto& d : c.datasets)
    w.dataset_embedding[d] = ld.get(bb + "dataset_embedding.dataset_emb_dict." + d + ".weight", {1, C});
  w.mix_csd = ld.linear(bb + "mix_csd", C, 3 * C);
  if (c.num_experts > 0) {
    const int64_t in = c.use_composition_embedding ? 2 * C : C;
    if (c.use_composition_embedding) w.composition_embedding = ld.get(bb + "composition_embedding.weight", {Z, C});
    w.routing_mlp.push_back(ld.linear(bb + "routing_mlp.0", 2 * X, in));
    w.routing_mlp.push_back(ld.linear(bb + "routing_mlp.2", 2 * X, 2 * X));
    w.routing_mlp.push_back(ld.linear(bb + "routing_mlp.4", X, 2 * X));
  }
  const int64_t rad_in = c.num_distance_basis + 2 * EC;
  // Edge degree: the m = 0 coefficients of l = 0..lmax.
  w.edge_degree_rad = ld.radial(bb + "edge_degree_embedding.rad_func", rad_in, EC, (L + 1) * C);
  factor_radial_inputs(w.edge_degree_rad, w.source_embedding, w.target_embedding);
  for (int i = 0; i < c.num_layers; ++i) {
    const std::string p = bb + "blocks." + std::to_string(i) + ".";
    BlockW b;
    b.norm_1 = ld.rms_norm(p + "norm_1", L, C);
    b.norm_2 = ld.rms_norm(p + "norm_2", L, C);
    // so2_conv_1: input 2C per coefficient (source | target), output H, plus L*H gate logits in m = 0.
    const std::string c1 = p + "edge_wise.so2_conv_1.";
    b.so2_conv_1.fc_m0 = ld.mole(c1 + "fc_m0", 3 * H + L * H, 3 * 2 * C, true, X);
    b.so2_conv_1.fc_m1 = ld.mole(c1 + "so2_m_conv.0.fc", 2 * 2 * H, 2 * 2 * C, false, X);
    b.so2_conv_1.fc_m2 = ld.mole(c1 + "so2_m_conv.1.fc", 2 * 1 * H, 1 * 2 * C, false, X);
    b.so2_conv_1.has_radial = true;
    b.so2_conv_1.rad_func = ld.radial(c1 + "rad_func", rad_in, EC, 3 * 2 * C + 2 * 2 * C + 1 * 2 * C);
    factor_radial_inputs(b.so2_conv_1.rad_func, w.source_embedding, w.target_embedding);
    const std::string c2 = p + "edge_wise.so2_conv_2.";
    b.so2_conv_2.fc_m0 = ld.mole(c2 + "fc_m0", 3 * C, 3 * H, true, X);
    b.so2_conv_2.fc_m1 = ld.mole(c2 + "so2_m_conv.0.fc", 2 * 2 * C, 2 * H, false, X);
    b.so2_conv_2.fc_m2 = ld.mole(c2 + "so2_m_conv.1.fc", 2 * 1 * C, 1 * H, false, X);
    b.scalar_mlp = ld.linear(p + "atom_wise.scalar_mlp.0", L * H, C);
    b.so3_linear_1.weight = ld.get(p + "atom_wise.so3_linear_1.weight", {L + 1, H, C});
    b.so3_linear_1.bias = ld.get(p + "atom_wise.so3_linear_1.bias", {H});
    b.so3_linear_2.weight = ld.get(p + "atom_wise.so3_linear_2.weight", {L + 1, C, H});
    b.so3_linear_2.bias = ld.get(p + "atom_wise.so3_linear_2.bias", {C});
    so3_linear_per_coefficient(b.so3_linear_1);
    so3_linear_per_coefficient(b.so3_linear_2);
    for (const MoleLinearW* m : {&b.so2_conv_1.fc_m0, &b.so2_conv_1.fc_m1, &b.so2_conv_1.fc_m2, &b.so2_conv_2.fc_m0,
                                 &b.so2_conv_2.fc_m1, &b.so2_conv_2.fc_m2})
      if (m->is_mole != (c.num_experts > 0))
        throw Error("model file '" + file.path() + "': block " + std::to_string(i) + " stores " +
                    (m->is_mole ? "MoLE expert weights" : "plain Linear weights") + " but the metadata says num_experts " +
                    std::to_string(c.num_experts) + "; the file is inconsistent, re-convert the checkpoint with "
                    "tools/uma-convert");
    w.blocks.push_back(std::move(b));
  }
  w.norm = ld.rms_norm(bb + "norm", L, C);
  const std::string hp = "output_heads.energyandforcehead.head.energy_block.";
  const int head_x = c.features.energy_head == EnergyHead::dataset_moe ? c.head_experts : 1;
  w.energy_block.push_back(ld.mole(hp + "0", H, C, true, head_x));
  w.energy_block.push_back(ld.mole(hp + "2", H, H, true, head_x));
  w.energy_block.push_back(ld.mole(hp + "4", 1, H, true, head_x));
  for (const auto& layer : w.energy_block)
    if (layer.is_mole != (c.features.energy_head == EnergyHead::dataset_moe))
      throw Error("model file '" + file.path() + "': the energy head's tensors do not match model id " +
                  c.features.model_id + " (per-dataset experts expected: " +
                  (c.features.energy_head == EnergyHead::dataset_moe ? "yes" : "no") + ")");
  for (const auto& d : c.datasets) {
    const std::string name = "tasks." + d + ".element_references";
    if (file.has(name)) w.element_refs[d] = ld.get(name, {Z}, true);
  }
  for (const auto& [task, t] : c.tasks)
    if (t.has_element_references && !w.element_refs.count(t.dataset))
      throw Error("model file '" + file.path() + "' has no tensor 'tasks." + t.dataset +
                  ".element_references' for task '" + task +
                  "': its energies would lack the per-element reference energies (tens of eV); the file is "
                  "incomplete, re-convert the checkpoint with tools/uma-convert (a task that truly has none "
                  "must say \"has_element_references\": false in its metadata)");
  check_all_used(file, c, ld);
  w.num_parameters = ld.num_parameters();
  return w;
}

}  // namespace uma
