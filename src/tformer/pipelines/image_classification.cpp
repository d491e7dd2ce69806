#include "tformer/pipelines/image_classification.h"

#include <algorithm>
#include <numeric>

#include "tformer/core/error.h"
#include "tformer/image/decode.h"
#include "tformer/pipelines/text_classification.h"

namespace tformer::pipelines {

void for_each_image_batch(const std::vector<std::filesystem::path>& paths, size_t batch_size,
                          const image::ViTImageProcessor& processor,
                          const std::function<void(size_t, const Tensor&)>& run, const ImageProgress& progress) {
  TF_CHECK(batch_size > 0, "batch size must be at least 1");
  std::vector<image::Image> batch;
  for (size_t first = 0; first < paths.size(); first += batch_size) {
    const size_t end = std::min(paths.size(), first + batch_size);
    batch.clear();
    for (size_t i = first; i < end; ++i) batch.push_back(image::load_image(paths[i]));
    run(first, processor.preprocess(batch));
    if (progress) progress(end, paths.size());
  }
}

ImageClassificationPipeline ImageClassificationPipeline::from_pretrained(const std::filesystem::path& dir) {
  return {image::ViTImageProcessor::from_file(dir / "preprocessor_config.json"),
          models::ViTForImageClassification::from_pretrained(dir)};
}

std::vector<ImageClassification> ImageClassificationPipeline::operator()(
    const std::vector<std::filesystem::path>& images, int64_t top_k, size_t batch_size,
    const ImageProgress& progress) const {
  const std::vector<std::string>& labels = model_.config().id2label;
  const int64_t n = static_cast<int64_t>(labels.size()), k = std::clamp<int64_t>(top_k, 1, n);
  std::vector<ImageClassification> out(images.size());
  for_each_image_batch(
      images, batch_size, processor_,
      [&](size_t first, const Tensor& pixels) {
        const Tensor logits = model_.forward(pixels);
        for (int64_t b = 0; b < logits.dim(0); ++b) {
          const float* row = logits.data<float>() + b * n;
          const std::vector<float> probs = softmax_probabilities(row, n);
          std::vector<int64_t> order(static_cast<size_t>(n));
          std::iota(order.begin(), order.end(), int64_t(0));
          // Highest first; ties keep the lower label id first, as torch.topk on CPU does.
          std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) { return probs[x] > probs[y]; });
          ImageClassification& r = out[first + static_cast<size_t>(b)];
          r.logits.assign(row, row + n);
          for (int64_t i = 0; i < k; ++i) r.top_k.emplace_back(labels[order[i]], probs[order[i]]);
          r.label = r.top_k[0].first;
          r.score = r.top_k[0].second;
        }
      },
      progress);
  return out;
}

ImageFeaturesPipeline ImageFeaturesPipeline::from_pretrained(const std::filesystem::path& dir) {
  return {image::ViTImageProcessor::from_file(dir / "preprocessor_config.json"),
          models::ViTModel::from_pretrained(dir)};
}

std::vector<ImageFeatures> ImageFeaturesPipeline::operator()(const std::vector<std::filesystem::path>& images,
                                                             size_t batch_size, const ImageProgress& progress) const {
  std::vector<ImageFeatures> out(images.size());
  for_each_image_batch(
      images, batch_size, processor_,
      [&](size_t first, const Tensor& pixels) {
        const Tensor hidden = model_.forward(pixels);
        const int64_t seq = hidden.dim(1), h = hidden.dim(2);
        for (int64_t b = 0; b < hidden.dim(0); ++b) {
          const float* rows = hidden.data<float>() + b * seq * h;
          ImageFeatures& f = out[first + static_cast<size_t>(b)];
          f.cls.assign(rows, rows + h);
          std::vector<double> sum(static_cast<size_t>(h), 0.0);
          for (int64_t s = 1; s < seq; ++s)
            for (int64_t c = 0; c < h; ++c) sum[c] += rows[s * h + c];
          for (double v : sum) f.mean.push_back(static_cast<float>(v / static_cast<double>(seq - 1)));
        }
      },
      progress);
  return out;
}

}  // namespace tformer::pipelines
