// Unicode helpers for the tokenizers: strict UTF-8 decoding, the character
// classes BERT's BasicTokenizer and GPT-2's pre-tokenizer use (Python's
// unicodedata and `regex` semantics, backed by utf8proc's tables),
// Python-compatible lower-casing and normalization.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tformer::tokenizers::unicode {

// Byte offset of the first byte that starts an invalid UTF-8 sequence (lone
// continuation byte, truncated sequence, overlong form, surrogate, > U+10FFFF),
// or nullopt when `text` is valid.
std::optional<size_t> find_invalid_utf8(std::string_view text);

// Throws tformer::Error "invalid UTF-8 at byte N: <reason>" unless valid.
void check_utf8(std::string_view text);

// Decodes valid UTF-8 (check it first) into codepoints.
std::u32string decode_utf8(std::string_view text);
// Decodes the character of valid UTF-8 `text` that starts at byte `pos` and
// advances `pos` past it.
char32_t decode_utf8_at(std::string_view text, size_t& pos);
// Any bytes as Python's bytes.decode("utf-8", errors="replace"): each maximal
// invalid subsequence (a stray byte, or the valid start of a character cut
// short) becomes one U+FFFD.
std::string decode_utf8_replacing(std::string_view bytes);
void append_utf8(std::string& out, char32_t cp);
std::string encode_utf8(std::u32string_view text);

bool is_ascii(std::u32string_view text);

// transformers' _is_whitespace: space, \t, \n, \r and category Zs.
bool is_bert_whitespace(char32_t cp);
// transformers' _is_control: any category C* except \t, \n, \r.
bool is_bert_control(char32_t cp);
// transformers' _is_punctuation: ASCII 33-47, 58-64, 91-96, 123-126 and P*.
bool is_bert_punctuation(char32_t cp);
// BasicTokenizer._is_chinese_char: the CJK Unified Ideograph blocks.
bool is_cjk_ideograph(char32_t cp);
// Python's str.isspace(), which str.split() (whitespace_tokenize) splits on.
bool is_python_space(char32_t cp);
bool is_nonspacing_mark(char32_t cp);  // category Mn
// Python `regex`'s \p{L} (categories L*), \p{N} (N*) and \s (the White_Space
// property, which unlike str.isspace() excludes U+001C..U+001F).
bool is_letter(char32_t cp);
bool is_number(char32_t cp);
bool is_white_space(char32_t cp);

// Appends Python's str.lower() of one character (the full mapping: U+0130
// becomes "i" + U+0307). Applied character by character, as transformers
// does, so there is no final-sigma context rule.
void append_lower(std::u32string& out, char32_t cp);

std::u32string nfd(std::u32string_view text);
std::u32string nfc(std::u32string_view text);

}  // namespace tformer::tokenizers::unicode
