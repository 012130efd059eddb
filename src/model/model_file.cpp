#include "model/model_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <thread>
#include <utility>

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
      throw Error(who + " has a corrupt header of " + std::to_string(header_len) + " bytes (" + e.what() +
                  "): the header length or the header is damaged; re-create the file with tools/uma-convert");
    }
    if (!header.is_object()) throw Error(who + " has a corrupt header (not a JSON object)");
    if (!header.contains("__metadata__") || !header["__metadata__"].is_object() ||
        !header["__metadata__"].contains("uma"))
      throw Error(who + " has no 'uma' metadata: it is a safetensors file but not a UMA model; "
                  "convert the fairchem checkpoint with tools/uma-convert");
    if (!header["__metadata__"]["uma"].is_string())
      throw Error(who + ": __metadata__.uma must be a JSON text (a string); re-create the file with tools/uma-convert");
    try {
      metadata_ = nlohmann::json::parse(header["__metadata__"]["uma"].get<std::string>());
    } catch (const nlohmann::json::exception& e) {
      throw Error(who + " has corrupt 'uma' metadata (" + e.what() + "); re-create the file with tools/uma-convert");
    }
    if (!metadata_.is_object()) throw Error(who + ": the 'uma' metadata is not a JSON object");
    if (!metadata_.contains("format") || metadata_["format"] != "uma")
      throw Error(who + ": metadata 'format' is not \"uma\"");
    const int64_t version =
        metadata_.contains("format_version") && metadata_["format_version"].is_number_integer()
            ? metadata_["format_version"].get<int64_t>()
            : -1;
    if (version != kFormatVersion)
      throw Error(who + " has format version " + std::to_string(version) + " (metadata 'format_version') but this build reads version " +
                  std::to_string(kFormatVersion) + "; re-convert the checkpoint with this project's tools/uma-convert");

    const size_t data_begin = 8 + header_len;
    const size_t data_size = size_ - data_begin;
    for (auto it = header.begin(); it != header.end(); ++it) {
      if (it.key() == "__metadata__") continue;
      const std::string where = who + " tensor '" + it.key() + "'";
      const auto& rec = it.value();
      if (!rec.is_object() || !rec.contains("dtype") || !rec.contains("shape") || !rec.contains("data_offsets"))
        throw Error(where + ": header entry lacks dtype/shape/data_offsets; the file is corrupt, re-create it "
                    "with tools/uma-convert");
      StoredTensor t;
      t.name = it.key();
      const char* field = "dtype";
      try {
        t.type = parse_type(rec["dtype"].get<std::string>(), where);
        field = "shape";
        if (!rec["shape"].is_array()) throw Error(where + ": 'shape' must be an array of dimensions");
        for (const auto& s : rec["shape"]) {
          // Integers only: nlohmann converts a float such as 1e49 to an integer type without a range check (UB).
          if (!s.is_number_integer()) throw Error(where + ": 'shape' must hold integer dimensions");
          const int64_t dim = s.get<int64_t>();
          if (dim < 0 || dim > (int64_t(1) << 40)) throw Error(where + ": dimension " + std::to_string(dim) + " in 'shape' is impossible");
          t.shape.push_back(dim);
        }
        field = "data_offsets";
        const auto& off = rec["data_offsets"];
        if (!off.is_array() || off.size() != 2) throw Error(where + ": data_offsets must be [begin, end]");
        if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned())  // as for 'shape': no floats
          throw Error(where + ": data_offsets must be two non-negative integers");
        const uint64_t b = off[0].get<uint64_t>(), e = off[1].get<uint64_t>();
        if (b > e || e > data_size)
          throw Error(where + ": data [" + std::to_string(b) + ", " + std::to_string(e) +
                      ") lies outside the file's data section of " + std::to_string(data_size) +
                      " bytes: the file is truncated or corrupt (or its header length is wrong); re-create it with tools/uma-convert");
        t.nbytes = static_cast<size_t>(e - b);
        t.data = bytes + data_begin + b;
      } catch (const nlohmann::json::exception& e) {
        throw Error(where + ": header field '" + field + "' is malformed (" + e.what() +
                    "); the file is corrupt, re-create it with tools/uma-convert");
      }
      if (static_cast<uint64_t>(t.numel()) * stored_type_size(t.type) != t.nbytes)
        throw Error(where + ": " + std::to_string(t.nbytes) + " bytes do not match its shape and dtype");
      tensors_.emplace(t.name, std::move(t));
    }
    check_layout(who, bytes + data_begin, data_size);
    // The provenance hash of the whole file and the integrity hash of the data section are two passes
    // of ~150 ms per 22 MB each (~7 s per GB): run them side by side.
    std::string whole;
    std::thread provenance_hash([&] { whole = sha256_hex(bytes, size_); });
    try {
      verify_checksum(who, bytes + data_begin, data_size);
      check_finite(who);
    } catch (...) {
      provenance_hash.join();
      throw;
    }
    provenance_hash.join();
    sha256_ = whole;
  } catch (...) {
    ::munmap(map_, size_);
    map_ = nullptr;
    throw;
  }
}

