// safetensors (https://github.com/huggingface/safetensors): an 8-byte
// little-endian header length N, N bytes of JSON header
//   {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {"key": "value"}}
// and then the data section, which the offsets index (relative to its start).
//
// The reader memory-maps the file and validates the header as strictly as the
// reference library does; tensors come back as views of the map when their
// bytes are aligned for their dtype, otherwise as copies.
#pragma once
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tformer/io/mapped_file.h"
#include "tformer/io/tensor_source.h"

namespace tformer::io {

class SafetensorsFile : public TensorSource {
 public:
  // Throws tformer::Error naming the file and the offending tensor or field.
  static std::shared_ptr<SafetensorsFile> open(const std::filesystem::path& path);

  const std::filesystem::path& path() const override { return file_->path(); }
  const std::vector<StoredTensor>& tensors() const override { return tensors_; }
  Tensor load(const std::string& name) const override;
  const std::map<std::string, std::string>& metadata() const override { return metadata_; }

 private:
  struct ByteSpan {
    size_t begin, end;  // relative to the data section
  };
  SafetensorsFile() = default;
  void parse_header();

  std::shared_ptr<MappedFile> file_;
  size_t data_start_ = 0;  // 8 + header length
  std::vector<StoredTensor> tensors_;  // sorted by data offset
  std::vector<ByteSpan> spans_;        // parallel to tensors_
  std::unordered_map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

// The header's hard limit, as in the reference library (MAX_HEADER_SIZE).
inline constexpr size_t kMaxSafetensorsHeader = 100'000'000;

// Writes `tensors` (any strides; stored contiguous) and `metadata` as a
// safetensors file that Hugging Face's library reads, atomically replacing
// `path`. As the reference writer does, tensors are laid out by decreasing
// element size, then by name, so every tensor stays aligned for its dtype,
// and the header is padded with spaces to a multiple of 8 bytes.
void save_safetensors(const std::filesystem::path& path,
                      const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace tformer::io
