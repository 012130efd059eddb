// uma-run: evaluate a structure (fixture JSON: numbers, positions, cell, pbc[, task, charge, spin])
// with a .uma model and print energy, forces and stress as JSON. The engine's command-line demo.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "engine/structure_eval.h"

namespace {

void usage() {
  std::fprintf(stderr,
               "usage: uma-run MODEL.uma STRUCTURE.json [--task T] [--charge Q] [--spin S]\n"
               "               [--precision fp32|fp64] [--device cpu|cuda] [--repeat N] [--threads N]\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    usage();
    return 2;
  }
  try {
    std::string model = argv[1], structure = argv[2], task, precision = "fp32", device = "cpu";
    int charge = 0, spin = 0, repeat = 1, threads = 0;
    bool charge_set = false, spin_set = false;
    for (int i = 3; i < argc; ++i) {
      std::string a = argv[i];
      if (i + 1 >= argc) {
        usage();
        return 2;
      }
      std::string v = argv[++i];
      if (a == "--task") task = v;
      else if (a == "--charge") charge = std::stoi(v), charge_set = true;
      else if (a == "--spin") spin = std::stoi(v), spin_set = true;
      else if (a == "--precision") precision = v;
      else if (a == "--device") device = v;
      else if (a == "--repeat") repeat = std::stoi(v);
      else if (a == "--threads") threads = std::stoi(v);
      else {
        usage();
        return 2;
      }
    }
    if (threads > 0) torch::set_num_threads(threads);
    uma::EngineOptions opt;
    if (precision != "fp32" && precision != "fp64") throw uma::Error("--precision must be fp32 or fp64");
    opt.precision = precision == "fp64" ? uma::Precision::fp64 : uma::Precision::fp32;
    opt.device = torch::Device(device);
    uma::Engine engine(model, opt);
    auto file = uma::read_structure_json(structure);
    if (task.empty()) task = file.task;
    if (task.empty()) {
      if (engine.info().tasks.size() != 1) throw uma::Error("the model has several tasks; pass --task");
      task = engine.info().tasks[0];
    }
    if (!charge_set) charge = file.has_charge ? file.charge : engine.info().default_charge.at(task);
    if (!spin_set) spin = file.has_spin ? file.spin : engine.info().default_spin.at(task);
    uma::StructureResult r;
    double best = 1e300;
    for (int k = 0; k < repeat; ++k) {
      auto t0 = std::chrono::steady_clock::now();
      r = uma::evaluate_structure(engine, file.structure, task, charge, spin);
      if (opt.device.is_cuda()) torch::cuda::synchronize();
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::printf("{\"model\": \"%s\", \"task\": \"%s\", \"charge\": %d, \"spin\": %d, \"precision\": \"%s\",\n",
                engine.info().name.c_str(), task.c_str(), charge, spin, precision.c_str());
    std::printf(" \"natoms\": %zu, \"nedges\": %zu, \"seconds_best\": %.6f,\n", r.forces.size(), r.num_edges, best);
    std::printf(" \"energy\": %.12f,\n \"forces\": [", r.energy);
    for (size_t i = 0; i < r.forces.size(); ++i)
      std::printf("%s[%.10f, %.10f, %.10f]", i ? ", " : "", r.forces[i][0], r.forces[i][1], r.forces[i][2]);
    std::printf("]");
    if (r.has_stress) {
      std::printf(",\n \"stress\": [");
      for (int k = 0; k < 9; ++k) std::printf("%s%.12e", k ? ", " : "", r.stress[k]);
      std::printf("]");
    }
    std::printf("}\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "uma-run: ERROR: %s\n", e.what());
    return 1;
  }
  return 0;
}
