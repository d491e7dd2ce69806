#include "tformer/pipelines/masked_image_generation.h"

#include <algorithm>
#include <cmath>

#include "tformer/core/error.h"

namespace tformer::pipelines {

MaskedImageGenerationPipeline MaskedImageGenerationPipeline::from_pretrained(const std::filesystem::path& dir) {
  image::ViTImageProcessor processor = image::ViTImageProcessor::from_file(dir / "preprocessor_config.json");
  models::ViTMAEForPreTraining model = models::ViTMAEForPreTraining::from_pretrained(dir);
  const int64_t side = model.config().encoder.image_size;
  TF_CHECK(processor.do_resize && processor.height == side && processor.width == side,
           dir.string() << "/preprocessor_config.json: images must be resized to the model's " << side << " × "
                        << side << " (config.json image_size)");
  return {std::move(processor), std::move(model)};
}

image::Image MaskedImageGenerationPipeline::to_image(const float* chw, int64_t side) const {
  image::Image img(side, side, 3);
  for (int c = 0; c < 3; ++c)
    for (int64_t i = 0; i < side * side; ++i) {
      double v = chw[c * side * side + i];
      if (processor_.do_normalize) v = v * processor_.image_std[c] + processor_.image_mean[c];
      if (processor_.do_rescale) v /= processor_.rescale_factor;
      img.pixels[static_cast<size_t>(i * 3 + c)] = static_cast<uint8_t>(std::clamp(std::lround(v), 0l, 255l));
    }
  return img;
}

MaskedImageGeneration MaskedImageGenerationPipeline::operator()(const image::Image& input, const Tensor& noise) const {
  MaskedImageGeneration g;
  g.pixel_values = processor_.preprocess({input});
  g.noise = noise;
  const models::ViTMAEOutput out = model_.forward(g.pixel_values, noise);
  g.mask = out.mask.contiguous();
  g.ids_restore = out.ids_restore.contiguous();
  g.logits = out.logits.contiguous();
  g.loss = out.loss;
  g.reconstruction_values = model_.unpatchify(g.logits);

  // The panels, composed patch by patch in pixel_values' space. A
  // norm_pix_loss model predicts each patch normalised: it is shown with the
  // original patch's mean and spread, as the MAE paper's figures are.
  const Tensor target = model_.patchify(g.pixel_values);
  const int64_t n = target.dim(1), values = target.dim(2);
  Tensor shown = g.logits.clone(), masked = target.clone(), pasted = target.clone();
  for (int64_t p = 0; p < n; ++p) {
    const float* t = target.data<float>() + p * values;
    float* s = shown.data<float>() + p * values;
    if (model_.config().norm_pix_loss) {
      double sum = 0, squares = 0;
      for (int64_t k = 0; k < values; ++k) sum += t[k];
      const double mean = sum / values;
      for (int64_t k = 0; k < values; ++k) squares += (t[k] - mean) * (t[k] - mean);
      const double spread = std::sqrt(squares / (values - 1) + 1e-6);
      for (int64_t k = 0; k < values; ++k) s[k] = static_cast<float>(s[k] * spread + mean);
    }
    if (g.mask.data<float>()[p] != 0.0f)
      for (int64_t k = 0; k < values; ++k) {
        masked.data<float>()[p * values + k] = 0.0f;  // the normalised mean colour, as MAE's demo blanks it
        pasted.data<float>()[p * values + k] = s[k];
      }
  }
  const int64_t side = model_.config().encoder.image_size;
  auto panel = [&](const Tensor& patches) { return to_image(model_.unpatchify(patches).data<float>(), side); };
  g.original = to_image(g.pixel_values.data<float>(), side);
  g.masked = panel(masked);
  g.reconstruction = panel(shown);
  g.pasted = panel(pasted);
  return g;
}

image::Image side_by_side(const std::vector<const image::Image*>& panels, int64_t scale, int64_t gap) {
  TF_CHECK(!panels.empty() && scale >= 1 && gap >= 0, "side_by_side: no panels, or a bad scale or gap");
  const int64_t w = panels[0]->width, h = panels[0]->height, count = static_cast<int64_t>(panels.size());
  image::Image out(count * w * scale + (count - 1) * gap, h * scale, 3);
  std::fill(out.pixels.begin(), out.pixels.end(), uint8_t(255));
  for (int64_t i = 0; i < count; ++i) {
    const image::Image& p = *panels[static_cast<size_t>(i)];
    TF_CHECK(p.width == w && p.height == h && p.channels == 3, "side_by_side: panels differ in size or channels");
    const int64_t left = i * (w * scale + gap);
    for (int64_t y = 0; y < h * scale; ++y)
      for (int64_t x = 0; x < w * scale; ++x)
        for (int c = 0; c < 3; ++c) out.at(left + x, y, c) = p.at(x / scale, y / scale, c);
  }
  return out;
}

}  // namespace tformer::pipelines
