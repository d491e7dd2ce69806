#include "tformer/image/decode.h"

#include <algorithm>
#include <cstring>
#include <iomanip>
#include <sstream>
#include <string_view>
#include <utility>

#include "tformer/core/checked_size.h"
#include "tformer/core/error.h"
#include "tformer/image/codec.h"
#include "tformer/image/exif.h"
#include "tformer/io/mapped_file.h"

namespace tformer::image {

namespace {

constexpr std::string_view kPngSignature("\x89PNG\r\n\x1a\n", 8);
constexpr std::string_view kJpegSignature("\xff\xd8\xff", 3);

bool starts_with(const uint8_t* data, size_t size, std::string_view prefix) {
  return size >= prefix.size() && std::memcmp(data, prefix.data(), prefix.size()) == 0;
}

// What a file that is neither is, when it is a format people mistake for
// them, and its first bytes, for the message.
std::string describe(const uint8_t* data, size_t size) {
  static constexpr std::pair<std::string_view, const char*> kOthers[] = {
      {"GIF8", "a GIF"}, {"BM", "a BMP"}, {"RIFF", "a RIFF file (WebP?)"}, {{"II*\0", 4}, "a TIFF"},
      {{"MM\0*", 4}, "a TIFF"}, {"<", "text (HTML or XML?)"}};
  std::ostringstream os;
  for (const auto& [magic, what] : kOthers)
    if (starts_with(data, size, magic)) os << "it looks like " << what << "; ";
  os << "it starts with";
  for (size_t i = 0; i < std::min<size_t>(size, 8); ++i)
    os << ' ' << std::hex << std::setw(2) << std::setfill('0') << int(data[i]);
  return os.str();
}

}  // namespace

namespace detail {

Image allocate_image(int64_t width, int64_t height, int channels, int64_t max_pixels, const std::string& where) {
  const int64_t dims[] = {width, height, channels};
  TF_CHECK(width > 0 && height > 0, where << ": an image of " << width << " x " << height << " pixels");
  const int64_t samples = checked_numel(dims, where);
  TF_CHECK(width * height <= max_pixels,
           where << ": " << width << " x " << height << " = " << width * height << " pixels, over the limit of "
                 << max_pixels
                 << (max_pixels == kMaxImagePixels ? " (kMaxImagePixels, PIL's decompression-bomb limit)" : ""));
  checked_nbytes(samples, 1, where);
  return Image(width, height, channels);
}

}  // namespace detail

Image decode_image(const uint8_t* data, size_t size, const std::string& name, int64_t max_pixels) {
  TF_CHECK(size > 0, name << ": an empty file, not a PNG or JPEG image");
  detail::Decoded decoded;
  if (starts_with(data, size, kPngSignature))
    decoded = detail::decode_png(data, size, name, max_pixels);
  else if (starts_with(data, size, kJpegSignature))
    decoded = detail::decode_jpeg(data, size, name, max_pixels);
  else
    TF_FAIL(name << ": not a PNG or JPEG image (" << describe(data, size) << ")");
  return apply_orientation(std::move(decoded.image), decoded.orientation);
}

Image load_image(const std::filesystem::path& path, int64_t max_pixels) {
  const auto file = io::MappedFile::open(path);
  return decode_image(file->data(), file->size(), path.string(), max_pixels);
}

}  // namespace tformer::image
