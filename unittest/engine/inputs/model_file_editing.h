// Writes .uma files for the loader tests: a copy of the bundled model with one defect.
#ifndef UMA_TEST_MODEL_FILE_EDITING_H
#define UMA_TEST_MODEL_FILE_EDITING_H

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "model/sha256.h"

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

// The metadata object (__metadata__.uma) of a raw model, and writing it back.
inline nlohmann::json metadata(const RawModel& m) {
  return nlohmann::json::parse(m.header.at("__metadata__").at("uma").get<std::string>());
}
inline void set_metadata(RawModel& m, const nlohmann::json& meta) { m.header["__metadata__"]["uma"] = meta.dump(); }

// After editing the tensor bytes: record their new SHA-256 as the converter would (tensor_data_sha256).
inline void refresh_checksum(RawModel& m) {
  auto meta = metadata(m);
  meta["tensor_data_sha256"] =
      uma::sha256_hex(reinterpret_cast<const unsigned char*>(m.data.data()), m.data.size());
  set_metadata(m, meta);
}

// Removes a tensor as a converter that never wrote it would: its bytes go, later offsets move down,
// and the checksum is refreshed (so the file is well formed, only incomplete).
inline void remove_tensor(RawModel& m, const std::string& name) {
  const uint64_t b = m.header.at(name).at("data_offsets")[0], e = m.header.at(name).at("data_offsets")[1];
  m.header.erase(name);
  m.data.erase(b, e - b);
  for (auto it = m.header.begin(); it != m.header.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    auto& off = it.value()["data_offsets"];
    if (off[0].get<uint64_t>() >= e) off = {off[0].get<uint64_t>() - (e - b), off[1].get<uint64_t>() - (e - b)};
  }
  refresh_checksum(m);
}

// The bytes of one tensor inside m.data.
inline char* tensor_bytes(RawModel& m, const std::string& name) {
  return &m.data[m.header.at(name).at("data_offsets")[0].get<size_t>()];
}

inline std::string temp_path(const std::string& tag) {
  return testing::TempDir() + "/uma_test_" + tag + ".uma";
}

// A copy of `model` with its metadata changed by `edit`, written to temp_path(tag); returns the path.
template <typename Edit>
std::string with_metadata(const std::string& model, const std::string& tag, Edit edit) {
  auto raw = read_raw(model);
  auto meta = metadata(raw);
  edit(meta);
  set_metadata(raw, meta);
  auto p = temp_path(tag);
  write_raw(p, raw);
  return p;
}

}  // namespace uma_test

#endif
