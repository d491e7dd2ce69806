#include "tformer/image/resize.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "tformer/core/error.h"

namespace tformer::image {

namespace {

// The filters as PIL writes them: the same operations in the same order, so each weight is the same
// double. `support` is the radius, in source pixels, at which the weight becomes 0 when not
// downscaling.
struct Filter {
  double (*weight)(double x);
  double support;
};

double box_weight(double x) { return x > -0.5 && x <= 0.5 ? 1.0 : 0.0; }

double bilinear_weight(double x) {
  x = std::fabs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

double hamming_weight(double x) {
  x = std::fabs(x);
  if (x == 0.0) return 1.0;
  if (x >= 1.0) return 0.0;
  x *= std::numbers::pi;
  // PIL's constants are floats (0.54f, 0.46f), widened to double.
  return std::sin(x) / x * (double(0.54f) + double(0.46f) * std::cos(x));
}

// Keys' cubic convolution with a = -0.5.
double bicubic_weight(double x) {
  constexpr double a = -0.5;
  x = std::fabs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

double sinc(double x) {
  if (x == 0.0) return 1.0;
  x *= std::numbers::pi;
  return std::sin(x) / x;
}

double lanczos_weight(double x) { return -3.0 <= x && x < 3.0 ? sinc(x) * sinc(x / 3) : 0.0; }

Filter filter_for(Resample filter) {
  switch (filter) {
    case Resample::Box: return {box_weight, 0.5};
    case Resample::Bilinear: return {bilinear_weight, 1.0};
    case Resample::Hamming: return {hamming_weight, 1.0};
    case Resample::Bicubic: return {bicubic_weight, 2.0};
    case Resample::Lanczos: return {lanczos_weight, 3.0};
    case Resample::Nearest: break;
  }
  TF_FAIL("resize: filter " << static_cast<int>(filter) << " has no convolution kernel");
}

// 8 bits of result, 2 bits of headroom (negative lobes, sums past 1): PIL's PRECISION_BITS.
constexpr int kFractionBits = 32 - 8 - 2;
constexpr int32_t kHalf = int32_t(1) << (kFractionBits - 1);

uint8_t clip8(int32_t sum) { return static_cast<uint8_t>(std::clamp(sum >> kFractionBits, 0, 255)); }

// Which source pixels each output pixel of one axis reads, and with what fixed-point weights:
// output i reads count[i] pixels from first[i], weighted by weights[i * stride ...].
struct AxisTaps {
  std::vector<int64_t> first;
  std::vector<int32_t> count;
  std::vector<int32_t> weights;
  int64_t stride = 0;

  int64_t end(int64_t i) const { return first[i] + count[i]; }
};

AxisTaps compute_taps(int64_t in_size, int64_t out_size, const Filter& filter) {
  const double scale = double(in_size) / double(out_size);
  // Downscaling widens the filter by the scale, so that every source pixel contributes.
  const double filter_scale = std::max(scale, 1.0);
  const double support = filter.support * filter_scale;
  const double inverse_filter_scale = 1.0 / filter_scale;
  AxisTaps taps;
  taps.stride = static_cast<int64_t>(std::ceil(support)) * 2 + 1;
  taps.first.resize(out_size);
  taps.count.resize(out_size);
  taps.weights.assign(out_size * taps.stride, 0);
  std::vector<double> weights(taps.stride);
  for (int64_t i = 0; i < out_size; ++i) {
    const double center = (double(i) + 0.5) * scale;
    // PIL rounds these two by truncating after adding one half.
    const int64_t first = std::max<int64_t>(static_cast<int64_t>(center - support + 0.5), 0);
    const int64_t end = std::min<int64_t>(static_cast<int64_t>(center + support + 0.5), in_size);
    const int64_t count = end - first;
    double total = 0.0;
    for (int64_t t = 0; t < count; ++t) {
      weights[t] = filter.weight((double(first + t) - center + 0.5) * inverse_filter_scale);
      total += weights[t];
    }
    int32_t* fixed = &taps.weights[i * taps.stride];
    for (int64_t t = 0; t < count; ++t) {
      const double w = total != 0.0 ? weights[t] / total : weights[t];
      const double scaled = w * double(int32_t(1) << kFractionBits);
      // Rounded half away from zero, as PIL converts them.
      fixed[t] = static_cast<int32_t>(w < 0 ? scaled - 0.5 : scaled + 0.5);
    }
    taps.first[i] = first;
    taps.count[i] = static_cast<int32_t>(count);
  }
  return taps;
}

// The horizontal pass over `rows` rows, each pixel's channels summed apart; kChannels is a constant so
// that the tap loop is unrolled per channel.
template <int kChannels>
void resample_rows(const uint8_t* src, int64_t src_row_bytes, int64_t rows, const AxisTaps& taps,
                   uint8_t* dst) {
  const int64_t width = static_cast<int64_t>(taps.first.size());
  for (int64_t y = 0; y < rows; ++y) {
    const uint8_t* in = src + y * src_row_bytes;
    uint8_t* out = dst + y * width * kChannels;
    for (int64_t x = 0; x < width; ++x) {
      const uint8_t* pixel = in + taps.first[x] * kChannels;
      const int32_t* weight = &taps.weights[x * taps.stride];
      int32_t sums[kChannels];
      std::fill_n(sums, kChannels, kHalf);
      for (int32_t t = 0; t < taps.count[x]; ++t) {
        for (int c = 0; c < kChannels; ++c) sums[c] += pixel[t * kChannels + c] * weight[t];
      }
      for (int c = 0; c < kChannels; ++c) out[x * kChannels + c] = clip8(sums[c]);
    }
  }
}

void resample_rows(const uint8_t* src, int64_t src_row_bytes, int64_t rows, const AxisTaps& taps, int channels,
                   uint8_t* dst) {
  switch (channels) {
    case 1: return resample_rows<1>(src, src_row_bytes, rows, taps, dst);
    case 2: return resample_rows<2>(src, src_row_bytes, rows, taps, dst);
    case 3: return resample_rows<3>(src, src_row_bytes, rows, taps, dst);
    default: return resample_rows<4>(src, src_row_bytes, rows, taps, dst);
  }
}

// The vertical pass: every byte of an output row is the same weighted sum of source rows, so whole rows
// are summed at once. `src` holds source rows from `first_row` on.
void resample_columns(const uint8_t* src, int64_t row_bytes, int64_t first_row, const AxisTaps& taps,
                      uint8_t* dst) {
  std::vector<int32_t> sums(row_bytes);
  for (size_t y = 0; y < taps.first.size(); ++y) {
    std::fill(sums.begin(), sums.end(), kHalf);
    const int32_t* weight = &taps.weights[y * taps.stride];
    for (int32_t t = 0; t < taps.count[y]; ++t) {
      const uint8_t* in = src + (taps.first[y] - first_row + t) * row_bytes;
      for (int64_t i = 0; i < row_bytes; ++i) sums[i] += in[i] * weight[t];
    }
    uint8_t* out = dst + y * row_bytes;
    for (int64_t i = 0; i < row_bytes; ++i) out[i] = clip8(sums[i]);
  }
}

Image resample(const Image& src, int64_t width, int64_t height, const Filter& filter) {
  const AxisTaps vertical = compute_taps(src.height, height, filter);
  Image out(width, height, src.channels);
  if (width == src.width) {
    resample_columns(src.pixels.data(), src.row_bytes(), 0, vertical, out.pixels.data());
    return out;
  }
  const AxisTaps horizontal = compute_taps(src.width, width, filter);
  // Only the rows the vertical pass reads are resized horizontally.
  const int64_t first_row = height == src.height ? 0 : vertical.first.front();
  const int64_t end_row = height == src.height ? src.height : vertical.end(height - 1);
  TF_CHECK(width * (end_row - first_row) <= kMaxImagePixels,
           "resize: " << src.width << "x" << src.height << " to " << width << "x" << height << " needs an "
                      << width << "x" << end_row - first_row << " intermediate image, over "
                      << kMaxImagePixels << " pixels");
  if (height == src.height) {
    resample_rows(src.pixels.data(), src.row_bytes(), src.height, horizontal, src.channels, out.pixels.data());
    return out;
  }
  Image rows(width, end_row - first_row, src.channels);
  resample_rows(src.row(first_row), src.row_bytes(), rows.height, horizontal, src.channels, rows.pixels.data());
  resample_columns(rows.pixels.data(), rows.row_bytes(), first_row, vertical, out.pixels.data());
  return out;
}

// Source pixel of each output pixel along one axis, or -1 where it falls outside (PIL leaves those 0).
std::vector<int64_t> nearest_sources(int64_t in_size, int64_t out_size) {
  const double step = double(in_size) / double(out_size);
  std::vector<int64_t> sources(out_size);
  // Accumulated, not multiplied: PIL adds the step once per pixel.
  double position = step * 0.5;
  for (int64_t i = 0; i < out_size; ++i) {
    const int64_t source = position < 0.0 ? -1 : static_cast<int64_t>(position);
    sources[i] = source < in_size ? source : -1;
    position += step;
  }
  return sources;
}

Image resize_nearest(const Image& src, int64_t width, int64_t height) {
  const std::vector<int64_t> columns = nearest_sources(src.width, width);
  const std::vector<int64_t> rows = nearest_sources(src.height, height);
  Image out(width, height, src.channels);
  const int channels = src.channels;
  for (int64_t y = 0; y < height; ++y) {
    if (rows[y] < 0) continue;
    const uint8_t* in = src.row(rows[y]);
    uint8_t* pixel = out.row(y);
    for (int64_t x = 0; x < width; ++x, pixel += channels) {
      if (columns[x] >= 0) std::copy_n(in + columns[x] * channels, channels, pixel);
    }
  }
  return out;
}

// PIL's RGBA → RGBa (and LA → La): colour × alpha / 255, rounded.
void premultiply_alpha(Image& image) {
  const int alpha = image.channels - 1;
  for (size_t i = 0; i < image.pixels.size(); i += image.channels) {
    const uint32_t a = image.pixels[i + alpha];
    for (int c = 0; c < alpha; ++c) {
      const uint32_t product = image.pixels[i + c] * a + 128;
      image.pixels[i + c] = static_cast<uint8_t>(((product >> 8) + product) >> 8);
    }
  }
}

// And back: colour × 255 / alpha, truncated and clipped; alpha 0 and 255 leave the colour as it is.
void unpremultiply_alpha(Image& image) {
  const int alpha = image.channels - 1;
  for (size_t i = 0; i < image.pixels.size(); i += image.channels) {
    const uint32_t a = image.pixels[i + alpha];
    if (a == 0 || a == 255) continue;
    for (int c = 0; c < alpha; ++c) {
      image.pixels[i + c] = static_cast<uint8_t>(std::min<uint32_t>(255 * image.pixels[i + c] / a, 255));
    }
  }
}

void check_size(int64_t width, int64_t height, std::string_view what) {
  TF_CHECK(width >= 1 && height >= 1 && width <= kMaxImageSide && height <= kMaxImageSide,
           what << " size " << width << "x" << height << ": width and height must be in [1, " << kMaxImageSide
                << "]");
  TF_CHECK(width * height <= kMaxImagePixels,
           what << " size " << width << "x" << height << " is over " << kMaxImagePixels << " pixels");
}

}  // namespace

void check_image(const Image& image, std::string_view what) {
  check_size(image.width, image.height, what);
  TF_CHECK(image.channels >= 1 && image.channels <= 4,
           what << ": an image of " << image.channels << " channels (1 to 4 are supported)");
  TF_CHECK(image.pixels.size() == static_cast<size_t>(image.width * image.height * image.channels),
           what << ": a " << image.width << "x" << image.height << "x" << image.channels << " image holds "
                << image.pixels.size() << " bytes");
}

Image resize(const Image& src, int64_t width, int64_t height, Resample filter) {
  check_image(src, "resize: source");
  check_size(width, height, "resize: target");
  const int filter_index = static_cast<int>(filter);
  TF_CHECK(filter_index >= 0 && filter_index < kResampleFilters, "resize: unknown filter " << filter_index);
  if (width == src.width && height == src.height) return src;
  if (filter == Resample::Nearest) return resize_nearest(src, width, height);
  const bool has_alpha = src.channels == 2 || src.channels == 4;
  if (!has_alpha) return resample(src, width, height, filter_for(filter));
  Image premultiplied = src;
  premultiply_alpha(premultiplied);
  Image out = resample(premultiplied, width, height, filter_for(filter));
  unpremultiply_alpha(out);
  return out;
}

}  // namespace tformer::image
