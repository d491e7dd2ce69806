// Evaluating a sequence classifier on labelled, encoded examples.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tformer/models/bert.h"
#include "tformer/train/batching.h"
#include "tformer/train/metrics.h"

namespace tformer::train {

// The argmax label of each example, by batched forward passes of up to
// `batch_size` examples of similar length (sorted by length, so little
// padding; an example's logits do not depend on its batch).
std::vector<int32_t> predict_labels(const models::BertForSequenceClassification& model,
                                    const std::vector<EncodedExample>& examples, size_t batch_size,
                                    int32_t pad_id);

ClassificationMetrics evaluate(const models::BertForSequenceClassification& model,
                               const std::vector<EncodedExample>& examples, size_t batch_size,
                               int32_t pad_id);

}  // namespace tformer::train
