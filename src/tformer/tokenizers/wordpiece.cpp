#include "tformer/tokenizers/wordpiece.h"

namespace tformer::tokenizers {

void WordPiece::tokenize(std::string_view word, std::vector<std::string>& pieces) const {
  // Byte offsets of the character boundaries: the limit counts characters
  // (Python's len(chars)), and pieces may only end on a boundary.
  std::vector<size_t> boundaries;
  for (size_t i = 0; i < word.size(); ++i) {
    if ((static_cast<unsigned char>(word[i]) & 0xC0) != 0x80) boundaries.push_back(i);
  }
  const size_t num_chars = boundaries.size();
  boundaries.push_back(word.size());
  if (num_chars > options_.max_input_chars_per_word) {
    pieces.push_back(options_.unk_token);
    return;
  }

  const size_t first_new_piece = pieces.size();
  std::string candidate;
  size_t start = 0;
  while (start < num_chars) {
    const std::string_view prefix =
        start > 0 ? std::string_view(options_.continuing_subword_prefix) : std::string_view();
    size_t end = num_chars;
    bool matched = false;
    for (; end > start; --end) {
      const size_t piece_bytes = boundaries[end] - boundaries[start];
      // No vocabulary entry is longer than this: skip the lookup.
      if (prefix.size() + piece_bytes > vocab_->longest_token_bytes()) continue;
      candidate.assign(prefix);
      candidate.append(word.substr(boundaries[start], piece_bytes));
      if (vocab_->contains(candidate)) {
        matched = true;
        break;
      }
    }
    if (!matched) {
      pieces.resize(first_new_piece);
      pieces.push_back(options_.unk_token);
      return;
    }
    pieces.push_back(candidate);
    start = end;
  }
}

}  // namespace tformer::tokenizers
