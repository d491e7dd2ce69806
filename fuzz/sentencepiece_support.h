// What the SentencePiece targets do with a tokenizer once loaded: what
// generation does with it (encode a prompt, decode ids, stream token bytes).
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.h"
#include "tformer/tokenizers/sentencepiece_tokenizer.h"
#include "tformer/tokenizers/unicode.h"

namespace tformer_fuzz {

// Text with what the SentencePiece normalizer and BPE treat specially: runs
// of spaces, a leading space, a newline, digits, accents, CJK and an emoji
// (byte pieces in Llama's vocabulary), special tokens written in the text.
inline constexpr std::string_view kSentencePieceText =
    "  Once upon a  time,\tna\u00efve caf\u00e9 \u6771\u4eac 1234 \U0001F642</s><s> <unk>end. \u2581x ";

inline void check_utf8_output(std::string_view text, const char* what) {
  if (tformer::tokenizers::unicode::find_invalid_utf8(text)) die(std::string(what) + " produced invalid UTF-8");
}

// Encodes `text` with and without BOS/EOS, decodes the ids both ways and
// streams their bytes through StreamDecoder; every output must be valid UTF-8.
inline void exercise(const tformer::tokenizers::SentencePieceTokenizer& tokenizer, std::string_view text) {
  using namespace tformer::tokenizers;
  (void)tokenizer.encode(text, /*add_special_tokens=*/false);
  const Encoding e = tokenizer.encode(text);
  const size_t n = e.input_ids.size();
  if (e.tokens.size() != n || e.token_type_ids.size() != n || e.attention_mask.size() != n)
    die("Encoding's tokens, input_ids, token_type_ids and attention_mask differ in length");
  for (int32_t id : e.input_ids)
    if (id < 0 || static_cast<size_t>(id) >= tokenizer.vocab_size()) die("encode gave an id outside the vocabulary");
  check_utf8_output(tokenizer.decode(e.input_ids), "decode");
  check_utf8_output(tokenizer.decode(e.input_ids, /*skip_special_tokens=*/true), "decode(skip_special_tokens)");
  StreamDecoder stream;
  std::string streamed;
  for (int32_t id : e.input_ids) streamed += stream.push(tokenizer.token_bytes(id));
  streamed += stream.finish();
  check_utf8_output(streamed, "StreamDecoder");
}

}  // namespace tformer_fuzz
