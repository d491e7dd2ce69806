#include "tformer/image/exif.h"

#include <cmath>
#include <cstring>
#include <string>

namespace tformer::image {

namespace {

constexpr uint16_t kOrientationTag = 0x0112;

// A TIFF structure's bytes in its byte order; every read is bounds-checked.
class TiffReader {
 public:
  TiffReader(std::span<const uint8_t> bytes, bool big_endian) : bytes_(bytes), big_endian_(big_endian) {}

  bool has(uint64_t offset, uint64_t n) const { return offset <= bytes_.size() && n <= bytes_.size() - offset; }
  // The n-byte unsigned integer at `offset` (has(offset, n) must hold).
  uint64_t uint(uint64_t offset, int n) const {
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) {
      const uint8_t b = bytes_[static_cast<size_t>(offset) + (big_endian_ ? i : n - 1 - i)];
      v = v << 8 | b;
    }
    return v;
  }

 private:
  std::span<const uint8_t> bytes_;
  bool big_endian_;
};

// TIFF field types PIL can load, and the bytes of one value of each; 0 for
// the types it skips.
int type_size(uint64_t type) {
  switch (type) {
    case 1: case 2: case 6: case 7: return 1;  // BYTE, ASCII, SBYTE, UNDEFINED
    case 3: case 8: return 2;                   // SHORT, SSHORT
    case 4: case 9: case 11: case 13: return 4;  // LONG, SLONG, FLOAT, IFD
    case 5: case 10: case 12: case 16: return 8;  // RATIONAL, SRATIONAL, DOUBLE, LONG8
    default: return 0;
  }
}

int64_t to_signed(uint64_t v, int bytes) {
  const int shift = 64 - 8 * bytes;
  return static_cast<int64_t>(v << shift) >> shift;
}

// The first value of a field as a number (NaN for a zero denominator), or
// nullopt for the types whose value PIL gives as bytes or text.
std::optional<double> first_value(const TiffReader& tiff, uint64_t type, uint64_t at) {
  switch (type) {
    case 3: case 4: case 13: case 16: return static_cast<double>(tiff.uint(at, type_size(type)));
    case 6: case 8: case 9: return static_cast<double>(to_signed(tiff.uint(at, type_size(type)), type_size(type)));
    case 11: {
      const auto bits = static_cast<uint32_t>(tiff.uint(at, 4));
      float f;
      std::memcpy(&f, &bits, sizeof f);
      return f;
    }
    case 12: {
      const uint64_t bits = tiff.uint(at, 8);
      double d;
      std::memcpy(&d, &bits, sizeof d);
      return d;
    }
    case 5: case 10: {
      uint64_t num = tiff.uint(at, 4), den = tiff.uint(at + 4, 4);
      if (den == 0) return NAN;
      if (type == 10) return static_cast<double>(to_signed(num, 4)) / static_cast<double>(to_signed(den, 4));
      return static_cast<double>(num) / static_cast<double>(den);
    }
    default: return std::nullopt;
  }
}

// exif_transpose acts on 2-8 (a value equal to one of them, as Python's
// dict lookup compares 6.0 or Fraction(12, 2) with 6); all else is 1.
int orientation_of(std::optional<double> value) {
  if (!value) return 1;
  for (int o = 2; o <= 8; ++o)
    if (*value == o) return o;
  return 1;
}

}  // namespace

std::optional<int> exif_orientation(std::span<const uint8_t> bytes) {
  if (bytes.size() < 8) return std::nullopt;
  // PIL's TIFF prefixes, byte order from the first two bytes; BigTIFF's
  // ("II+\0") is among them, but PIL fails reading its header from 8 bytes.
  static const char* const kPrefixes[] = {"MM\0\x2a", "II\x2a\0", "MM\x2a\0", "II\0\x2a", "MM\0\x2b"};
  bool known = false;
  for (const char* prefix : kPrefixes) known = known || std::memcmp(bytes.data(), prefix, 4) == 0;
  if (!known) return std::nullopt;
  const TiffReader tiff(bytes, bytes[0] == 'M');

  const uint64_t ifd = tiff.uint(4, 4);
  if (!tiff.has(ifd, 2)) return std::nullopt;
  const uint64_t entries = tiff.uint(ifd, 2);
  std::optional<int> orientation;
  for (uint64_t i = 0; i < entries; ++i) {
    const uint64_t entry = ifd + 2 + 12 * i;
    if (!tiff.has(entry, 12)) break;  // IFD0 cut short: the tags read so far stand
    const uint64_t tag = tiff.uint(entry, 2), type = tiff.uint(entry + 2, 2), count = tiff.uint(entry + 4, 4);
    const int unit = type_size(type);
    if (unit == 0) continue;
    const uint64_t size = count * static_cast<uint64_t>(unit);  // < 2^35: no overflow
    uint64_t value = entry + 8;
    if (size > 4) {
      value = tiff.uint(entry + 8, 4);
      if (!tiff.has(value, size)) break;  // PIL stops at the first value it cannot read
    }
    if (size == 0 || tag != kOrientationTag) continue;
    orientation = orientation_of(first_value(tiff, type, value));
  }
  return orientation;
}

