// Image classification and image embeddings, as transformers'
// pipeline("image-classification") and pipeline("image-feature-extraction")
// with a ViTImageProcessor and a ViT model from one directory (config.json,
// preprocessor_config.json, model.safetensors).
//
// Images are read from files (PNG, JPEG; EXIF orientation applied) and
// batched; an image's result does not depend on its batch.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "tformer/image/vit_image_processor.h"
#include "tformer/models/vit.h"

namespace tformer::pipelines {

struct ImageClassification {
  std::string label;  // the most probable
  float score = 0.0f;
  std::vector<std::pair<std::string, float>> top_k;  // most probable first
  std::vector<float> logits;
};

struct ImageFeatures {
  std::vector<float> cls;   // the final [CLS] row of last_hidden_state
  std::vector<float> mean;  // the mean of the patch rows ([CLS] left out, as timm's avg pooling)
};

// Called after each batch with (images done, images in all).
using ImageProgress = std::function<void(size_t, size_t)>;

class ImageClassificationPipeline {
 public:
  static ImageClassificationPipeline from_pretrained(const std::filesystem::path& dir);
  std::vector<ImageClassification> operator()(const std::vector<std::filesystem::path>& images, int64_t top_k,
                                              size_t batch_size = 8, const ImageProgress& progress = nullptr) const;
  void set_weight_format(kernels::GemmFormat format) { model_.set_weight_format(format); }

 private:
  ImageClassificationPipeline(image::ViTImageProcessor p, models::ViTForImageClassification m)
      : processor_(std::move(p)), model_(std::move(m)) {}
  image::ViTImageProcessor processor_;
  models::ViTForImageClassification model_;
};

class ImageFeaturesPipeline {
 public:
  // Any ViT checkpoint: its encoder (a classifier head, if any, is not used).
  static ImageFeaturesPipeline from_pretrained(const std::filesystem::path& dir);
  std::vector<ImageFeatures> operator()(const std::vector<std::filesystem::path>& images, size_t batch_size = 8,
                                        const ImageProgress& progress = nullptr) const;
  void set_weight_format(kernels::GemmFormat format) { model_.set_weight_format(format); }

 private:
  ImageFeaturesPipeline(image::ViTImageProcessor p, models::ViTModel m)
      : processor_(std::move(p)), model_(std::move(m)) {}
  image::ViTImageProcessor processor_;
  models::ViTModel model_;
};

// Reads `paths` in batches of `batch_size`, preprocesses each batch and calls
// run(index of its first image, pixel_values). Errors name the file.
void for_each_image_batch(const std::vector<std::filesystem::path>& paths, size_t batch_size,
                          const image::ViTImageProcessor& processor,
                          const std::function<void(size_t, const Tensor&)>& run, const ImageProgress& progress);

}  // namespace tformer::pipelines
