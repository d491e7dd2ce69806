// Byte-level BPE's pre-tokenizer scanner, byte alphabet and rank-ordered merging.
#include "tformer/tokenizers/byte_level_bpe.h"

#include <array>
#include <queue>

#include "tformer/tokenizers/unicode.h"

namespace tformer::tokenizers::byte_level {
namespace {

// ---- The pre-tokenizer ----------------------------------------------------

// What the pattern's classes see in a character: \p{L}, \p{N}, \s, or none
// of them ([^\s\p{L}\p{N}]).
enum class CharClass : uint8_t { Letter, Number, Space, Other };

CharClass class_of(char32_t cp) {
  if (unicode::is_letter(cp)) return CharClass::Letter;
  if (unicode::is_number(cp)) return CharClass::Number;
  if (unicode::is_white_space(cp)) return CharClass::Space;
  return CharClass::Other;
}

// The text's characters with their classes and byte offsets (offsets has one
// more entry: the text's end), so the scanner can look ahead by characters.
struct Characters {
  std::u32string code_points;
  std::vector<CharClass> classes;
  std::vector<size_t> offsets;

  explicit Characters(std::string_view text) {
    for (size_t pos = 0; pos < text.size();) {
      offsets.push_back(pos);
      const char32_t cp = unicode::decode_utf8_at(text, pos);
      code_points.push_back(cp);
      classes.push_back(class_of(cp));
    }
    offsets.push_back(text.size());
  }
  size_t size() const { return code_points.size(); }
  // The end of the run of characters of class `c` that starts at `i`.
  size_t run_end(size_t i, CharClass c) const {
    while (i < size() && classes[i] == c) ++i;
    return i;
  }
};

// The length, in characters, of a contraction ('s 't 're 've 'm 'll 'd) at
// `i`, or 0. Case-sensitive, as GPT-2's pattern is compiled.
size_t contraction_at(const Characters& chars, size_t i) {
  if (chars.code_points[i] != U'\'' || i + 1 >= chars.size()) return 0;
  const char32_t first = chars.code_points[i + 1];
  if (first == U's' || first == U't' || first == U'm' || first == U'd') return 2;
  if (i + 2 >= chars.size()) return 0;
  const char32_t second = chars.code_points[i + 2];
  if ((first == U'r' && second == U'e') || (first == U'v' && second == U'e') || (first == U'l' && second == U'l'))
    return 3;
  return 0;
}

// The end of the match at `i`: the pattern's alternatives tried in order, the
// first that matches wins (as a backtracking regex engine does).
size_t match_end(const Characters& chars, size_t i) {
  if (const size_t n = contraction_at(chars, i)) return i + n;
  const CharClass c = chars.classes[i];
  // " ?\p{L}+", " ?\p{N}+", " ?[^\s\p{L}\p{N}]+": an optional space, then a
  // run of one class.
  if (chars.code_points[i] == U' ' && i + 1 < chars.size() && chars.classes[i + 1] != CharClass::Space) {
    return chars.run_end(i + 1, chars.classes[i + 1]);
  }
  if (c != CharClass::Space) return chars.run_end(i, c);
  // "\s+(?!\S)": all the spaces when they end the text, else all but the last
  // (which then starts the next word, " ?\p{L}+" and the like); "\s+" takes a
  // single space that neither alternative before it matched.
  const size_t end = chars.run_end(i, CharClass::Space);
  if (end == chars.size() || end - i == 1) return end;
  return end - 1;
}

// ---- The alphabet ---------------------------------------------------------

bool is_printable_byte(unsigned b) { return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE; }

struct Alphabet {
  std::array<char32_t, 256> char_of_byte{};
  std::array<std::string, 256> utf8_of_byte;

