#include "tformer/tokenizers/basic_tokenizer.h"

#include <utility>

#include "tformer/tokenizers/unicode.h"

namespace tformer::tokenizers {

BasicTokenizer::BasicTokenizer(BasicTokenizerOptions options) : options_(std::move(options)) {}

bool BasicTokenizer::strips_accents() const {
  return options_.strip_accents.value_or(options_.lowercase);
}

bool BasicTokenizer::is_never_split(std::string_view word) const {
  return !options_.never_split.empty() && options_.never_split.count(std::string(word)) > 0;
}

std::u32string BasicTokenizer::clean(std::string_view text) const {
  const std::u32string decoded = unicode::decode_utf8(text);
  std::u32string lowered;
  if (options_.lowercase) {
    lowered.reserve(decoded.size());
    for (char32_t cp : decoded) unicode::append_lower(lowered, cp);
  }
  const std::u32string& source = options_.lowercase ? lowered : decoded;

  std::u32string out;
  out.reserve(source.size());
  for (char32_t cp : source) {
    if (options_.clean_text) {
      if (cp == 0 || cp == 0xFFFD || unicode::is_bert_control(cp)) continue;
      if (unicode::is_bert_whitespace(cp)) {
        out.push_back(U' ');
        continue;
      }
    }
    if (options_.handle_chinese_chars && unicode::is_cjk_ideograph(cp)) {
      out.push_back(U' ');
      out.push_back(cp);
      out.push_back(U' ');
    } else {
      out.push_back(cp);
    }
  }
  return out;
}

void BasicTokenizer::tokenize(std::string_view text, std::vector<std::string>& words) const {
  std::u32string cleaned = clean(text);
  if (options_.nfc_before_split) cleaned = unicode::nfc(cleaned);

  const std::u32string_view view(cleaned);
  size_t i = 0;
  while (i < view.size()) {
    while (i < view.size() && unicode::is_python_space(view[i])) ++i;
    size_t end = i;
    while (end < view.size() && !unicode::is_python_space(view[end])) ++end;
    if (end > i) process_word(view.substr(i, end - i), words);
    i = end;
  }
}

void BasicTokenizer::process_word(std::u32string_view word, std::vector<std::string>& words) const {
  if (!options_.never_split.empty()) {
    std::string utf8 = unicode::encode_utf8(word);
    if (is_never_split(utf8)) {
      words.push_back(std::move(utf8));
      return;
    }
  }
  // Already lower-cased by clean(), character by character; BasicTokenizer's
  // own token.lower() would change nothing more (NFC composition keeps case).
  std::u32string stripped;
  std::u32string_view chars = word;
  if (strips_accents() && !unicode::is_ascii(word)) {
    for (char32_t cp : unicode::nfd(word)) {
      if (!unicode::is_nonspacing_mark(cp)) stripped.push_back(cp);
    }
    chars = stripped;
  }

  // Every punctuation character becomes its own word; the runs between them
  // are words too. An empty result (a word of accents only) adds nothing.
  std::string current;
  for (char32_t cp : chars) {
    if (unicode::is_bert_punctuation(cp)) {
      if (!current.empty()) words.push_back(std::move(current));
      current.clear();
      std::string punctuation;
      unicode::append_utf8(punctuation, cp);
      words.push_back(std::move(punctuation));
    } else {
      unicode::append_utf8(current, cp);
    }
  }
  if (!current.empty()) words.push_back(std::move(current));
}

}  // namespace tformer::tokenizers
