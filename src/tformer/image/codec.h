// Internal to image/: what decode.cpp and encode.cpp reach of the two codecs
// (png.cpp over libpng, jpeg.cpp over libjpeg-turbo).
#pragma once
#include <csetjmp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tformer/image/image.h"

namespace tformer::image::detail {

struct Decoded {
  Image image;          // RGB, as stored (before the orientation is applied)
  int orientation = 1;  // from the file's EXIF (or XMP), 1-8
};

// Both throw tformer::Error starting with `name`.
Decoded decode_png(const uint8_t* data, size_t size, const std::string& name, int64_t max_pixels);
Decoded decode_jpeg(const uint8_t* data, size_t size, const std::string& name, int64_t max_pixels);
std::vector<uint8_t> encode_png(const Image& image, const std::string& name);
std::vector<uint8_t> encode_jpeg(const Image& image, int quality, const std::string& name);

// The image a decoder writes into, once its header's size is known: refused
// (an Error starting with `where`, which names the file and the header)
// before anything is allocated when it has more than max_pixels pixels.
Image allocate_image(int64_t width, int64_t height, int channels, int64_t max_pixels, const std::string& where);

// libpng and libjpeg report errors by longjmp to a setjmp target. Every call
// into them runs inside `step` here: an error lands back in this frame,
// which then returns false. What a longjmp skips must have no destructor, so
// `step` holds none of its own (its state lives in the caller's objects,
// which outlive the jump), and no C++ exception may leave a library callback.
template <class Step>
[[nodiscard]] bool run_guarded(std::jmp_buf& target, Step&& step) {
  if (setjmp(target) != 0) return false;
  step();
  return true;
}

}  // namespace tformer::image::detail
