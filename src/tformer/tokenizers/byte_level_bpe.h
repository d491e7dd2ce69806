// The pieces of GPT-2's byte-level BPE: the pre-tokenizer that cuts text into
// words (GPT-2's regular expression, as a hand-written scanner), the byte ↔
// character alphabet that makes any bytes a printable token string
// (bytes_to_unicode), and BPE merging of one word's symbols by merge rank.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tformer::tokenizers::byte_level {

// Splits valid UTF-8 `text` as Python's `regex` module splits it on
// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// (re.findall): the pieces, in order, cover the text exactly.
std::vector<std::string_view> split_words(std::string_view text);

// bytes_to_unicode(): printable bytes (! to ~, ¡ to ¬, ® to ÿ) stand for
// themselves, the other 68 become U+0100, U+0101, ... in byte order.
char32_t byte_to_char(uint8_t byte);
// The inverse: nullopt for a character outside the alphabet.
std::optional<uint8_t> char_to_byte(char32_t c);
// `bytes` spelled in the alphabet, as UTF-8 (a token string: " a" → "Ġa").
std::string to_alphabet(std::string_view bytes);
// The bytes a token string spells; nullopt when a character of it is outside
// the alphabet. `token` must be valid UTF-8.
std::optional<std::string> from_alphabet(std::string_view token);

// The merge rules of a BPE model over token ids: (left, right) → merged id,
// the rule's rank deciding which pair of a word merges first.
class BpeMerges {
 public:
  // Adds the rule of the next rank. A pair already known takes the new rank
  // (as transformers' dict(zip(merges, range(...))) keeps the last).
  void add(int32_t left, int32_t right, int32_t merged);
  size_t size() const { return rules_.size(); }

  // Merges `symbols` in place as GPT-2's bpe() does: while some adjacent pair
  // has a rule, every occurrence of the lowest-ranked such pair merges, left
  // to right. O(n log n) in the word's length. Negative symbols never merge.
  void apply(std::vector<int32_t>& symbols) const;

 private:
  struct Rule {
    uint32_t rank;
    int32_t merged;
  };
  static uint64_t key(int32_t left, int32_t right) {
    return (uint64_t(uint32_t(left)) << 32) | uint32_t(right);
  }
  const Rule* find(int32_t left, int32_t right) const;

  std::unordered_map<uint64_t, Rule> rules_;
  uint32_t next_rank_ = 0;
};

}  // namespace tformer::tokenizers::byte_level
