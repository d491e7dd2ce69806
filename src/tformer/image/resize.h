// Resizing an 8-bit image exactly as Pillow 9.4's Image.resize((w, h), resample) does, byte for byte:
// the vision processors (ViTImageProcessor) resize with PIL, and a model's pixel_values only match the
// reference when every resized byte does.
//
// What is reproduced (Pillow's libImaging Resample.c, Geometry.c and Convert.c, and Image.py):
// - the convolution filters (everything but Nearest) are separable: a horizontal pass into an 8-bit
//   image holding only the source rows the vertical pass reads, then a vertical pass; a pass whose
//   size does not change is skipped. Each output pixel's taps come from the filter's support widened
//   by the downscale factor (antialiasing), normalised to sum to 1, then rounded to fixed point with 22
//   fractional bits; sums start at one half and are clipped to 0..255.
// - Nearest maps output pixel x to source pixel floor((x + 0.5) · in/out), the position accumulated
//   step by step in double as PIL does (it can differ from the product in the last bit).
// - 2- and 4-channel images are taken as LA and RGBA: for every filter but Nearest, PIL premultiplies
//   the colour by alpha before resizing and divides it out after (modes La / RGBa), and so does this.
// - the same size returns a copy, whatever the filter.
#pragma once
#include <cstdint>
#include <string_view>

#include "tformer/image/image.h"

namespace tformer::image {

// PIL's Image.Resampling values: the numbers preprocessor_config.json's "resample" holds.
enum class Resample : int { Nearest = 0, Lanczos = 1, Bilinear = 2, Bicubic = 3, Box = 4, Hamming = 5 };
inline constexpr int kResampleFilters = 6;

// Bounds on every image resize() reads or makes: no side longer than kMaxImageSide, and no image (the
// result, and the horizontally resized rows the vertical pass reads) of more than kMaxImagePixels
// pixels (image.h). Photos are far smaller; a size from an untrusted config is not.
inline constexpr int64_t kMaxImageSide = int64_t(1) << 20;

// Throws tformer::Error "<what>: ..." unless `image` is one resize() reads: sides within the bounds
// above, 1 to 4 channels, and a pixel buffer of width · height · channels bytes.
void check_image(const Image& image, std::string_view what);

// `src` resized to width × height. Throws tformer::Error for a size outside the bounds above, a source
// with 0 or more than 4 channels or whose pixel buffer does not hold width · height · channels bytes,
// or a filter that is none of Resample's.
Image resize(const Image& src, int64_t width, int64_t height, Resample filter);

}  // namespace tformer::image
