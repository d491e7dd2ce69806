// transformers' BasicTokenizer (plus the per-character lower-casing that
// PreTrainedTokenizer.tokenize applies first when do_lower_case is set):
// cleans the text, isolates CJK ideographs, splits on whitespace and
// punctuation, lower-cases and strips accents.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace tformer::tokenizers {

struct BasicTokenizerOptions {
  bool lowercase = true;
  // nullopt: strip accents exactly when lower-casing (original BERT).
  std::optional<bool> strip_accents;
  bool clean_text = true;
  bool handle_chinese_chars = true;
  // Slow (Python) BertTokenizer NFC-normalizes before splitting; the Rust
  // BertNormalizer of tokenizer.json does not.
  bool nfc_before_split = true;
  // Words (after whitespace splitting) kept whole: not lower-cased, not split.
  std::unordered_set<std::string> never_split;
};

class BasicTokenizer {
 public:
  explicit BasicTokenizer(BasicTokenizerOptions options);

  // `text` must be valid UTF-8 (see unicode::check_utf8). Appends the words.
  void tokenize(std::string_view text, std::vector<std::string>& words) const;
  bool is_never_split(std::string_view word) const;
  const BasicTokenizerOptions& options() const { return options_; }

 private:
  bool strips_accents() const;
  // Lower-cases (if asked), drops NUL/U+FFFD/controls, maps whitespace to
  // spaces and surrounds CJK ideographs with spaces.
  std::u32string clean(std::string_view text) const;
  // Lower-cases and strips accents one whitespace-separated word, then
  // splits it on punctuation.
  void process_word(std::u32string_view word, std::vector<std::string>& words) const;

  BasicTokenizerOptions options_;
};

}  // namespace tformer::tokenizers
