#include "tformer/image/encode.h"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <string>

#include "tformer/core/checked_size.h"
#include "tformer/core/error.h"
#include "tformer/image/codec.h"
#include "tformer/io/atomic_file.h"

namespace tformer::image {

namespace {

// An image whose fields agree, with a channel count the format can store.
void check_image(const Image& image, const std::string& name, const char* format, std::initializer_list<int> channels) {
  TF_CHECK(std::find(channels.begin(), channels.end(), image.channels) != channels.end(),
           name << ": " << format << " cannot store an image of " << image.channels << " channels");
  TF_CHECK(image.width > 0 && image.height > 0,
           name << ": cannot store an image of " << image.width << " x " << image.height << " pixels");
  const int64_t dims[] = {image.width, image.height, image.channels};
  TF_CHECK(static_cast<uint64_t>(checked_numel(dims, name)) == image.pixels.size(),
           name << ": the image holds " << image.pixels.size() << " bytes, not width x height x channels");
}

void write(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  io::AtomicFile file(path);
  file.write(bytes.data(), bytes.size());
  file.commit();
}

}  // namespace

void save_png(const Image& image, const std::filesystem::path& path) {
  const std::string name = path.string();
  check_image(image, name, "PNG", {1, 3, 4});
  TF_CHECK(image.width < (int64_t(1) << 31) && image.height < (int64_t(1) << 31),
           name << ": a PNG's sides are below 2^31 pixels, not " << image.width << " x " << image.height);
  write(path, detail::encode_png(image, name));
}

void save_jpeg(const Image& image, const std::filesystem::path& path, int quality) {
  const std::string name = path.string();
  check_image(image, name, "JPEG", {1, 3});
  TF_CHECK(quality >= 1 && quality <= 100, name << ": JPEG quality " << quality << " is not in 1..100");
  write(path, detail::encode_jpeg(image, quality, name));
}

void save_image(const Image& image, const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".png")
    save_png(image, path);
  else if (ext == ".jpg" || ext == ".jpeg")
    save_jpeg(image, path);
  else
    TF_FAIL(path.string() << ": cannot tell the image format from the extension '" << ext
                          << "' (.png, .jpg or .jpeg)");
}

}  // namespace tformer::image