std::optional<int> exif_block_orientation(std::span<const uint8_t> block) {
  static constexpr uint8_t kHeader[] = {'E', 'x', 'i', 'f', 0, 0};
  if (block.size() >= sizeof kHeader && std::memcmp(block.data(), kHeader, sizeof kHeader) == 0)
    block = block.subspan(sizeof kHeader);
  return exif_orientation(block);
}

std::optional<int> xmp_orientation(std::string_view xmp) {
  static constexpr std::string_view kTag = "tiff:Orientation";
  for (size_t at = xmp.find(kTag); at != std::string_view::npos; at = xmp.find(kTag, at + 1)) {
    std::string_view rest = xmp.substr(at + kTag.size());
    if (rest.starts_with("=\"")) rest.remove_prefix(2);
    else if (rest.starts_with(">")) rest.remove_prefix(1);
    else continue;
    if (!rest.empty() && rest[0] >= '0' && rest[0] <= '9') return orientation_of(rest[0] - '0');
  }
  return std::nullopt;
}

std::optional<std::vector<uint8_t>> raw_profile_exif(std::string_view text) {
  for (int line = 0; line < 3; ++line) {
    const size_t newline = text.find('\n');
    if (newline == std::string_view::npos) return std::vector<uint8_t>();
    text.remove_prefix(newline + 1);
  }
  auto hex = [](char c) {
    const char lower = static_cast<char>(c | 0x20);
    return c >= '0' && c <= '9' ? c - '0' : lower >= 'a' && lower <= 'f' ? lower - 'a' + 10 : -1;
  };
  // Python's bytes.fromhex of the remaining lines joined: the newlines go
  // (a byte's two digits may straddle one), whitespace between bytes (not
  // within one) is skipped.
  std::string joined;
  joined.reserve(text.size());
  for (char c : text)
    if (c != '\n') joined += c;
  std::vector<uint8_t> out;
  out.reserve(joined.size() / 2);
  for (size_t i = 0; i < joined.size();) {
    if (std::string_view(" \t\r\v\f").find(joined[i]) != std::string_view::npos) {
      ++i;
      continue;
    }
    if (i + 1 >= joined.size() || hex(joined[i]) < 0 || hex(joined[i + 1]) < 0) return std::nullopt;
    out.push_back(static_cast<uint8_t>(hex(joined[i]) << 4 | hex(joined[i + 1])));
    i += 2;
  }
  return out;
}

Image apply_orientation(Image image, int orientation) {
  if (orientation < 2 || orientation > 8) return image;
  // Each orientation as PIL's transpose: whether x and y trade places, and
  // whether the source's x (then y) runs backwards. With (a, b) the output
  // pixel (x, y), or (y, x) when transposed, the source pixel is
  // (flip_x ? W-1-a : a, flip_y ? H-1-b : b).
  struct Op {
    bool transpose, flip_x, flip_y;
  };
  static constexpr Op kOps[9] = {{}, {}, {false, true, false}, {false, true, true}, {false, false, true},
                                 {true, false, false}, {true, false, true}, {true, true, true}, {true, true, false}};
  const Op op = kOps[orientation];
  const int64_t w = image.width, h = image.height, c = image.channels;
  Image out(op.transpose ? h : w, op.transpose ? w : h, image.channels);
  // Along an output row the source moves by `step` bytes: along its row, or
  // down (up) its column when transposed.
  const int64_t step = op.transpose ? (op.flip_y ? -image.row_bytes() : image.row_bytes()) : (op.flip_x ? -c : c);
  for (int64_t y = 0; y < out.height; ++y) {
    const int64_t a = op.transpose ? y : 0, b = op.transpose ? 0 : y;
    int64_t at = (op.flip_y ? h - 1 - b : b) * image.row_bytes() + (op.flip_x ? w - 1 - a : a) * c;
    uint8_t* dst = out.row(y);
    for (int64_t x = 0; x < out.width; ++x, at += step, dst += c)
      std::memcpy(dst, image.pixels.data() + at, static_cast<size_t>(c));
  }
  return out;
}

}  // namespace tformer::image
