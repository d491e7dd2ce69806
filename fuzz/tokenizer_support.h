// What the tokenizer targets do with a tokenizer once loaded: what
// `tformer tokenize`, `classify` and training do with it.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.h"
#include "tformer/tokenizers/bert_tokenizer.h"

namespace tformer_fuzz {

// A text with what BERT's basic tokenizer treats specially: accents, CJK,
// punctuation, an emoji, a special token, a control character, a long word.
inline constexpr std::string_view kText =
    "Hello, WORLD! H\u00e9llo na\u00efve caf\u00e9 \u6771\u4eac\u90fd unaffable [MASK] \U0001F642 don't\x01 "
    "antidisestablishmentarianism";
inline constexpr std::string_view kPair = "\u00bfQu\u00e9 tal? [SEP] [UNK] ##ing";

inline void check_encoding(const tformer::tokenizers::Encoding& e) {
  const size_t n = e.input_ids.size();
  if (e.tokens.size() != n || e.token_type_ids.size() != n || e.attention_mask.size() != n)
    die("Encoding's tokens, input_ids, token_type_ids and attention_mask differ in length");
}

// Tokenizes and encodes `text` (alone, as a pair with `pair`, in a batch),
// then decodes the ids; every encoding checked for consistent lengths.
inline void exercise(const tformer::tokenizers::BertTokenizer& tokenizer, std::string_view text,
                     std::string_view pair) {
  using namespace tformer::tokenizers;
  (void)tokenizer.tokenize(text);
  const Encoding single = tokenizer.encode(text);
  check_encoding(single);
  (void)tokenizer.decode(single.input_ids);
  (void)tokenizer.decode(single.input_ids, /*skip_special_tokens=*/true, /*clean_up=*/false);

  EncodeOptions truncated;
  truncated.max_length = 12;
  truncated.truncation = Truncation::LongestFirst;
  truncated.padding = Padding::MaxLength;
  const Encoding both = tokenizer.encode_pair(text, pair, truncated);
  check_encoding(both);
  (void)tokenizer.decode(both.input_ids, /*skip_special_tokens=*/true);

  EncodeOptions longest;
  longest.padding = Padding::Longest;
  for (const Encoding& e : tokenizer.encode_batch({std::string(text), std::string(pair)}, {}, longest))
    check_encoding(e);
}

// The tokenizer targets' one step: the input written into `dir` as `name`,
// the directory's tokenizer loaded as from_pretrained does, then exercised.
inline void load_and_exercise(const TempDir& dir, const char* name, const uint8_t* data, size_t size) {
  dir.write(name, data, size);
  expect_only_tformer_errors(
      [&] { exercise(tformer::tokenizers::BertTokenizer::from_pretrained(dir.path()), kText, kPair); });
}

}  // namespace tformer_fuzz
