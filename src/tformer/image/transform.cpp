#include "tformer/image/transform.h"

#include <algorithm>
#include <cstring>

#include "tformer/core/error.h"

namespace tformer::image {

Image crop(const Image& src, int64_t left, int64_t top, int64_t width, int64_t height) {
  TF_CHECK(left >= 0 && top >= 0 && width > 0 && height > 0 && left + width <= src.width &&
               top + height <= src.height,
           "crop: " << width << " × " << height << " at (" << left << ", " << top << ") is not inside an image of "
                    << src.width << " × " << src.height);
  Image out(width, height, src.channels);
  for (int64_t y = 0; y < height; ++y)
    std::memcpy(out.row(y), src.row(top + y) + left * src.channels, static_cast<size_t>(out.row_bytes()));
  return out;
}

Image flip_horizontal(const Image& src) {
  Image out(src.width, src.height, src.channels);
  const int c = src.channels;
  for (int64_t y = 0; y < src.height; ++y) {
    const uint8_t* in = src.row(y);
    uint8_t* row = out.row(y);
    for (int64_t x = 0; x < src.width; ++x) std::memcpy(row + x * c, in + (src.width - 1 - x) * c, c);
  }
  return out;
}

}  // namespace tformer::image
