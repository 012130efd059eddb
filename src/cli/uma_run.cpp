// uma-run: evaluate a structure (fixture JSON: numbers, positions, cell, pbc[, task, charge, spin])
// with a .uma model and print energy, forces and stress as JSON. The engine's command-line demo.
#include <c10/util/Exception.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>

#include "engine/io/structure_eval.h"

namespace {

void usage() {
  std::fprintf(stderr,
               "usage: uma-run MODEL.uma STRUCTURE.json [--task T] [--charge Q] [--spin S]\n"
               "               [--precision fp32|fp64] [--device cpu|cuda|cuda:N] [--repeat N] [--threads N]\n");
}

// The whole argument must be a decimal integer in [lo, hi] ("2.5", "abc", "3x" are refused).
int parse_int(const std::string& option, const std::string& value, long lo, long hi, const std::string& what) {
  errno = 0;
  char* end = nullptr;
  const long v = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || errno == ERANGE)
    throw uma::Error(option + " expects an integer (" + what + "), got '" + value + "'");
  if (v < lo || v > hi)
    throw uma::Error(option + " " + value + " is out of range: " + what + ", from " + std::to_string(lo) + " to " +
                     std::to_string(hi));
  return static_cast<int>(v);
}

// cpu, cuda or cuda:N; anything else would reach torch::Device, whose error is a C++ backtrace.
torch::Device parse_device(const std::string& v) {
  bool ok = v == "cpu" || v == "cuda";
  if (!ok && v.rfind("cuda:", 0) == 0 && v.size() > 5)
    ok = v.find_first_not_of("0123456789", 5) == std::string::npos && v.size() <= 8;
  if (!ok) throw uma::Error("--device must be cpu, cuda or cuda:N (N = GPU index), got '" + v + "'");
  return torch::Device(v);
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
    // More threads than cores only slows torch down, and thousands of them crash the OpenMP runtime.
    const long cores = std::max(1u, std::thread::hardware_concurrency());
    for (int i = 3; i < argc; ++i) {
      std::string a = argv[i];
      if (i + 1 >= argc) {
        usage();
        return 2;
      }
      std::string v = argv[++i];
      if (a == "--task") task = v;
      else if (a == "--charge") charge = parse_int(a, v, -10000, 10000, "the total charge in e"), charge_set = true;
      else if (a == "--spin") spin = parse_int(a, v, -10000, 10000, "the spin multiplicity 2S+1"), spin_set = true;
      else if (a == "--precision") precision = v;
      else if (a == "--device") device = v;
      else if (a == "--repeat") repeat = parse_int(a, v, 1, 1000000, "how many times to evaluate, at least 1");
      else if (a == "--threads")
        threads = parse_int(a, v, 1, cores, "CPU threads, at most the " + std::to_string(cores) + " cores here");
      else {
        usage();
        return 2;
      }
    }
    if (threads > 0) torch::set_num_threads(threads);
    uma::EngineOptions opt;
    if (precision != "fp32" && precision != "fp64") throw uma::Error("--precision must be fp32 or fp64, got '" + precision + "'");
    opt.precision = precision == "fp64" ? uma::Precision::fp64 : uma::Precision::fp32;
    opt.device = parse_device(device);
    auto file = uma::read_structure_json(structure);
    // An empty structure is refused rather than reported as energy 0: uma-run evaluates one given
    // structure, and one without atoms is a broken or mis-exported input, not a system to simulate.
    if (file.structure.numbers.empty())
      throw uma::Error("structure file '" + structure + "' has no atoms (empty 'numbers'); nothing to evaluate");
    uma::Engine engine(model, opt);
    if (task.empty()) task = file.task;
    if (task.empty()) {
      if (engine.info().tasks.size() != 1) throw uma::Error("the model has several tasks; pass --task");
      task = engine.info().tasks[0];
    }
    if (!engine.info().default_charge.count(task)) engine.set_system(task, 0, 0);  // the unknown-task error
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
    // "nan" is not JSON, and a non-finite result is never a usable answer.
    if (!std::isfinite(r.energy)) throw uma::Error("the energy is not finite (" + std::to_string(r.energy) + ")");
    for (size_t i = 0; i < r.forces.size(); ++i)
      for (int k = 0; k < 3; ++k)
        if (!std::isfinite(r.forces[i][k]))
          throw uma::Error("the force on atom " + std::to_string(i) + " is not finite");
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
  } catch (const c10::Error& e) {
    // torch's own errors carry a C++ backtrace that says nothing to a user.
    std::fprintf(stderr, "uma-run: ERROR: %s\n", e.what_without_backtrace());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "uma-run: ERROR: %s\n", e.what());
    return 1;
  }
  return 0;
}
