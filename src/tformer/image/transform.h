// Geometric transforms of 8-bit images, the pieces of the training
// augmentation that transformers' image-classification example composes
// (torchvision's RandomResizedCrop and RandomHorizontalFlip on PIL images).
#pragma once
#include <cstdint>

#include "tformer/image/image.h"

namespace tformer::image {

// The rectangle [left, left + width) × [top, top + height), which must lie
// inside the image (PIL's crop; tformer::Error otherwise).
Image crop(const Image& src, int64_t left, int64_t top, int64_t width, int64_t height);

// Left and right swapped (PIL's Image.FLIP_LEFT_RIGHT).
Image flip_horizontal(const Image& src);

}  // namespace tformer::image
