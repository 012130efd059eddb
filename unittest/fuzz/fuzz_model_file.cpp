// libFuzzer target: the .uma reader (src/model) and the metadata parser (engine/params/model_config, torch-free)
// on arbitrary bytes. The contract under test: any input either loads or throws uma::Error (one clear
// message); anything else — a crash, a sanitizer report, another exception type escaping, a hang — is a
// finding. Built with clang only (tools/run-fuzzers.sh), never with LibTorch.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "engine/params/model_config.h"
#include "model/errors.h"
#include "model/model_file.h"

namespace {
// The reader maps a path, so each input goes through one scratch file per process.
std::string scratch_path() { return "/tmp/uma-fuzz-model-" + std::to_string(getpid()) + ".uma"; }
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = scratch_path();
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  if (size) std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    uma::ModelFile file(path);
    uint64_t sum = 0;  // touch every byte handed out: out-of-range views show up under ASan
    for (const auto& name : file.names()) {
      const uma::StoredTensor& t = file.tensor(name);
      for (size_t k = 0; k < t.nbytes; ++k) sum += t.data[k];
      (void)t.numel();
    }
    uma::ModelConfig config = uma::ModelConfig::from_file(file);
    (void)config;
    (void)sum;
  } catch (const uma::Error&) {
    // the expected outcome for a malformed file
  }
  return 0;
}
