// A torch.save zip archive built around a given data.pkl: the input format of
// the fuzz_pytorch_pickle target and of ../shared/fuzz-crashes/fuzz_pytorch_pickle/,
// shared with the regression tests (tests/test_fuzz_regressions.cpp).
//
//   byte 0      flags: 1 = storages deflated (else stored, as torch writes
//               them), 2 = data.pkl deflated, 4 = archive/byteorder "little"
//   byte 1      number of storages, archive/data/0 ... (at most 16)
//   bytes 2-5   bytes in each storage, little-endian (at most 4096)
//   rest        archive/data.pkl
//
// The archive is a valid zip with correct CRC-32s, so mutations reach the
// unpickler and the tensor checks instead of stopping at the zip reader.
#pragma once
#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace tformer_fuzz {

// Writes a zip archive of stored or deflated entries, as Python's zipfile does.
class ZipBuilder {
 public:
  void add(const std::string& name, const std::vector<uint8_t>& bytes, bool deflate) {
    const uint32_t crc = static_cast<uint32_t>(crc32(0, bytes.data(), static_cast<uInt>(bytes.size())));
    const std::vector<uint8_t> data = deflate ? deflated(bytes) : bytes;
    const uint16_t method = deflate ? 8 : 0;
    const uint32_t offset = static_cast<uint32_t>(out_.size());
    // Local file header.
    u32(out_, 0x04034b50), u16(out_, 20), u16(out_, 0), u16(out_, method), u32(out_, 0);
    u32(out_, crc), u32(out_, data.size()), u32(out_, bytes.size());
    u16(out_, name.size()), u16(out_, 0);
    out_.insert(out_.end(), name.begin(), name.end());
    out_.insert(out_.end(), data.begin(), data.end());
    // Its central directory record.
    u32(central_, 0x02014b50), u16(central_, 20), u16(central_, 20), u16(central_, 0);
    u16(central_, method), u32(central_, 0), u32(central_, crc), u32(central_, data.size());
    u32(central_, bytes.size()), u16(central_, name.size()), u16(central_, 0), u16(central_, 0);
    u16(central_, 0), u16(central_, 0), u32(central_, 0), u32(central_, offset);
    central_.insert(central_.end(), name.begin(), name.end());
    ++count_;
  }
  std::vector<uint8_t> finish() const {
    std::vector<uint8_t> zip = out_;
    const uint32_t dir_offset = static_cast<uint32_t>(zip.size());
    zip.insert(zip.end(), central_.begin(), central_.end());
    u32(zip, 0x06054b50), u16(zip, 0), u16(zip, 0), u16(zip, count_), u16(zip, count_);
    u32(zip, central_.size()), u32(zip, dir_offset), u16(zip, 0);
    return zip;
  }

 private:
  static void u16(std::vector<uint8_t>& v, size_t x) { v.push_back(x & 0xff), v.push_back((x >> 8) & 0xff); }
  static void u32(std::vector<uint8_t>& v, size_t x) { u16(v, x & 0xffff), u16(v, (x >> 16) & 0xffff); }
  static std::vector<uint8_t> deflated(const std::vector<uint8_t>& bytes) {
    z_stream zs{};
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      throw std::runtime_error("deflateInit2 failed");
    std::vector<uint8_t> out(deflateBound(&zs, bytes.size()));
    zs.next_in = const_cast<Bytef*>(bytes.data());
    zs.avail_in = static_cast<uInt>(bytes.size());
    zs.next_out = out.data();
    zs.avail_out = static_cast<uInt>(out.size());
    const int rc = deflate(&zs, Z_FINISH);
    deflateEnd(&zs);
    if (rc != Z_STREAM_END) throw std::runtime_error("deflate failed");
    out.resize(zs.total_out);
    return out;
  }

  std::vector<uint8_t> out_, central_;
  uint16_t count_ = 0;
};

inline constexpr size_t kTorchZipPrefix = 6;

// The archive for one input of the format above (at least kTorchZipPrefix bytes).
inline std::vector<uint8_t> torch_zip(const uint8_t* data, size_t size) {
  constexpr size_t kMaxStorages = 16, kMaxStorageBytes = 4096;
  const uint8_t flags = data[0];
  const size_t storages = std::min<size_t>(data[1], kMaxStorages);
  const size_t storage_bytes = std::min<size_t>(
      data[2] | data[3] << 8 | data[4] << 16 | static_cast<size_t>(data[5]) << 24, kMaxStorageBytes);
  ZipBuilder zip;
  zip.add("archive/data.pkl", {data + kTorchZipPrefix, data + size}, flags & 2);
  if (flags & 4) zip.add("archive/byteorder", {'l', 'i', 't', 't', 'l', 'e'}, false);
  for (size_t s = 0; s < storages; ++s) {
    std::vector<uint8_t> bytes(storage_bytes);
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 37 + s);
    zip.add("archive/data/" + std::to_string(s), bytes, flags & 1);
  }
  zip.add("archive/version", {'3', '\n'}, false);
  return zip.finish();
}

}  // namespace tformer_fuzz
