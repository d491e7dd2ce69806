#include "tformer/tokenizers/post_processing.h"

namespace tformer::tokenizers {

PostProcessor PostProcessor::bert(const std::string& cls_token, int32_t cls_id, const std::string& sep_token,
                                  int32_t sep_id) {
  using Kind = TemplatePiece::Kind;
  const TemplatePiece cls{Kind::SpecialToken, 0, cls_token, cls_id};
  const TemplatePiece sep{Kind::SpecialToken, 0, sep_token, sep_id};
  TemplatePiece second_sep = sep;
  second_sep.type_id = 1;
  PostProcessor processor;
  processor.single = {cls, {Kind::FirstSequence, 0, {}, -1}, sep};
  processor.pair = {cls, {Kind::FirstSequence, 0, {}, -1}, sep, {Kind::SecondSequence, 1, {}, -1}, second_sep};
  return processor;
}

size_t PostProcessor::num_special_tokens(bool is_pair) const {
  size_t count = 0;
  for (const auto& piece : is_pair ? pair : single) count += piece.kind == TemplatePiece::Kind::SpecialToken;
  return count;
}

namespace {
void append_sequence(Encoding& out, const TokenSequence& sequence, int32_t type_id) {
  out.tokens.insert(out.tokens.end(), sequence.tokens.begin(), sequence.tokens.end());
  out.input_ids.insert(out.input_ids.end(), sequence.ids.begin(), sequence.ids.end());
  out.token_type_ids.insert(out.token_type_ids.end(), sequence.size(), type_id);
}
}  // namespace

Encoding PostProcessor::apply(const TokenSequence& first, const TokenSequence* second,
                              bool add_special_tokens) const {
  Encoding out;
  if (!add_special_tokens) {
    append_sequence(out, first, 0);
    if (second) append_sequence(out, *second, 0);
  } else {
    for (const auto& piece : second ? pair : single) {
      switch (piece.kind) {
        case TemplatePiece::Kind::FirstSequence:
          append_sequence(out, first, piece.type_id);
          break;
        case TemplatePiece::Kind::SecondSequence:
          if (second) append_sequence(out, *second, piece.type_id);
          break;
        case TemplatePiece::Kind::SpecialToken:
          out.tokens.push_back(piece.token);
          out.input_ids.push_back(piece.id);
          out.token_type_ids.push_back(piece.type_id);
          break;
      }
    }
  }
  out.attention_mask.assign(out.input_ids.size(), 1);
  return out;
}

void truncate_sequences(TokenSequence& first, TokenSequence* second, size_t tokens_to_remove,
                        Truncation strategy) {
  if (tokens_to_remove == 0 || strategy == Truncation::None) return;
  if (strategy == Truncation::OnlyFirst || (strategy == Truncation::LongestFirst && second == nullptr)) {
    if (first.size() > tokens_to_remove) first.truncate(first.size() - tokens_to_remove);
  } else if (strategy == Truncation::LongestFirst) {
    // One token at a time from the longer sequence; the second when equal.
    for (size_t removed = 0; removed < tokens_to_remove; ++removed) {
      if (first.size() > second->size()) {
        first.truncate(first.size() - 1);
      } else if (second->size() > 0) {
        second->truncate(second->size() - 1);
      }
    }
  } else if (strategy == Truncation::OnlySecond && second != nullptr) {
    if (second->size() > tokens_to_remove) second->truncate(second->size() - tokens_to_remove);
  }
}

void pad_encoding(Encoding& encoding, size_t length, const std::string& pad_token, int32_t pad_id) {
  if (encoding.size() >= length) return;
  encoding.tokens.resize(length, pad_token);
  encoding.input_ids.resize(length, pad_id);
  encoding.token_type_ids.resize(length, 0);
  encoding.attention_mask.resize(length, 0);
}

}  // namespace tformer::tokenizers
