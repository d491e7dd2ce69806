#include "tformer/io/zip_reader.h"

#include <zlib.h>

#include <algorithm>
#include <limits>

#include "tformer/core/error.h"

namespace tformer::io {

namespace {

constexpr uint32_t kLocalHeaderSig = 0x04034b50;
constexpr uint32_t kCentralHeaderSig = 0x02014b50;
constexpr uint32_t kEndOfCentralDirSig = 0x06054b50;
constexpr uint32_t kZip64EndSig = 0x06064b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr size_t kEndOfCentralDirSize = 22;
constexpr size_t kZip64LocatorSize = 20;
constexpr uint16_t kZip64ExtraId = 0x0001;
// Deflate cannot expand data by more than about 1032:1; a larger declared
// ratio is a lie (or a bomb) and is refused before allocating.
constexpr uint64_t kMaxDeflateRatio = 1032;

// Little-endian reads at absolute offsets, each checked against the file.
class ByteReader {
 public:
  ByteReader(std::span<const uint8_t> bytes, const std::string& file) : bytes_(bytes), file_(file) {}
  uint64_t uint(uint64_t offset, int width, const char* what) const {
    TF_CHECK(offset <= bytes_.size() && static_cast<uint64_t>(width) <= bytes_.size() - offset,
             file_ << ": zip archive truncated: " << what << " at offset " << offset
                   << " is past the end of the file");
    uint64_t v = 0;
    for (int i = width - 1; i >= 0; --i) v = (v << 8) | bytes_[offset + i];
    return v;
  }
  std::string text(uint64_t offset, uint64_t n, const char* what) const {
    TF_CHECK(offset <= bytes_.size() && n <= bytes_.size() - offset,
             file_ << ": zip archive truncated: " << what << " at offset " << offset
                   << " is past the end of the file");
    return std::string(reinterpret_cast<const char*>(bytes_.data() + offset), n);
  }

