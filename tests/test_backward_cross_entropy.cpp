// cross_entropy against a double reference and its finite differences,
// ignore_index, in-place gradients, errors, and a vocabulary-sized run.
#include <gtest/gtest.h>

#include "backward_check.h"
#include "tformer/core/error.h"
#include "tformer/kernels/cross_entropy.h"

using namespace tformer::kernels;
using namespace tformer::testing;

namespace {
// Mean over non-ignored rows of logsumexp − logit[label], in double.
double cross_entropy_ref(const std::vector<double>& logits, const std::vector<int32_t>& labels, int64_t classes) {
  double total = 0;
  int count = 0;
  for (size_t r = 0; r < labels.size(); ++r) {
    if (labels[r] == kIgnoreIndex) continue;
    const double* x = logits.data() + r * classes;
    const double mx = *std::max_element(x, x + classes);
    double sum = 0;
    for (int64_t j = 0; j < classes; ++j) sum += std::exp(x[j] - mx);
    total += mx + std::log(sum) - x[labels[r]];
    ++count;
  }
  return total / count;
}
}  // namespace

TEST(BackwardCrossEntropy, MatchesReferenceAndFiniteDifferencesWithIgnoredRows) {
  const int64_t classes = 11;
  const std::vector<int32_t> labels = {3, kIgnoreIndex, 0, 10, kIgnoreIndex, 7};
  const auto logits = random_floats(labels.size() * classes, 1, -4.0f, 4.0f);
  std::vector<float> dlogits(logits.size(), NAN);
  const float loss = cross_entropy(logits.data(), labels.data(), 6, classes, dlogits.data());
  EXPECT_NEAR(loss, cross_entropy_ref(to_double(logits), labels, classes), 1e-6);
  const auto numeric = numeric_gradient(
      [&](const std::vector<double>& x) { return cross_entropy_ref(x, labels, classes); }, to_double(logits));
  expect_gradient(dlogits, numeric, 2e-6, "dlogits");
  for (int64_t j = 0; j < classes; ++j) EXPECT_EQ(dlogits[1 * classes + j], 0.0f) << "ignored row";
}

TEST(BackwardCrossEntropy, GradientMayOverwriteLogitsAndIsOptional) {
  const int64_t rows = 4, classes = 5;
  const std::vector<int32_t> labels = {4, 0, kIgnoreIndex, 2};
  auto logits = random_floats(rows * classes, 2, -3.0f, 3.0f);
  std::vector<float> dlogits(logits.size());
  const float loss = cross_entropy(logits.data(), labels.data(), rows, classes, dlogits.data());
  EXPECT_EQ(cross_entropy(logits.data(), labels.data(), rows, classes, nullptr), loss);
  EXPECT_EQ(cross_entropy(logits.data(), labels.data(), rows, classes, logits.data()), loss);
  EXPECT_EQ(logits, dlogits);
}

TEST(BackwardCrossEntropy, AllIgnoredIsNanLossAndZeroGradientAsTorch) {
  const std::vector<int32_t> labels = {kIgnoreIndex, kIgnoreIndex};
  const auto logits = random_floats(6, 3);
  std::vector<float> dlogits(6, NAN);
  EXPECT_TRUE(std::isnan(cross_entropy(logits.data(), labels.data(), 2, 3, dlogits.data())));
  EXPECT_EQ(dlogits, std::vector<float>(6, 0.0f));
}

TEST(BackwardCrossEntropy, LabelOutOfRangeIsAnErrorBeforeWriting) {
  const std::vector<int32_t> labels = {1, 3};
  const auto logits = random_floats(6, 4);
  std::vector<float> dlogits(6, 7.0f);
  EXPECT_THROW(cross_entropy(logits.data(), labels.data(), 2, 3, dlogits.data()), tformer::Error);
  EXPECT_EQ(dlogits, std::vector<float>(6, 7.0f));
}

TEST(BackwardCrossEntropy, VocabularySizedRowsAreThreadInvariantAndAccurate) {
  // Masked-LM shape: BERT's 30522-word vocabulary, most rows ignored.
  const int64_t rows = 24, classes = 30522;
  std::vector<int32_t> labels(rows, kIgnoreIndex);
  for (int64_t r = 0; r < rows; r += 3) labels[r] = static_cast<int32_t>((r * 7919) % classes);
  const auto logits = random_floats(rows * classes, 5, -8.0f, 8.0f);
  float loss = 0;
  expect_thread_invariant(
      [&] {
        std::vector<float> dlogits(logits.size());
        loss = cross_entropy(logits.data(), labels.data(), rows, classes, dlogits.data());
        return std::make_pair(loss, dlogits);
      },
      "cross_entropy");
  EXPECT_NEAR(loss, cross_entropy_ref(to_double(logits), labels, classes), 1e-5);
}
