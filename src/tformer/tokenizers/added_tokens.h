// Splits text on added tokens ([CLS], [MASK], ... and tokens added to the
// vocabulary) before any normalization, as transformers' added-tokens trie
// does: the leftmost match wins, the longest token among those starting there.
#pragma once
#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace tformer::tokenizers {

struct TextSegment {
  std::string_view text;
  bool is_added_token;  // text is exactly one added token
};

class AddedTokenSplitter {
 public:
  void add(std::string token);
  bool contains(std::string_view token) const;
  // Segments in order; plain segments are never empty.
  std::vector<TextSegment> split(std::string_view text) const;

 private:
  // Size of the longest token starting at text[pos], 0 if none.
  size_t match_at(std::string_view text, size_t pos) const;

  std::vector<std::string> tokens_;  // longest first
  std::array<bool, 256> is_first_byte_{};
};

}  // namespace tformer::tokenizers
