#include "tformer/image/vit_image_processor.h"

#include <cmath>

#include "tformer/core/error.h"
#include "tformer/io/json_file.h"

namespace tformer::image {

namespace {

using nlohmann::json;
using io::json_excerpt;

// The processor classes whose preprocess this is (ViTMAE's configs name these too).
void check_processor_type(const json& config, const char* key, const std::string& source) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return;
  if (!it->is_string()) io::throw_wrong_json_type(key, *it, source);
  const std::string& type = it->get_ref<const std::string&>();
  TF_CHECK(type == "ViTImageProcessor" || type == "ViTFeatureExtractor",
           source << ": field '" << key << "' is " << json_excerpt(*it)
                  << ": only ViTImageProcessor (or ViTFeatureExtractor) configs are read here");
}

int64_t read_side(const json& value, const std::string& where) {
  return io::json_to_int(value, 1, kMaxProcessorSide, where);
}

// "size" as transformers' get_size_dict reads it for ViTImageProcessor: an int is a square, a list is
// [height, width]; of the dicts it allows, ViTImageProcessor.resize takes only {height, width}.
void read_size(const json& config, const std::string& source, ViTImageProcessor& processor) {
  auto it = config.find("size");
  if (it == config.end() || it->is_null()) return;
  const std::string where = source + ": field 'size'";
  if (it->is_number()) {
    processor.height = processor.width = read_side(*it, where);
    return;
  }
  if (it->is_array()) {
    TF_CHECK(it->size() == 2, where << " as a list must be [height, width], got " << json_excerpt(*it));
    processor.height = read_side((*it)[0], where + " (height)");
    processor.width = read_side((*it)[1], where + " (width)");
    return;
  }
  TF_CHECK(it->is_object() && it->size() == 2 && it->contains("height") && it->contains("width"),
           where << " must be {\"height\": H, \"width\": W} (or one integer, or [H, W]): ViTImageProcessor "
                    "resizes to a fixed size, got "
                 << json_excerpt(*it));
  processor.height = read_side(it->at("height"), where + " 'height'");
  processor.width = read_side(it->at("width"), where + " 'width'");
}

// image_mean / image_std: one number per channel, or one number for all three (as transformers'
// normalize() broadcasts it).
std::array<double, 3> read_per_channel(const json& config, const char* key, const std::array<double, 3>& fallback,
                                       bool nonzero, const std::string& source) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return fallback;
  const std::string where = source + ": field '" + key + "'";
  TF_CHECK(it->is_number() || (it->is_array() && it->size() == 3),
           where << " must be a list of 3 numbers (R, G, B) or one number, got " << json_excerpt(*it));
  std::array<double, 3> values;
  for (size_t c = 0; c < 3; ++c) {
    const json& value = it->is_array() ? (*it)[c] : *it;
    TF_CHECK(value.is_number(), where << " must hold numbers, got " << json_excerpt(value));
    values[c] = value.get<double>();
    TF_CHECK(std::isfinite(values[c]) && (!nonzero || values[c] != 0.0),
             where << " must hold finite" << (nonzero ? ", non-zero" : "") << " numbers, got " << values[c]);
  }
  return values;
}

// do_resize, do_rescale, do_normalize: null is None to transformers, which skips the step.
bool read_step_flag(const json& config, const char* key, bool fallback, const std::string& source) {
  auto it = config.find(key);
  if (it != config.end() && it->is_null()) return false;
  return io::json_field<bool>(config, key, fallback, source);
}

}  // namespace

ViTImageProcessor ViTImageProcessor::from_json(const json& config, const std::string& source) {
  TF_CHECK(config.is_object(), source << ": expected a JSON object, got " << json_excerpt(config));
  check_processor_type(config, "image_processor_type", source);
  check_processor_type(config, "feature_extractor_type", source);
  ViTImageProcessor processor;
  processor.do_resize = read_step_flag(config, "do_resize", processor.do_resize, source);
  read_size(config, source, processor);
  if (auto filter = io::json_int_field(config, "resample", 0, kResampleFilters - 1, source)) {
    processor.resample = static_cast<Resample>(*filter);
  }
  processor.do_rescale = read_step_flag(config, "do_rescale", processor.do_rescale, source);
  // transformers refuses a null factor only when it would rescale.
  const auto factor = config.find("rescale_factor");
  TF_CHECK(!processor.do_rescale || factor == config.end() || !factor->is_null(),
           source << ": field 'rescale_factor' is null, and do_rescale is on");
  processor.rescale_factor = io::json_field<double>(config, "rescale_factor", processor.rescale_factor, source);
  TF_CHECK(std::isfinite(processor.rescale_factor) && processor.rescale_factor > 0,
           source << ": field 'rescale_factor' must be a positive number, got " << processor.rescale_factor);
  processor.do_normalize = read_step_flag(config, "do_normalize", processor.do_normalize, source);
  processor.image_mean = read_per_channel(config, "image_mean", processor.image_mean, false, source);
  processor.image_std = read_per_channel(config, "image_std", processor.image_std, true, source);
  return processor;
}

ViTImageProcessor ViTImageProcessor::from_file(const std::filesystem::path& path) {
  return from_json(io::read_json_file(path), path.string());
}

Tensor ViTImageProcessor::preprocess(const std::vector<Image>& images) const {
  TF_CHECK(!images.empty(), "ViTImageProcessor: no images to preprocess");
  for (size_t i = 0; i < images.size(); ++i) {
    const std::string what = "ViTImageProcessor: image " + std::to_string(i);
    check_image(images[i], what);
    TF_CHECK(images[i].channels == 3, what << " has " << images[i].channels << " channels: RGB (3) is needed");
  }
  const int64_t out_height = do_resize ? height : images[0].height;
  const int64_t out_width = do_resize ? width : images[0].width;
  for (size_t i = 1; i < images.size() && !do_resize; ++i) {
    TF_CHECK(images[i].width == out_width && images[i].height == out_height,
             "ViTImageProcessor: image " << i << " is " << images[i].width << "x" << images[i].height
                                         << " and image 0 " << out_width << "x" << out_height
                                         << ": without do_resize, all images must have the same size");
  }
  // Each output value depends only on its byte and channel: 3 × 256 values, computed with
  // transformers' roundings (a double product rounded to float, then float subtraction and division).
  float values[3][256];
  for (int c = 0; c < 3; ++c) {
    const float mean = static_cast<float>(image_mean[c]), deviation = static_cast<float>(image_std[c]);
    for (int v = 0; v < 256; ++v) {
      float x = do_rescale ? static_cast<float>(double(v) * rescale_factor) : static_cast<float>(v);
      if (do_normalize) x = (x - mean) / deviation;
      values[c][v] = x;
    }
  }
  const int64_t plane = out_height * out_width;
  Tensor out = Tensor::empty(Shape{static_cast<int64_t>(images.size()), 3, out_height, out_width});
  float* dst = out.data<float>();
  for (const Image& image : images) {
    Image resized;
    if (do_resize) resized = resize(image, out_width, out_height, resample);
    const uint8_t* src = (do_resize ? resized : image).pixels.data();
    for (int64_t p = 0; p < plane; ++p) {
      for (int c = 0; c < 3; ++c) dst[c * plane + p] = values[c][src[p * 3 + c]];
    }
    dst += 3 * plane;
  }
  return out;
}

}  // namespace tformer::image