 private:
  std::span<const uint8_t> bytes_;
  const std::string& file_;
};

}  // namespace

bool looks_like_zip(std::span<const uint8_t> bytes) {
  return bytes.size() >= 4 && bytes[0] == 'P' && bytes[1] == 'K' && bytes[2] == 3 && bytes[3] == 4;
}

ZipReader::ZipReader(std::shared_ptr<MappedFile> file) : file_(std::move(file)) {
  const std::string name = file_->path().string();
  const auto bytes = file_->bytes();
  ByteReader in(bytes, name);
  TF_CHECK(bytes.size() >= kEndOfCentralDirSize, name << ": not a zip archive (too short)");

  // The end-of-central-directory record sits at the end, before a comment of
  // up to 64 KiB: search backwards for its signature.
  uint64_t eocd = 0;
  bool found = false;
  const uint64_t lowest = bytes.size() > kEndOfCentralDirSize + 0xffff
                              ? bytes.size() - kEndOfCentralDirSize - 0xffff
                              : 0;
  for (uint64_t pos = bytes.size() - kEndOfCentralDirSize + 1; pos-- > lowest;) {
    if (in.uint(pos, 4, "end of central directory") == kEndOfCentralDirSig) {
      eocd = pos;
      found = true;
      break;
    }
  }
  TF_CHECK(found, name << ": not a zip archive or truncated: no end-of-central-directory record");

  uint64_t entry_count = in.uint(eocd + 10, 2, "entry count");
  uint64_t dir_size = in.uint(eocd + 12, 4, "central directory size");
  uint64_t dir_offset = in.uint(eocd + 16, 4, "central directory offset");
  const bool zip64 = entry_count == 0xffff || dir_size == 0xffffffff || dir_offset == 0xffffffff;
  if (zip64) {
    TF_CHECK(eocd >= kZip64LocatorSize &&
                 in.uint(eocd - kZip64LocatorSize, 4, "ZIP64 locator") == kZip64LocatorSig,
             name << ": zip archive: ZIP64 end-of-central-directory locator missing");
    uint64_t end64 = in.uint(eocd - kZip64LocatorSize + 8, 8, "ZIP64 record offset");
    TF_CHECK(in.uint(end64, 4, "ZIP64 record") == kZip64EndSig,
             name << ": zip archive: bad ZIP64 end-of-central-directory record");
    entry_count = in.uint(end64 + 32, 8, "ZIP64 entry count");
    dir_size = in.uint(end64 + 40, 8, "ZIP64 central directory size");
    dir_offset = in.uint(end64 + 48, 8, "ZIP64 central directory offset");
  }
  TF_CHECK(dir_offset <= bytes.size() && dir_size <= bytes.size() - dir_offset,
           name << ": zip archive truncated: central directory [" << dir_offset << ", +" << dir_size
                << ") is past the end of the file (" << bytes.size() << " bytes)");
  // Each central record is at least 46 bytes: a larger count is corrupt.
  TF_CHECK(entry_count <= dir_size / 46, name << ": zip archive: " << entry_count
                                              << " entries cannot fit a central directory of "
                                              << dir_size << " bytes");

  uint64_t pos = dir_offset;
  for (uint64_t i = 0; i < entry_count; ++i) {
    TF_CHECK(in.uint(pos, 4, "central directory entry") == kCentralHeaderSig,
             name << ": zip archive: corrupt central directory entry " << i);
    ZipEntry e;
    const uint64_t flags = in.uint(pos + 8, 2, "entry flags");
    e.method = static_cast<uint16_t>(in.uint(pos + 10, 2, "entry method"));
    e.crc32 = static_cast<uint32_t>(in.uint(pos + 16, 4, "entry CRC"));
    e.compressed_size = in.uint(pos + 20, 4, "entry size");
    e.uncompressed_size = in.uint(pos + 24, 4, "entry size");
    const uint64_t name_len = in.uint(pos + 28, 2, "entry name length");
    const uint64_t extra_len = in.uint(pos + 30, 2, "entry extra length");
    const uint64_t comment_len = in.uint(pos + 32, 2, "entry comment length");
    e.local_header_offset = in.uint(pos + 42, 4, "entry offset");
    e.name = in.text(pos + 46, name_len, "entry name");
    TF_CHECK(!(flags & 1), name << ": zip entry '" << e.name << "' is encrypted");

    // ZIP64 extra field: 8-byte values for each 32-bit field saturated at
    // 0xffffffff, in the order uncompressed, compressed, offset.
    uint64_t extra = pos + 46 + name_len;
    const uint64_t extra_end = extra + extra_len;
    while (extra + 4 <= extra_end) {
      const uint64_t id = in.uint(extra, 2, "extra field");
      const uint64_t size = in.uint(extra + 2, 2, "extra field");
      uint64_t field = extra + 4;
      if (id == kZip64ExtraId) {
        for (uint64_t* value : {&e.uncompressed_size, &e.compressed_size, &e.local_header_offset}) {
          if (*value != 0xffffffff) continue;
          TF_CHECK(field + 8 <= extra + 4 + size,
                   name << ": zip entry '" << e.name << "': short ZIP64 extra field");
          *value = in.uint(field, 8, "ZIP64 extra field");
          field += 8;
        }
      }
      extra += 4 + size;
    }
    by_name_.emplace(e.name, entries_.size());
    entries_.push_back(std::move(e));
    pos = extra_end + comment_len;
  }
}

const ZipEntry* ZipReader::find(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? nullptr : &entries_[it->second];
}

uint64_t ZipReader::data_offset(const ZipEntry& e) const {
  const std::string name = file_->path().string();
  ByteReader in(file_->bytes(), name);
  const uint64_t local = e.local_header_offset;
  TF_CHECK(in.uint(local, 4, "local file header") == kLocalHeaderSig,
           name << ": zip entry '" << e.name << "': bad local header");
  // The local header's own name/extra lengths may differ from the central ones.
  const uint64_t start = local + 30 + in.uint(local + 26, 2, "local header") +
                         in.uint(local + 28, 2, "local header");
  const uint64_t size = file_->size();
  TF_CHECK(start <= size && e.compressed_size <= size - start,
           name << ": zip entry '" << e.name << "': data [" << start << ", +" << e.compressed_size
                << ") is past the end of the file (" << size << " bytes): truncated file?");
  return start;
}

std::span<const uint8_t> ZipReader::stored_bytes(const ZipEntry& e) const {
  TF_CHECK(e.method == 0 && e.compressed_size == e.uncompressed_size,
           file_->path().string() << ": zip entry '" << e.name << "' is compressed, not stored");
  return file_->bytes().subspan(data_offset(e), e.compressed_size);
}

std::vector<uint8_t> ZipReader::read(const ZipEntry& e) const {
  const std::string name = file_->path().string();
  std::vector<uint8_t> out;
  if (e.method == 0) {
    auto bytes = stored_bytes(e);
    out.assign(bytes.begin(), bytes.end());
  } else {
    TF_CHECK(e.method == 8, name << ": zip entry '" << e.name << "' uses compression method "
                                 << e.method << " (only stored and deflate are supported)");
    const uint64_t start = data_offset(e);
    TF_CHECK(e.uncompressed_size <= e.compressed_size * kMaxDeflateRatio + 1024,
             name << ": zip entry '" << e.name << "' claims an impossible compression ratio");
    out.resize(e.uncompressed_size);
    // torch stores tensor data uncompressed; deflate only meets small entries,
    // so one zlib call (whose counters are 32-bit) is enough.
    TF_CHECK(e.compressed_size < UINT32_MAX && e.uncompressed_size < UINT32_MAX,
             name << ": zip entry '" << e.name << "' is a deflated entry over 4 GiB (unsupported)");
    z_stream zs{};
    TF_CHECK(inflateInit2(&zs, -MAX_WBITS) == Z_OK, name << ": zlib initialisation failed");
    zs.next_in = const_cast<Bytef*>(file_->data() + start);
    zs.avail_in = static_cast<uInt>(e.compressed_size);
    uint8_t no_output;  // zlib refuses a null next_out, even for an empty entry
    zs.next_out = out.empty() ? &no_output : out.data();
    zs.avail_out = static_cast<uInt>(out.size());
    const int rc = inflate(&zs, Z_FINISH);
    const uint64_t produced = zs.total_out;
    inflateEnd(&zs);
    TF_CHECK(rc == Z_STREAM_END && produced == e.uncompressed_size,
             name << ": zip entry '" << e.name << "': corrupt deflate data");
  }
  uLong crc = crc32(0L, Z_NULL, 0);
  for (uint64_t done = 0; done < out.size();) {
    const uInt n = static_cast<uInt>(std::min<uint64_t>(out.size() - done, 1u << 30));
    crc = crc32(crc, out.data() + done, n);
    done += n;
  }
  TF_CHECK(crc == e.crc32, name << ": zip entry '" << e.name << "': CRC mismatch (corrupt file)");
  return out;
}

}  // namespace tformer::io
