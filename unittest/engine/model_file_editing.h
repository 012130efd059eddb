// Writes .uma files for the loader tests: a copy of the bundled model with one defect.
#ifndef UMA_TEST_MODEL_FILE_EDITING_H
#define UMA_TEST_MODEL_FILE_EDITING_H

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

namespace uma_test {

struct RawModel {
  nlohmann::json header;  // safetensors header incl. __metadata__
  std::string data;       // tensor bytes
};

inline RawModel read_raw(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
  RawModel m;
  m.header = nlohmann::json::parse(bytes.substr(8, n));
  m.data = bytes.substr(8 + n);
  return m;
}

inline void write_raw(const std::string& path, const RawModel& m, size_t truncate_data_to = std::string::npos) {
  const std::string h = m.header.dump();
  std::ofstream out(path, std::ios::binary);
  uint64_t n = h.size();
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>((n >> (8 * i)) & 0xff));
  out << h;
  out << m.data.substr(0, truncate_data_to);
}

inline std::string temp_path(const std::string& tag) {
  return testing::TempDir() + "/uma_test_" + tag + ".uma";
}

}  // namespace uma_test

#endif
