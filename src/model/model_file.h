// uma::ModelFile — reader of the .uma container (docs/uma-file-format.md): a safetensors file whose
// __metadata__ carries the model configuration. Memory-mapped; every offset, shape and dtype is checked
// against the file size before a byte is handed out. Knows nothing about torch or the model's maths.
#ifndef UMA_MODEL_MODEL_FILE_H
#define UMA_MODEL_MODEL_FILE_H

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace uma {

enum class StoredType { f16, bf16, f32, f64 };

size_t stored_type_size(StoredType type);
const char* stored_type_name(StoredType type);

// One tensor as stored: little-endian, row-major, `data` points into the mapping.
struct StoredTensor {
  std::string name;
  StoredType type = StoredType::f32;
  std::vector<int64_t> shape;
  const unsigned char* data = nullptr;
  size_t nbytes = 0;
  int64_t numel() const;
};

class ModelFile {
 public:
  static constexpr int kFormatVersion = 1;

  // Opens and validates the container (throws uma::Error naming the file and the defect).
  explicit ModelFile(const std::string& path);
  ~ModelFile();
  ModelFile(const ModelFile&) = delete;
  ModelFile& operator=(const ModelFile&) = delete;

  const std::string& path() const { return path_; }
  const nlohmann::json& metadata() const { return metadata_; }  // the parsed "uma" metadata object
  const std::string& sha256() const { return sha256_; }         // of the whole file, hex
  // How the tensor bytes were verified: "tensor data sha256 verified" (against the metadata's
  // tensor_data_sha256), or a one-line note that the file (of an older converter) has no checksum.
  const std::string& integrity() const { return integrity_; }
  bool has(const std::string& name) const { return tensors_.count(name) != 0; }
  // Throws uma::Error "model file X has no tensor 'name'" if absent.
  const StoredTensor& tensor(const std::string& name) const;
  std::vector<std::string> names() const;

 private:
  void check_layout(const std::string& who, const unsigned char* data, size_t data_size) const;
  void verify_checksum(const std::string& who, const unsigned char* data, size_t data_size);
  void check_finite(const std::string& who) const;

  std::string path_;
  void* map_ = nullptr;
  size_t size_ = 0;
  nlohmann::json metadata_;
  std::string sha256_;
  std::string integrity_;
  std::map<std::string, StoredTensor> tensors_;
};

}  // namespace uma

#endif
