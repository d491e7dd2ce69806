// BertTokenizer: Hugging Face's BERT WordPiece tokenizer (transformers'
// BertTokenizer), loaded from vocab.txt (+ tokenizer_config.json) or from a
// tokenizers tokenizer.json. Immutable after loading; safe to share between
// threads.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "tformer/tokenizers/added_tokens.h"
#include "tformer/tokenizers/basic_tokenizer.h"
#include "tformer/tokenizers/encoding.h"
#include "tformer/tokenizers/post_processing.h"
#include "tformer/tokenizers/tokenizer_config.h"
#include "tformer/tokenizers/vocab.h"
#include "tformer/tokenizers/wordpiece.h"

namespace tformer::tokenizers {

class BertTokenizer {
 public:
  // A model directory: vocab.txt (+ optional tokenizer_config.json and
  // special_tokens_map.json) as transformers' BertTokenizer reads it, or,
  // without vocab.txt, tokenizer.json (its model_max_length still taken from
  // tokenizer_config.json when present).
  static BertTokenizer from_pretrained(const std::filesystem::path& dir);
  static BertTokenizer from_vocab_file(const std::filesystem::path& vocab_txt, const BertTokenizerConfig& cfg);
  static BertTokenizer from_tokenizer_json(const std::filesystem::path& tokenizer_json);

  // All text arguments must be valid UTF-8; otherwise tformer::Error
  // "invalid UTF-8 at byte N: ...".

  // Basic tokenizer + WordPiece, without special tokens.
  std::vector<std::string> tokenize(std::string_view text) const;
  Encoding encode(std::string_view text, const EncodeOptions& opt = {}) const;
  Encoding encode_pair(std::string_view text, std::string_view pair, const EncodeOptions& opt = {}) const;
  // `pairs` is empty or as long as `texts`. Padding::Longest pads every
  // encoding to the longest of the batch.
  std::vector<Encoding> encode_batch(const std::vector<std::string>& texts, const std::vector<std::string>& pairs,
                                     const EncodeOptions& opt) const;

  // Tokens joined by spaces, "##" continuations glued, then (optionally)
  // transformers' clean_up_tokenization. Unknown ids decode as the unk token.
  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens = false,
                     bool clean_up_tokenization_spaces = true) const;

  int32_t token_to_id(std::string_view token) const;  // -1 if absent
  const std::string& id_to_token(int32_t id) const;   // Error if no such id
  // Distinct tokens, added tokens included (transformers' len(tokenizer)).
  size_t vocab_size() const { return vocab_->size(); }
  int32_t pad_token_id() const { return pad_id_; }
  int32_t unk_token_id() const { return unk_id_; }
  bool is_special_id(int32_t id) const { return special_ids_.count(id) > 0; }
  // From tokenizer_config.json, 512 when absent; kNoModelMaxLength when the
  // model declares no limit.
  size_t model_max_length() const { return model_max_length_; }

 private:
  BertTokenizer() = default;
  // Registers an added (or special) token: kept whole when found in text.
  void add_token(const std::string& token, std::optional<int32_t> id, bool special, const std::string& where);
  TokenSequence to_sequence(std::string_view text) const;
  // Encodes without MaxLength padding or Longest padding, which the callers apply.
  Encoding encode_unpadded(std::string_view text, const std::string_view* pair, const EncodeOptions& opt) const;
  std::optional<size_t> effective_max_length(const EncodeOptions& opt) const;

  std::shared_ptr<Vocab> vocab_;
  BasicTokenizer basic_{BasicTokenizerOptions{}};
  std::shared_ptr<const WordPiece> wordpiece_;
  AddedTokenSplitter added_tokens_;
  std::unordered_set<int32_t> special_ids_;
  std::unordered_set<std::string> non_special_added_tokens_;
  PostProcessor post_processor_;
  std::string unk_token_, pad_token_;
  int32_t unk_id_ = -1, pad_id_ = -1;
  size_t model_max_length_ = 512;
};

}  // namespace tformer::tokenizers
