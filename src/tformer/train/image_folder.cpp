#include "tformer/train/image_folder.h"

#include <algorithm>
#include <cmath>

#include "tformer/core/error.h"
#include "tformer/image/resize.h"
#include "tformer/image/transform.h"

namespace tformer::train {

namespace fs = std::filesystem;

namespace {
constexpr size_t kMaxClasses = size_t(1) << 16;

bool hidden(const fs::path& p) { return p.filename().string().rfind('.', 0) == 0; }

bool is_image_file(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

// Uniform in [lo, hi), from 53 random bits (the same on every platform).
double uniform(std::mt19937_64& rng, double lo, double hi) {
  return lo + (hi - lo) * static_cast<double>(rng() >> 11) * 0x1p-53;
}

// Uniform integer in [lo, hi].
int64_t uniform_int(std::mt19937_64& rng, int64_t lo, int64_t hi) {
  return lo + static_cast<int64_t>(rng() % static_cast<uint64_t>(hi - lo + 1));
}
}  // namespace

ImageFolder ImageFolder::scan(const fs::path& root) {
  TF_CHECK(fs::is_directory(root), root.string() << ": not a directory (an image folder has one sub-folder per class)");
  ImageFolder f;
  f.root = root;
  std::vector<fs::path> class_dirs;
  for (const auto& entry : fs::directory_iterator(root))
    if (entry.is_directory() && !hidden(entry.path())) class_dirs.push_back(entry.path());
  std::sort(class_dirs.begin(), class_dirs.end());
  TF_CHECK(!class_dirs.empty(), root.string() << ": no class folders (expected e.g. " << root.string() << "/cat/*.jpg)");
  TF_CHECK(class_dirs.size() <= kMaxClasses,
           root.string() << ": " << class_dirs.size() << " class folders, more than " << kMaxClasses);
  for (const fs::path& dir : class_dirs) {
    const int32_t label = static_cast<int32_t>(f.classes.size());
    f.classes.push_back(dir.filename().string());
    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(dir))
      if (entry.is_regular_file() && !hidden(entry.path()) && is_image_file(entry.path())) files.push_back(entry.path());
    TF_CHECK(!files.empty(), dir.string() << ": a class folder with no PNG or JPEG file");
    std::sort(files.begin(), files.end());
    for (fs::path& p : files) f.images.push_back({std::move(p), label});
  }
  return f;
}

CropBox RandomResizedCrop::sample(int64_t width, int64_t height, std::mt19937_64& rng) const {
  const double area = static_cast<double>(width) * static_cast<double>(height);
  const double log_lo = std::log(min_ratio), log_hi = std::log(max_ratio);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = area * uniform(rng, min_scale, max_scale);
    const double ratio = std::exp(uniform(rng, log_lo, log_hi));
    const auto w = static_cast<int64_t>(std::lround(std::sqrt(target * ratio)));
    const auto h = static_cast<int64_t>(std::lround(std::sqrt(target / ratio)));
    if (w > 0 && w <= width && h > 0 && h <= height)
      return {uniform_int(rng, 0, width - w), uniform_int(rng, 0, height - h), w, h};
  }
  // The fallback: the whole image, cut to the nearest allowed ratio, centred.
  const double in_ratio = static_cast<double>(width) / static_cast<double>(height);
  int64_t w = width, h = height;
  if (in_ratio < min_ratio) h = std::max<int64_t>(1, std::lround(static_cast<double>(w) / min_ratio));
  else if (in_ratio > max_ratio) w = std::max<int64_t>(1, std::lround(static_cast<double>(h) * max_ratio));
  return {(width - w) / 2, (height - h) / 2, w, h};
}

image::Image augment(const image::Image& img, int64_t size, const RandomResizedCrop& crop, std::mt19937_64& rng) {
  const CropBox box = crop.sample(img.width, img.height, rng);
  image::Image out = image::resize(image::crop(img, box.left, box.top, box.width, box.height), size, size,
                                   image::Resample::Bilinear);
  if (rng() >> 63) out = image::flip_horizontal(out);
  return out;
}

}  // namespace tformer::train
