// The result of encoding text for a BERT-style model, and the options that
// shape it (truncation, padding, special tokens), named after transformers'.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tformer::tokenizers {

struct Encoding {
  std::vector<std::string> tokens;  // includes [CLS]/[SEP]/[PAD] when added
  std::vector<int32_t> input_ids, token_type_ids, attention_mask;

  size_t size() const { return input_ids.size(); }
};

// As transformers' TruncationStrategy. None never truncates (transformers'
// truncation=False), even when max_length is set.
enum class Truncation { None, LongestFirst, OnlyFirst, OnlySecond };

// As transformers' PaddingStrategy: Longest pads to the longest encoding of a
// batch (a no-op for one text), MaxLength pads to max_length.
enum class Padding { None, Longest, MaxLength };

struct EncodeOptions {
  // Counts the special tokens. When truncation or MaxLength padding is asked
  // for without it, the tokenizer's model_max_length is used.
  std::optional<size_t> max_length;
  Truncation truncation = Truncation::None;
  Padding padding = Padding::None;
  bool add_special_tokens = true;
};

}  // namespace tformer::tokenizers