// The tensors must tile the data section exactly, in offset order, with no gap, overlap or trailing
// bytes (safetensors writes them so). A header length off by a few bytes, a hand-edited offset or a
// truncated or padded file breaks this even where every single tensor looks in range.
void ModelFile::check_layout(const std::string& who, const unsigned char* data, size_t data_size) const {
  std::vector<std::pair<size_t, const StoredTensor*>> order;
  for (const auto& kv : tensors_) order.push_back({size_t(kv.second.data - data), &kv.second});
  std::sort(order.begin(), order.end(), [](const auto& x, const auto& y) {
    return x.first != y.first ? x.first < y.first : x.second->nbytes < y.second->nbytes;
  });
  size_t expect = 0;
  std::string previous = "the start of the data section";
  for (const auto& [begin, t] : order) {
    if (begin != expect)
      throw Error(who + ": tensor '" + t->name + "' starts at data byte " + std::to_string(begin) + " but " +
                  previous + " ends at byte " + std::to_string(expect) + " (" +
                  (begin > expect ? "a gap" : "an overlap") +
                  "): the header length or data_offsets are wrong, the file is corrupt; re-create it with "
                  "tools/uma-convert");
    expect = begin + t->nbytes;
    previous = "tensor '" + t->name + "'";
  }
  if (expect != data_size)
    throw Error(who + ": the tensors cover " + std::to_string(expect) + " bytes but the data section after the " +
                "header has " + std::to_string(data_size) +
                ": the header length is wrong or the file was truncated or padded; re-create it with tools/uma-convert");
}

// The converter records the SHA-256 of the whole data section (every tensor byte, in file order) in
// the metadata as tensor_data_sha256. Files of older converters lack it: accepted with a note.
void ModelFile::verify_checksum(const std::string& who, const unsigned char* data, size_t data_size) {
  if (!metadata_.contains("tensor_data_sha256")) {
    integrity_ = "tensor data not verified (no tensor_data_sha256: file of an older converter; re-convert to add it)";
    return;
  }
  const auto& rec = metadata_["tensor_data_sha256"];
  if (!rec.is_string() || rec.get<std::string>().size() != 64)
    throw Error(who + ": metadata 'tensor_data_sha256' must be a 64-digit hex string; the file is corrupt, "
                "re-create it with tools/uma-convert");
  const std::string want = rec.get<std::string>();
  const std::string got = sha256_hex(data, data_size);
  if (got != want)
    throw Error(who + ": its tensor data (" + std::to_string(data_size) + " bytes) have SHA-256 " + got +
                " but the converter recorded " + want +
                " (tensor_data_sha256): the file is corrupt or was modified; download or convert it again");
  integrity_ = "tensor data sha256 verified";
}

namespace {
// Index of the first NaN/Inf of n stored values (all exponent bits set), or n.
template <typename Bits>
size_t first_non_finite(const unsigned char* p, size_t n, Bits exponent_mask) {
  for (size_t i = 0; i < n; ++i) {
    Bits v;
    std::memcpy(&v, p + i * sizeof(Bits), sizeof(Bits));  // the mapping may be unaligned
    if ((v & exponent_mask) == exponent_mask) return i;
  }
  return n;
}
}  // namespace

// A NaN or Inf in any weight poisons results silently (one NaN in a norm gain keeps the energy finite
// while every force is NaN), so every stored value is checked once at load.
void ModelFile::check_finite(const std::string& who) const {
  for (const auto& [name, t] : tensors_) {
    const size_t n = size_t(t.numel());
    size_t bad = n;
    switch (t.type) {
      case StoredType::f16: bad = first_non_finite<uint16_t>(t.data, n, 0x7c00u); break;
      case StoredType::bf16: bad = first_non_finite<uint16_t>(t.data, n, 0x7f80u); break;
      case StoredType::f32: bad = first_non_finite<uint32_t>(t.data, n, 0x7f800000u); break;
      case StoredType::f64: bad = first_non_finite<uint64_t>(t.data, n, 0x7ff0000000000000ull); break;
    }
    if (bad != n)
      throw Error(who + ": tensor '" + name + "' holds a NaN or Inf at flat index " + std::to_string(bad) + " of " +
                  std::to_string(n) + ": the weights are corrupt; re-convert the checkpoint with tools/uma-convert "
                  "(which refuses non-finite weights) or check the checkpoint itself");
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
