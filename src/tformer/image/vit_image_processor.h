// transformers 4.43's ViTImageProcessor (also ViTFeatureExtractor, and what ViTMAE checkpoints use):
// RGB images to the pixel_values a ViT model reads, from a preprocessor_config.json.
//
// For each image, as transformers computes it: the 8-bit RGB pixels resized by PIL (image/resize.h) to
// height × width, multiplied by rescale_factor in double and rounded to float, then (x − mean) / std in
// float with mean and std rounded to float, channels first. Without do_rescale the values are the
// pixel bytes themselves (0 to 255) as floats.
//
// One difference: transformers guesses where the channels are from the array's shape and takes an
// image 1 or 3 pixels high for channels-first, which garbles it; here an Image is always HWC.
#pragma once
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tformer/core/tensor.h"
#include "tformer/image/image.h"
#include "tformer/image/resize.h"

namespace tformer::image {

// The largest height or width a config may ask images to be resized to: ViT checkpoints use 224 to
// 518, and 8192 × 8192 is already 768 MiB of pixel_values per image.
inline constexpr int64_t kMaxProcessorSide = 8192;

struct ViTImageProcessor {
  // transformers' defaults, for the fields a config leaves out. A null do_resize, do_rescale or
  // do_normalize turns its step off (transformers tests None as false); a null rescale_factor is
  // refused when do_rescale is on; other nulls are the defaults.
  bool do_resize = true;
  int64_t height = 224, width = 224;
  Resample resample = Resample::Bilinear;
  bool do_rescale = true;
  double rescale_factor = 1.0 / 255;
  bool do_normalize = true;
  std::array<double, 3> image_mean{0.5, 0.5, 0.5};  // per channel, R G B
  std::array<double, 3> image_std{0.5, 0.5, 0.5};

  // Reads preprocessor_config.json. The fields: do_resize, do_rescale, do_normalize (booleans); size
  // ({"height": H, "width": W}, or an int for a square, or [H, W], as transformers' get_size_dict
  // reads it; {"shortest_edge": ...} and the like are refused: ViTImageProcessor cannot resize to
  // them); resample (PIL's filter number, 0 to 5); rescale_factor (a positive number); image_mean and
  // image_std (3 numbers, or one for all channels; std non-zero); image_processor_type and
  // feature_extractor_type, when present, ViTImageProcessor or ViTFeatureExtractor. Other fields are
  // ignored. Throws tformer::Error naming the file and the field.
  static ViTImageProcessor from_file(const std::filesystem::path& path);
  // The same from parsed JSON; `source` names it in messages.
  static ViTImageProcessor from_json(const nlohmann::json& config, const std::string& source);

  // pixel_values [images][3][height][width], float32. Every image must be RGB (3 channels); without
  // do_resize, all must have the same size, which the output has. Throws tformer::Error naming the
  // image (its index) otherwise, or for an empty list.
  Tensor preprocess(const std::vector<Image>& images) const;
};

}  // namespace tformer::image
