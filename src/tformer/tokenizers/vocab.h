// A WordPiece vocabulary: token ↔ id, loaded from vocab.txt (one token a
// line, id = line number) or from tokenizer.json's model.vocab.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tformer::tokenizers {

class Vocab {
 public:
  // As transformers' load_vocab: lines split on \n, \r\n or \r (Python's
  // universal newlines); a repeated token keeps its last line's id.
  static Vocab from_vocab_txt(const std::filesystem::path& path);

  // Adds (or re-maps) `token` to `id`; the id table grows as needed.
  void set(std::string token, int32_t id);

  int32_t find(std::string_view token) const;  // -1 if absent
  bool contains(std::string_view token) const { return find(token) >= 0; }
  // nullptr for an id with no token.
  const std::string* token(int32_t id) const;
  // Distinct tokens (transformers' vocab_size = len(vocab)).
  size_t size() const { return ids_.size(); }
  // One past the highest id.
  size_t id_limit() const { return tokens_.size(); }
  size_t longest_token_bytes() const { return longest_token_bytes_; }

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> ids_;
  std::vector<std::string> tokens_;
  std::vector<bool> has_token_;
  size_t longest_token_bytes_ = 0;
};

}  // namespace tformer::tokenizers
