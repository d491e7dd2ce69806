// What happens to token ids after WordPiece: special tokens added around the
// sequences (tokenizers' TemplateProcessing), transformers' truncate_sequences
// and padding.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tformer/tokenizers/encoding.h"

namespace tformer::tokenizers {

// Tokens with their ids, before special tokens are added.
struct TokenSequence {
  std::vector<std::string> tokens;
  std::vector<int32_t> ids;
  size_t size() const { return ids.size(); }
  void truncate(size_t new_size) {
    tokens.resize(new_size);
    ids.resize(new_size);
  }
};

struct TemplatePiece {
  enum class Kind { FirstSequence, SecondSequence, SpecialToken };
  Kind kind;
  int32_t type_id = 0;
  std::string token;  // SpecialToken only
  int32_t id = -1;    // SpecialToken only
};

// BERT: single "[CLS] A [SEP]", pair "[CLS] A [SEP] B [SEP]" with type ids
// 0 up to the first [SEP] and 1 after.
struct PostProcessor {
  std::vector<TemplatePiece> single, pair;

  static PostProcessor bert(const std::string& cls_token, int32_t cls_id, const std::string& sep_token,
                            int32_t sep_id);
  size_t num_special_tokens(bool is_pair) const;
  // Without special tokens, every type id is 0 (as transformers' prepare_for_model).
  Encoding apply(const TokenSequence& first, const TokenSequence* second, bool add_special_tokens) const;
};

// transformers' truncate_sequences with stride 0 from the right: removes
// `tokens_to_remove` tokens. Like transformers, OnlyFirst / OnlySecond leave
// the sequences untouched (and the result longer than asked) when the chosen
// sequence is too short, and OnlySecond does nothing to a single sequence.
void truncate_sequences(TokenSequence& first, TokenSequence* second, size_t tokens_to_remove,
                        Truncation strategy);

// Appends padding up to `length` (nothing when already as long).
void pad_encoding(Encoding& encoding, size_t length, const std::string& pad_token, int32_t pad_id);

}  // namespace tformer::tokenizers
