#include "tformer/train/metrics.h"

#include <nlohmann/json.hpp>

#include "tformer/core/error.h"

namespace tformer::train {

nlohmann::json ClassificationMetrics::to_json() const {
  return {{"accuracy", accuracy}, {"macro_f1", macro_f1}, {"confusion", confusion}, {"n", n}};
}

ClassificationMetrics classification_metrics(const std::vector<int32_t>& truth,
                                             const std::vector<int32_t>& predicted,
                                             int64_t num_labels) {
  TF_CHECK(truth.size() == predicted.size(),
           truth.size() << " true labels but " << predicted.size() << " predictions");
  ClassificationMetrics m;
  m.n = static_cast<int64_t>(truth.size());
  m.confusion.assign(num_labels, std::vector<int64_t>(num_labels, 0));
  int64_t correct = 0;
  for (size_t i = 0; i < truth.size(); ++i) {
    TF_CHECK(truth[i] >= 0 && truth[i] < num_labels && predicted[i] >= 0 && predicted[i] < num_labels,
             "example " << i << ": label outside [0, " << num_labels << ")");
    ++m.confusion[truth[i]][predicted[i]];
    correct += truth[i] == predicted[i];
  }
  m.accuracy = m.n ? double(correct) / double(m.n) : 0.0;

  double f1_sum = 0;
  int64_t classes = 0;
  for (int64_t c = 0; c < num_labels; ++c) {
    int64_t true_count = 0, predicted_count = 0;
    for (int64_t k = 0; k < num_labels; ++k) {
      true_count += m.confusion[c][k];
      predicted_count += m.confusion[k][c];
    }
    if (true_count == 0 && predicted_count == 0) continue;
    ++classes;
    // F1 = 2·TP / (2·TP + FP + FN) = 2·TP / (true + predicted).
    f1_sum += 2.0 * double(m.confusion[c][c]) / double(true_count + predicted_count);
  }
  m.macro_f1 = classes ? f1_sum / double(classes) : 0.0;
  return m;
}

}  // namespace tformer::train