  Alphabet() {
    char32_t next_unprintable = 0x100;
    for (unsigned b = 0; b < 256; ++b) {
      char_of_byte[b] = is_printable_byte(b) ? char32_t(b) : next_unprintable++;
      unicode::append_utf8(utf8_of_byte[b], char_of_byte[b]);
    }
  }
};

const Alphabet& alphabet() {
  static const Alphabet table;
  return table;
}

}  // namespace

std::vector<std::string_view> split_words(std::string_view text) {
  std::vector<std::string_view> words;
  const Characters chars(text);
  for (size_t i = 0; i < chars.size();) {
    const size_t end = match_end(chars, i);
    words.push_back(text.substr(chars.offsets[i], chars.offsets[end] - chars.offsets[i]));
    i = end;
  }
  return words;
}

char32_t byte_to_char(uint8_t byte) { return alphabet().char_of_byte[byte]; }

std::optional<uint8_t> char_to_byte(char32_t c) {
  if (c < 0x100) {
    if (is_printable_byte(c)) return static_cast<uint8_t>(c);
    return std::nullopt;
  }
  // U+0100 + k is the k-th unprintable byte.
  uint32_t k = c - 0x100;
  for (unsigned b = 0; b < 256; ++b) {
    if (!is_printable_byte(b) && k-- == 0) return static_cast<uint8_t>(b);
  }
  return std::nullopt;
}

std::string to_alphabet(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char b : bytes) out.append(alphabet().utf8_of_byte[static_cast<uint8_t>(b)]);
  return out;
}

std::optional<std::string> from_alphabet(std::string_view token) {
  std::string bytes;
  bytes.reserve(token.size());
  for (size_t pos = 0; pos < token.size();) {
    const std::optional<uint8_t> byte = char_to_byte(unicode::decode_utf8_at(token, pos));
    if (!byte) return std::nullopt;
    bytes.push_back(static_cast<char>(*byte));
  }
  return bytes;
}

// ---- BPE ------------------------------------------------------------------

void BpeMerges::add(int32_t left, int32_t right, int32_t merged) {
  rules_[key(left, right)] = Rule{next_rank_++, merged};
}

const BpeMerges::Rule* BpeMerges::find(int32_t left, int32_t right) const {
  if (left < 0 || right < 0) return nullptr;
  auto it = rules_.find(key(left, right));
  return it == rules_.end() ? nullptr : &it->second;
}

void BpeMerges::apply(std::vector<int32_t>& symbols) const {
  const size_t n = symbols.size();
  if (n < 2 || rules_.empty()) return;
  // The word as a linked list over `symbols`: a merge keeps the merged symbol
  // in the left one's slot and unlinks the right one.
  constexpr uint32_t kNone = UINT32_MAX;
  std::vector<uint32_t> prev(n), next(n);
  std::vector<bool> alive(n, true);
  for (size_t i = 0; i < n; ++i) {
    prev[i] = i == 0 ? kNone : uint32_t(i - 1);
    next[i] = i + 1 == n ? kNone : uint32_t(i + 1);
  }
  // A pair that had a rule when it was queued; stale once either symbol
  // changed or was merged away.
  struct Candidate {
    uint32_t rank, left, right;
    int32_t left_symbol, right_symbol, merged;
    bool operator>(const Candidate& other) const {
      return rank != other.rank ? rank > other.rank : left > other.left;
    }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  // Pairs that merges of the current rank create wait here until every
  // occurrence of that rank has merged: GPT-2's bpe() merges all of them
  // before it looks at the new pairs, even one of a lower rank.
  std::vector<Candidate> created;
  auto consider = [&](uint32_t left, uint32_t right, std::vector<Candidate>* into) {
    if (left == kNone || right == kNone) return;
    if (const Rule* rule = find(symbols[left], symbols[right])) {
      const Candidate candidate{rule->rank, left, right, symbols[left], symbols[right], rule->merged};
      into ? into->push_back(candidate) : queue.push(candidate);
    }
  };
  for (size_t i = 0; i + 1 < n; ++i) consider(uint32_t(i), uint32_t(i + 1), nullptr);

  uint32_t round_rank = 0;
  for (;;) {
    if (queue.empty() || queue.top().rank != round_rank) {
      for (const Candidate& candidate : created) queue.push(candidate);
      created.clear();
      if (queue.empty()) break;
      round_rank = queue.top().rank;
    }
    const Candidate c = queue.top();
    queue.pop();
    if (!alive[c.left] || !alive[c.right] || next[c.left] != c.right || symbols[c.left] != c.left_symbol ||
        symbols[c.right] != c.right_symbol) {
      continue;
    }
    symbols[c.left] = c.merged;
    alive[c.right] = false;
    next[c.left] = next[c.right];
    if (next[c.right] != kNone) prev[next[c.right]] = c.left;
    consider(prev[c.left], c.left, &created);
    consider(c.left, next[c.left], &created);
  }
  size_t kept = 0;
  for (size_t i = 0; i < n; ++i) {
    if (alive[i]) symbols[kept++] = symbols[i];
  }
  symbols.resize(kept);
}

}  // namespace tformer::tokenizers::byte_level
