// A whole file mapped into memory, read-only on disk. The mapping is private
// and writable (MAP_PRIVATE, PROT_READ|PROT_WRITE): tensors borrowed from it
// may be modified in place (copy-on-write pages), and the file never changes.
// Hold it through a shared_ptr: it is the `owner` of every Tensor::borrow view.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>

namespace tformer::io {

class MappedFile {
 public:
  // Throws tformer::Error naming the file when it cannot be opened or mapped.
  static std::shared_ptr<MappedFile> open(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::filesystem::path& path() const { return path_; }
  size_t size() const { return size_; }
  const uint8_t* data() const { return data_; }
  // Writable copy-on-write bytes, for tensors handed out as views.
  uint8_t* mutable_data() const { return data_; }
  std::span<const uint8_t> bytes() const { return {data_, size_}; }

 private:
  MappedFile() = default;
  std::filesystem::path path_;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace tformer::io
