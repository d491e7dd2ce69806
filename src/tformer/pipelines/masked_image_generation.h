// Image generation with ViT-MAE: an image in, most of its patches hidden,
// the hidden patches painted back by the model, images out, as the MAE
// demos show them:
//
//   original | masked (hidden patches blank) | reconstruction
//            | reconstruction with the visible patches pasted back
//
// The input is preprocessed by the model's ViTImageProcessor (so the panels
// are the model's image_size); the masking noise is given (Hugging Face's
// `noise=`) or drawn from a seed.
#pragma once
#include <cstdint>
#include <filesystem>
#include <vector>

#include "tformer/core/tensor.h"
#include "tformer/image/image.h"
#include "tformer/image/vit_image_processor.h"
#include "tformer/models/vit_mae.h"

namespace tformer::pipelines {

struct MaskedImageGeneration {
  image::Image original, masked, reconstruction, pasted;  // 8-bit RGB, image_size²
  // The model's inputs and outputs, for --dump: pixel_values [1, 3, S, S],
  // noise, mask, ids_restore [1, N], logits [1, N, P·P·3], loss, and
  // reconstruction = unpatchify(logits) [1, 3, S, S] (per-patch normalised
  // pixels with norm_pix_loss, else pixel_values' space).
  Tensor pixel_values, noise, mask, ids_restore, logits, reconstruction_values;
  float loss = 0.0f;
};

class MaskedImageGenerationPipeline {
 public:
  static MaskedImageGenerationPipeline from_pretrained(const std::filesystem::path& dir);

  // noise [1, N]: which patches to hide (the largest values); see random_noise.
  MaskedImageGeneration operator()(const image::Image& input, const Tensor& noise) const;
  Tensor random_noise(uint64_t seed) const { return model_.random_noise(1, seed); }

  void set_mask_ratio(double ratio) { model_.set_mask_ratio(ratio); }
  void set_weight_format(kernels::GemmFormat format) { model_.set_weight_format(format); }
  const models::ViTMAEForPreTraining& model() const { return model_; }
  const image::ViTImageProcessor& processor() const { return processor_; }

 private:
  MaskedImageGenerationPipeline(image::ViTImageProcessor p, models::ViTMAEForPreTraining m)
      : processor_(std::move(p)), model_(std::move(m)) {}
  // pixel_values-space values [3, S, S] back to 8-bit pixels (the processor's steps undone).
  image::Image to_image(const float* chw, int64_t side) const;

  image::ViTImageProcessor processor_;
  models::ViTMAEForPreTraining model_;
};

// The panels side by side, each enlarged `scale` times (nearest pixel), with
// white gaps of `gap` pixels between them. All panels must share one size.
image::Image side_by_side(const std::vector<const image::Image*>& panels, int64_t scale, int64_t gap);

}  // namespace tformer::pipelines
