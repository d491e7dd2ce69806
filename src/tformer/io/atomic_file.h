// Crash-safe file replacement: write a temporary file in the destination's
// directory, fsync it, rename it over the destination, fsync the directory.
// Until commit() succeeds the destination keeps its previous contents; a writer
// that throws (or a process that dies) leaves the old file as it was.
#pragma once
#include <cstddef>
#include <filesystem>
#include <string_view>

namespace tformer::io {

class AtomicFile {
 public:
  // Creates the temporary file next to `path`. Throws tformer::Error.
  explicit AtomicFile(const std::filesystem::path& path);
  // Removes the temporary file unless commit() succeeded.
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t n);
  void write(std::string_view s) { write(s.data(), s.size()); }
  // Makes the new contents durable and visible under `path`.
  void commit();

  const std::filesystem::path& path() const { return path_; }
  const std::filesystem::path& temp_path() const { return temp_path_; }

 private:
  void discard() noexcept;
  std::filesystem::path path_;
  std::filesystem::path temp_path_;
  int fd_ = -1;
  bool committed_ = false;
};

// Replaces `path` with `contents` atomically.
void write_file_atomically(const std::filesystem::path& path, std::string_view contents);

}  // namespace tformer::io
