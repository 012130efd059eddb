#include "engine/io/structure_eval.h"

#include <cmath>

#include "model/errors.h"

namespace uma {

StructureResult evaluate_structure(Engine& engine, const Structure& s, const std::string& task, int charge,
                                   int spin, bool forces) {
  const auto& info = engine.info();
  engine.set_system(task, charge, spin);
  std::vector<int64_t> counts(128, 0);
  for (int z : s.numbers) {
    if (z < 0 || z >= 128) throw Error("atomic number " + std::to_string(z) + " out of range");
    ++counts[z];
  }
  engine.set_composition(counts);
  RadiusGraph g = build_radius_graph(s, info.cutoff, info.max_neighbors);
  const int64_t n = s.numbers.size(), E = g.src.size();
  auto i64 = torch::TensorOptions().dtype(torch::kInt64);
  auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  const auto dev = engine.options().device;
  EvalInput in;
  in.atomic_numbers = torch::tensor(std::vector<int64_t>(s.numbers.begin(), s.numbers.end()), i64).to(dev);
  in.edge_src = torch::from_blob(g.src.data(), {E}, i64).to(dev);
  in.edge_dst = torch::from_blob(g.dst.data(), {E}, i64).to(dev);
  in.edge_vec = torch::from_blob(g.vectors.data(), {E, 3}, f64).to(dev);
  EvalRequest req;
  req.gradient = forces;
  EvalOutput out = engine.evaluate(in, req);

  StructureResult r;
  r.num_edges = E;
  r.recomputed = out.recomputed;
  r.energy = out.energy;
  auto ae = out.atom_energy.cpu().contiguous();
  r.atom_energy.assign(ae.data_ptr<double>(), ae.data_ptr<double>() + n);
  if (!forces) return r;
  torch::Tensor f;
  {
    DeterministicScope deterministic(engine.options().deterministic);
    f = forces_from_edge_grad(out.edge_grad, in.edge_src, in.edge_dst, n).cpu().contiguous();
  }
  auto fa = f.accessor<double, 2>();
  r.forces.resize(n);
  for (int64_t i = 0; i < n; ++i)
    for (int k = 0; k < 3; ++k) r.forces[i][k] = fa[i][k];
  // As fairchem: virial over the cell volume whenever a cell is given (for a slab that is the volume
  // including the vacuum; meaningful only along periodic directions).
  if (s.volume() > 0.0) {
    auto Wt = virial_from_edge_grad(in.edge_vec, out.edge_grad).cpu().contiguous();
    auto W = Wt.accessor<double, 2>();
    const double vol = s.volume();
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b)
        r.stress[3 * a + b] = -0.5 * (W[a][b] + W[b][a]) / vol;
    r.has_stress = true;
  }
  return r;
}

}  // namespace uma
