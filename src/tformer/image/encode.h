// Writing images as PNG or JPEG files. Each file is written under a
// temporary name beside it and renamed into place (io/atomic_file.h): a
// failed save leaves what was there before.
#pragma once
#include <filesystem>

#include "tformer/image/image.h"

namespace tformer::image {

// 8-bit grey (channels 1), RGB (3) or RGBA (4), zlib's default compression
// level (PIL's too). Lossless: decode_image gives the RGB bytes back.
void save_png(const Image& image, const std::filesystem::path& path);

// Grey (channels 1) or RGB (3), baseline, 4:2:0 chroma subsampling for RGB
// (libjpeg's and PIL's default); quality 1-100 (PIL's scale: the same
// quantisation tables).
void save_jpeg(const Image& image, const std::filesystem::path& path, int quality = 95);

// save_png for .png, save_jpeg at its default quality for .jpg and .jpeg
// (in any case); any other extension is an error naming the path.
void save_image(const Image& image, const std::filesystem::path& path);

}  // namespace tformer::image
