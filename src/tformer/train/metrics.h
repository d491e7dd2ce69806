// Classification metrics from predicted and true labels.
#pragma once
#include <cstdint>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace tformer::train {

struct ClassificationMetrics {
  int64_t n = 0;
  double accuracy = 0;
  // Mean F1 over the classes that occur among the true or the predicted
  // labels (scikit-learn's f1_score(average="macro") with its default
  // labels); a class never predicted correctly scores 0.
  double macro_f1 = 0;
  // confusion[t][p]: examples of true label t predicted as p; num_labels².
  std::vector<std::vector<int64_t>> confusion;

  // {"accuracy", "macro_f1", "confusion", "n"}.
  nlohmann::json to_json() const;
};

// `truth` and `predicted` are parallel, every label in [0, num_labels).
ClassificationMetrics classification_metrics(const std::vector<int32_t>& truth,
                                             const std::vector<int32_t>& predicted,
                                             int64_t num_labels);

}  // namespace tformer::train
