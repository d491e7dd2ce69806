// An 8-bit image in memory, as the vision pipelines read it: rows top to
// bottom, each row's pixels left to right, each pixel's channels interleaved
// (HWC, the layout of a PIL image's bytes and of numpy.asarray(img)).
// Decoders (image/decode.h) always give RGB: channels = 3.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tformer::image {

// The most pixels (width × height) an image may have: decoders refuse more
// from the header, before anything is allocated, and resize() neither reads
// nor makes more. PIL's own decompression-bomb limit (it raises
// DecompressionBombError past 2 × Image.MAX_IMAGE_PIXELS), so that tformer
// decodes what transformers can load; an RGB image is then at most 512 MiB.
inline constexpr int64_t kMaxImagePixels = 2 * 89'478'485;

struct Image {
  int64_t width = 0, height = 0;
  int channels = 3;
  std::vector<uint8_t> pixels;  // height · width · channels bytes

  Image() = default;
  Image(int64_t w, int64_t h, int c) : width(w), height(h), channels(c), pixels(static_cast<size_t>(w * h * c)) {}

  int64_t row_bytes() const { return width * channels; }
  uint8_t* row(int64_t y) { return pixels.data() + y * row_bytes(); }
  const uint8_t* row(int64_t y) const { return pixels.data() + y * row_bytes(); }
  uint8_t& at(int64_t x, int64_t y, int c) { return pixels[static_cast<size_t>((y * width + x) * channels + c)]; }
  uint8_t at(int64_t x, int64_t y, int c) const { return pixels[static_cast<size_t>((y * width + x) * channels + c)]; }
};

}  // namespace tformer::image
