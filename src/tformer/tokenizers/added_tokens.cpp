#include "tformer/tokenizers/added_tokens.h"

#include <algorithm>

namespace tformer::tokenizers {

void AddedTokenSplitter::add(std::string token) {
  if (token.empty() || contains(token)) return;
  is_first_byte_[static_cast<unsigned char>(token[0])] = true;
  tokens_.push_back(std::move(token));
  std::stable_sort(tokens_.begin(), tokens_.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

bool AddedTokenSplitter::contains(std::string_view token) const {
  return std::find(tokens_.begin(), tokens_.end(), token) != tokens_.end();
}

size_t AddedTokenSplitter::match_at(std::string_view text, size_t pos) const {
  if (!is_first_byte_[static_cast<unsigned char>(text[pos])]) return 0;
  for (const auto& token : tokens_) {
    if (text.compare(pos, token.size(), token) == 0) return token.size();
  }
  return 0;
}

std::vector<TextSegment> AddedTokenSplitter::split(std::string_view text) const {
  std::vector<TextSegment> segments;
  size_t plain_start = 0;
  size_t pos = 0;
  // Tokens are valid UTF-8, so a byte-level match in valid UTF-8 text always
  // starts and ends on character boundaries.
  while (pos < text.size()) {
    const size_t length = tokens_.empty() ? 0 : match_at(text, pos);
    if (length == 0) {
      ++pos;
      continue;
    }
    if (pos > plain_start) segments.push_back({text.substr(plain_start, pos - plain_start), false});
    segments.push_back({text.substr(pos, length), true});
    pos += length;
    plain_start = pos;
  }
  if (text.size() > plain_start) segments.push_back({text.substr(plain_start), false});
  return segments;
}

}  // namespace tformer::tokenizers
