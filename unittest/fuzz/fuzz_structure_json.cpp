// libFuzzer target: the structure JSON reader (engine/io/structure_json, the input of uma-run and the tests)
// and the radius-graph builder it feeds, on arbitrary bytes. Contract: any input either gives a
// structure whose graph builds, or throws uma::Error; a crash, sanitizer report, other exception or
// hang is a finding. Torch-free sources, clang only (tools/run-fuzzers.sh).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "engine/io/radius_graph.h"
#include "engine/io/structure_json.h"
#include "model/errors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = "/tmp/uma-fuzz-structure-" + std::to_string(getpid()) + ".json";
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  if (size) std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    uma::StructureFile s = uma::read_structure_json(path);
    // The model's cutoff and cap (UMA-S: 6 Å, 300): what uma-run builds for any structure it accepts.
    uma::RadiusGraph g = uma::build_radius_graph(s.structure, 6.0, 300);
    (void)g;
  } catch (const uma::Error&) {
    // the expected outcome for a malformed structure
  }
  return 0;
}
