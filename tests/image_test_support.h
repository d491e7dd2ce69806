// The synthetic images of tools/make_resize_fixtures.py, made again here from the same formulas, and
// the form in which that script stores an expected output (tests/data/resize/).
#pragma once
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

#include "tformer/image/image.h"
#include "test_util.h"

namespace tformer::testing {

inline std::filesystem::path resize_data_dir() { return source_dir() / "tests" / "data" / "resize"; }

// image_bytes(width, height, channels, pattern, seed) of the script.
inline image::Image pattern_image(int64_t width, int64_t height, int channels, const std::string& pattern,
                                  uint32_t seed) {
  image::Image out(width, height, channels);
  if (pattern == "noise") {
    uint32_t state = seed;
    for (uint8_t& byte : out.pixels) {
      state = state * 1664525u + 1013904223u;
      byte = static_cast<uint8_t>(state >> 24);
    }
    return out;
  }
  EXPECT_TRUE(pattern == "checker" || pattern == "gradient") << pattern;
  const int64_t x_span = std::max<int64_t>(width - 1, 1), y_span = std::max<int64_t>(height - 1, 1);
  for (int64_t y = 0; y < height; ++y) {
    for (int64_t x = 0; x < width; ++x) {
      for (int c = 0; c < channels; ++c) {
        const int64_t value = pattern == "checker" ? (x + y + c + seed) % 2 * 255
                                                   : (x * 251 / x_span * (c + 1) + y * 247 / y_span + seed) % 256;
        out.at(x, y, c) = static_cast<uint8_t>(value);
      }
    }
  }
  return out;
}

// The script's stored(): the bytes in hex when at most 48, else "crc32:" and zlib's CRC-32 of them.
inline std::string stored_form(const void* data, size_t size) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  char text[16];
  if (size > 48) {
    std::snprintf(text, sizeof text, "%08lx", crc32(0, bytes, static_cast<uInt>(size)));
    return std::string("crc32:") + text;
  }
  std::string hex;
  for (size_t i = 0; i < size; ++i) {
    std::snprintf(text, sizeof text, "%02x", bytes[i]);
    hex += text;
  }
  return hex;
}

}  // namespace tformer::testing
