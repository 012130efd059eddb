// Environment settings for one scope of a GPU engine test (the engine reads its switches, UMA_TF32_PREROUND,
// UMA_FUSED_GATE_CONV2, UMA_FUSED_RADIAL_GATHER, at construction): set on construction, every one unset again on
// leaving the scope, also by an exception or a failed ASSERT.
#ifndef UMA_TEST_SCOPED_ENV_H
#define UMA_TEST_SCOPED_ENV_H

#include <cstdlib>
#include <utility>
#include <vector>

namespace uma_test {

using EnvSettings = std::vector<std::pair<const char*, const char*>>;  // name, value (nullptr: unset)

class ScopedEnv {
 public:
  explicit ScopedEnv(const EnvSettings& env) : env_(env) {
    for (const auto& [name, value] : env_)
      if (value) setenv(name, value, 1); else unsetenv(name);
  }
  ~ScopedEnv() {
    for (const auto& [name, value] : env_) unsetenv(name);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  EnvSettings env_;
};

}  // namespace uma_test

#endif  // UMA_TEST_SCOPED_ENV_H
