// Labelled images for fine-tuning an image classifier, laid out as
// transformers' image-classification example reads an "imagefolder"
// dataset: one sub-folder per class, its name the label,
//
//   train/cat/0001.jpg  train/cat/0002.png  train/dog/x.jpeg ...
//
// Classes are the sub-folders' names in sorted order (label id = rank), as
// datasets' ImageFolder numbers them; files are PNG or JPEG by extension
// (any case), sorted by path. Hidden files and folders are skipped.
//
// And the example's training augmentation, torchvision's
// RandomResizedCrop(size, scale=(0.08, 1), ratio=(3/4, 4/3)) followed by
// RandomHorizontalFlip(0.5): a random region of 8-100 % of the image's area,
// of aspect ratio 3/4 to 4/3 (log-uniform), resized to size with PIL's
// bilinear filter, then mirrored half the time.
#pragma once
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "tformer/image/image.h"

namespace tformer::train {

struct LabelledImage {
  std::filesystem::path path;
  int32_t label = 0;
};

struct ImageFolder {
  std::vector<std::string> classes;  // label id → name
  std::vector<LabelledImage> images;
  std::filesystem::path root;

  // Throws tformer::Error naming the folder: not a directory, no class
  // folder, a class folder with no image, more than 2^16 classes.
  static ImageFolder scan(const std::filesystem::path& root);
};

struct CropBox {
  int64_t left = 0, top = 0, width = 0, height = 0;
};

struct RandomResizedCrop {
  double min_scale = 0.08, max_scale = 1.0;
  double min_ratio = 3.0 / 4.0, max_ratio = 4.0 / 3.0;

  // torchvision's get_params: ten tries at a region of random area and
  // aspect ratio that fits, else the centred region of the clamped ratio.
  CropBox sample(int64_t width, int64_t height, std::mt19937_64& rng) const;
};

// The training view of an image: a RandomResizedCrop to size × size, then a
// horizontal flip with probability 1/2.
image::Image augment(const image::Image& img, int64_t size, const RandomResizedCrop& crop, std::mt19937_64& rng);

}  // namespace tformer::train
