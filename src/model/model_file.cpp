#include "model/model_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "model/errors.h"
#include "model/sha256.h"

namespace uma {

size_t stored_type_size(StoredType type) {
  switch (type) {
    case StoredType::f16:
    case StoredType::bf16: return 2;
    case StoredType::f32: return 4;
    case StoredType::f64: return 8;
  }
  return 0;
}

const char* stored_type_name(StoredType type) {
  switch (type) {
    case StoredType::f16: return "F16";
    case StoredType::bf16: return "BF16";
    case StoredType::f32: return "F32";
    case StoredType::f64: return "F64";
  }
  return "?";
}

int64_t StoredTensor::numel() const {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

namespace {

StoredType parse_type(const std::string& s, const std::string& where) {
  if (s == "F16") return StoredType::f16;
  if (s == "BF16") return StoredType::bf16;
  if (s == "F32") return StoredType::f32;
  if (s == "F64") return StoredType::f64;
  throw Error(where + ": unsupported dtype '" + s + "' (expected F16, BF16, F32 or F64)");
}

// Reasonable bound on the JSON header; real files have a few hundred kB at most.
constexpr uint64_t kMaxHeaderBytes = 64ull << 20;

}  // namespace

ModelFile::ModelFile(const std::string& path) : path_(path) {
  const std::string who = "model file '" + path + "'";
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0)
    throw Error("cannot open " + who + ": " + std::strerror(errno) +
                "; check the path given to pair_coeff or the engine");
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(who + " is not a regular file");
  }
  size_ = static_cast<size_t>(st.st_size);
  if (size_ < 8) {
    ::close(fd);
    throw Error(who + " is truncated (" + std::to_string(size_) +
                " bytes, a .uma file starts with an 8-byte header length); re-create it with tools/uma-convert");
  }
  map_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map_ == MAP_FAILED) {
    map_ = nullptr;
    throw Error("cannot memory-map " + who + ": " + std::strerror(errno));
  }
  try {
    const auto* bytes = static_cast<const unsigned char*>(map_);
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[i];  // little-endian
    if (header_len > kMaxHeaderBytes || 8 + header_len > size_)
      throw Error(who + " is truncated or not a .uma file (header length " +
                  std::to_string(header_len) + " exceeds file size " + std::to_string(size_) +
                  "); re-create it with tools/uma-convert");
    nlohmann::json header;
    try {
      header = nlohmann::json::parse(bytes + 8, bytes + 8 + header_len);
    } catch (const nlohmann::json::exception& e) {
      throw Error(who + " has a corrupt header (" + e.what() + "); re-create it with tools/uma-convert");
    }
    if (!header.is_object()) throw Error(who + " has a corrupt header (not a JSON object)");
    if (!header.contains("__metadata__") || !header["__metadata__"].contains("uma"))
      throw Error(who + " has no 'uma' metadata: it is a safetensors file but not a UMA model; "
                  "convert the fairchem checkpoint with tools/uma-convert");
    try {
      metadata_ = nlohmann::json::parse(header["__metadata__"]["uma"].get<std::string>());
    } catch (const nlohmann::json::exception& e) {
      throw Error(who + " has corrupt 'uma' metadata (" + e.what() + ")");
    }
    if (metadata_.value("format", std::string()) != "uma")
      throw Error(who + ": metadata 'format' is not \"uma\"");
    const int version = metadata_.value("format_version", -1);
    if (version != kFormatVersion)
      throw Error(who + " has format version " + std::to_string(version) + " but this build reads version " +
                  std::to_string(kFormatVersion) + "; re-convert the checkpoint with this project's tools/uma-convert");

    const size_t data_begin = 8 + header_len;
    const size_t data_size = size_ - data_begin;
    for (auto it = header.begin(); it != header.end(); ++it) {
      if (it.key() == "__metadata__") continue;
      const std::string where = who + " tensor '" + it.key() + "'";
      const auto& rec = it.value();
      if (!rec.is_object() || !rec.contains("dtype") || !rec.contains("shape") || !rec.contains("data_offsets"))
        throw Error(where + ": header entry lacks dtype/shape/data_offsets");
      StoredTensor t;
      t.name = it.key();
      t.type = parse_type(rec["dtype"].get<std::string>(), where);
      for (const auto& s : rec["shape"]) {
        const int64_t dim = s.get<int64_t>();
        if (dim < 0) throw Error(where + ": negative dimension");
        t.shape.push_back(dim);
      }
      const auto& off = rec["data_offsets"];
      if (!off.is_array() || off.size() != 2) throw Error(where + ": data_offsets must be [begin, end]");
      const uint64_t b = off[0].get<uint64_t>(), e = off[1].get<uint64_t>();
      if (b > e || e > data_size)
        throw Error(where + ": data [" + std::to_string(b) + ", " + std::to_string(e) +
                    ") lies outside the file's data section of " + std::to_string(data_size) +
                    " bytes: the file is truncated or corrupt; re-create it with tools/uma-convert");
      t.nbytes = static_cast<size_t>(e - b);
      if (static_cast<uint64_t>(t.numel()) * stored_type_size(t.type) != t.nbytes)
        throw Error(where + ": " + std::to_string(t.nbytes) + " bytes do not match its shape and dtype");
      t.data = bytes + data_begin + b;
      tensors_.emplace(t.name, std::move(t));
    }
    sha256_ = sha256_hex(bytes, size_);
  } catch (...) {
    ::munmap(map_, size_);
    map_ = nullptr;
    throw;
  }
}

ModelFile::~ModelFile() {
  if (map_) ::munmap(map_, size_);
}

const StoredTensor& ModelFile::tensor(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end())
    throw Error("model file '" + path_ + "' has no tensor '" + name +
                "'; the file is incomplete or from an unsupported model family");
  return it->second;
}

std::vector<std::string> ModelFile::names() const {
  std::vector<std::string> out;
  for (const auto& kv : tensors_) out.push_back(kv.first);
  return out;
}

}  // namespace uma
