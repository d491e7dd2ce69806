// Text classification: texts in, label / probabilities / logits out, as
// transformers' pipeline("text-classification") with a BertTokenizer and a
// BertForSequenceClassification loaded from one model directory.
//
// Texts are batched by token length (sorted, so a batch pads little) and the
// results are returned in the input order; a text's result does not depend on
// the batch it ran in.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tformer/models/bert.h"
#include "tformer/tokenizers/bert_tokenizer.h"

namespace tformer::pipelines {

struct Classification {
  int32_t label_id = 0;
  std::string label;
  float score = 0.0f;  // probability of the label
  std::vector<float> logits;
  std::vector<float> probabilities;
};

struct ClassificationOptions {
  size_t batch_size = 8;
  // Default: the tokenizer's model_max_length, capped at max_position_embeddings.
  std::optional<size_t> max_length;
  // How errors name an input: "<input_name> <1-based index>: <reason>".
  std::string input_name = "text";
};

class TextClassificationPipeline {
 public:
  static TextClassificationPipeline from_pretrained(const std::filesystem::path& dir);

  // Optional `progress(done, total)` is called after each batch.
  std::vector<Classification> operator()(
      const std::vector<std::string>& texts, const ClassificationOptions& options = {},
      const std::function<void(size_t, size_t)>& progress = nullptr) const;

  const tokenizers::BertTokenizer& tokenizer() const { return tokenizer_; }
  const models::BertForSequenceClassification& model() const { return model_; }
  // See BertModel::set_weight_format (kernels::GemmFormat::BF16 for bf16).
  void set_weight_format(kernels::GemmFormat format) { model_.set_weight_format(format); }

 private:
  TextClassificationPipeline(tokenizers::BertTokenizer tok, models::BertForSequenceClassification m)
      : tokenizer_(std::move(tok)), model_(std::move(m)) {}
  tokenizers::BertTokenizer tokenizer_;
  models::BertForSequenceClassification model_;
};

// Softmax of one row of logits, in double for stable probabilities.
std::vector<float> softmax_probabilities(const float* logits, int64_t n);

}  // namespace tformer::pipelines
