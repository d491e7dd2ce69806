#include "tformer/train/evaluation.h"

#include <algorithm>
#include <numeric>

#include "tformer/core/error.h"

namespace tformer::train {

std::vector<int32_t> predict_labels(const models::BertForSequenceClassification& model,
                                    const std::vector<EncodedExample>& examples, size_t batch_size,
                                    int32_t pad_id) {
  TF_CHECK(batch_size > 0, "evaluation batch size must be at least 1");
  std::vector<size_t> order(examples.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return examples[a].input_ids.size() > examples[b].input_ids.size();
  });
  const int64_t num_labels = model.config().num_labels();
  std::vector<int32_t> predicted(examples.size());
  Batch batch;
  for (size_t start = 0; start < order.size(); start += batch_size) {
    const std::span<const size_t> indices(order.data() + start, std::min(batch_size, order.size() - start));
    collate(examples, indices, pad_id, batch);
    const Tensor logits = model.forward(batch.inputs());
    for (size_t row = 0; row < indices.size(); ++row) {
      const float* l = logits.data<float>() + row * num_labels;
      predicted[indices[row]] = static_cast<int32_t>(std::max_element(l, l + num_labels) - l);
    }
  }
  return predicted;
}

ClassificationMetrics evaluate(const models::BertForSequenceClassification& model,
                               const std::vector<EncodedExample>& examples, size_t batch_size,
                               int32_t pad_id) {
  std::vector<int32_t> truth(examples.size());
  std::transform(examples.begin(), examples.end(), truth.begin(),
                 [](const EncodedExample& e) { return e.label; });
  return classification_metrics(truth, predict_labels(model, examples, batch_size, pad_id),
                                model.config().num_labels());
}

}  // namespace tformer::train
