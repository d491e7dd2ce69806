#include "tformer/pipelines/text_classification.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace tformer::pipelines {

TextClassificationPipeline TextClassificationPipeline::from_pretrained(
    const std::filesystem::path& dir) {
  auto tok = tokenizers::BertTokenizer::from_pretrained(dir);
  auto model = models::BertForSequenceClassification::from_pretrained(dir);
  TF_CHECK(tok.vocab_size() <= static_cast<size_t>(model.config().vocab_size),
           dir.string() << ": the tokenizer's vocabulary (" << tok.vocab_size()
                        << " tokens) is larger than the model's vocab_size "
                        << model.config().vocab_size);
  return TextClassificationPipeline(std::move(tok), std::move(model));
}

std::vector<float> softmax_probabilities(const float* logits, int64_t n) {
  double mx = *std::max_element(logits, logits + n), sum = 0.0;
  std::vector<double> e(n);
  for (int64_t i = 0; i < n; ++i) sum += e[i] = std::exp(static_cast<double>(logits[i]) - mx);
  std::vector<float> p(n);
  for (int64_t i = 0; i < n; ++i) p[i] = static_cast<float>(e[i] / sum);
  return p;
}

std::vector<Classification> TextClassificationPipeline::operator()(
    const std::vector<std::string>& texts, const ClassificationOptions& options,
    const std::function<void(size_t, size_t)>& progress) const {
  TF_CHECK(options.batch_size > 0, "batch size must be at least 1");
  tokenizers::EncodeOptions enc;
  // By default the tokenizer's limit, capped by the model's positions (a
  // tokenizer_config.json may promise more than the model can take).
  const size_t positions = static_cast<size_t>(model_.config().max_position_embeddings);
  enc.max_length = options.max_length.value_or(std::min(tokenizer_.model_max_length(), positions));
  enc.truncation = tokenizers::Truncation::LongestFirst;
  TF_CHECK(*enc.max_length >= 2, "max_length " << *enc.max_length
                                              << " leaves no room for [CLS] and [SEP]");
  TF_CHECK(*enc.max_length <= static_cast<size_t>(model_.config().max_position_embeddings),
           "max_length " << *enc.max_length << " exceeds the model's max_position_embeddings "
                         << model_.config().max_position_embeddings);

  std::vector<tokenizers::Encoding> encodings;
  encodings.reserve(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    try {
      encodings.push_back(tokenizer_.encode(texts[i], enc));
    } catch (const Error& e) {
      TF_FAIL(options.input_name << " " << i + 1 << ": " << e.what());
    }
  }

  // Longest first, so that each batch holds texts of similar length.
  std::vector<size_t> order(texts.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return encodings[a].input_ids.size() > encodings[b].input_ids.size();
  });

  const int64_t labels = model_.config().num_labels();
  std::vector<Classification> results(texts.size());
  std::vector<int32_t> ids, types, mask;
  for (size_t start = 0; start < order.size(); start += options.batch_size) {
    const size_t count = std::min(options.batch_size, order.size() - start);
    const int64_t seq = static_cast<int64_t>(encodings[order[start]].input_ids.size());
    ids.assign(count * seq, tokenizer_.pad_token_id());
    types.assign(count * seq, 0);
    mask.assign(count * seq, 0);
    for (size_t i = 0; i < count; ++i) {
      const tokenizers::Encoding& e = encodings[order[start + i]];
      std::copy(e.input_ids.begin(), e.input_ids.end(), ids.begin() + i * seq);
      std::copy(e.token_type_ids.begin(), e.token_type_ids.end(), types.begin() + i * seq);
      std::copy(e.attention_mask.begin(), e.attention_mask.end(), mask.begin() + i * seq);
    }
    models::BertInputs in{static_cast<int64_t>(count), seq, ids.data(), types.data(), mask.data()};
    Tensor logits = model_.forward(in);
    for (size_t i = 0; i < count; ++i) {
      const float* row = logits.data<float>() + i * labels;
      Classification& r = results[order[start + i]];
      r.logits.assign(row, row + labels);
      r.probabilities = softmax_probabilities(row, labels);
      r.label_id = static_cast<int32_t>(std::max_element(row, row + labels) - row);
      r.label = model_.config().id2label[r.label_id];
      r.score = r.probabilities[r.label_id];
    }
    if (progress) progress(start + count, texts.size());
  }
  return results;
}

}  // namespace tformer::pipelines
