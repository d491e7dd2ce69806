// A read-only zip archive over a memory-mapped file, enough for torch.save
// files: the central directory (with ZIP64 extensions, which torch writes for
// large checkpoints), stored entries as views of the map, deflated entries
// inflated with zlib.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tformer/io/mapped_file.h"

namespace tformer::io {

struct ZipEntry {
  std::string name;
  uint16_t method = 0;  // 0 stored, 8 deflate
  uint32_t crc32 = 0;
  uint64_t compressed_size = 0;
  uint64_t uncompressed_size = 0;
  uint64_t local_header_offset = 0;
};

class ZipReader {
 public:
  // Reads the central directory. Throws tformer::Error naming the file.
  explicit ZipReader(std::shared_ptr<MappedFile> file);

  const std::shared_ptr<MappedFile>& file() const { return file_; }
  const std::vector<ZipEntry>& entries() const { return entries_; }
  const ZipEntry* find(std::string_view name) const;

  // An uncompressed entry's bytes, in place in the map (no CRC check: that
  // would read every page of a multi-gigabyte checkpoint up front).
  std::span<const uint8_t> stored_bytes(const ZipEntry& entry) const;
  // The entry's bytes, inflated if needed, CRC-checked.
  std::vector<uint8_t> read(const ZipEntry& entry) const;

 private:
  // Where the entry's data starts in the file, bounds-checked.
  uint64_t data_offset(const ZipEntry& entry) const;

  std::shared_ptr<MappedFile> file_;
  std::vector<ZipEntry> entries_;
  std::unordered_map<std::string, size_t> by_name_;  // first entry of each name
};

// Whether the file starts like a zip archive (a local file header).
bool looks_like_zip(std::span<const uint8_t> bytes);

}  // namespace tformer::io
