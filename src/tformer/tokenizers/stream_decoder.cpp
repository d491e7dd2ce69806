#include "tformer/tokenizers/tokenizer.h"

#include <algorithm>

namespace tformer::tokenizers {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool is_continuation(unsigned char b) { return (b & 0xC0) == 0x80; }

// The number of bytes of a character that starts with `lead` (0: no valid
// character starts so), and the range its second byte must fall in, which
// excludes overlong forms, surrogates and code points past U+10FFFF (RFC 3629).
int sequence_length(unsigned char lead, unsigned char& second_min, unsigned char& second_max) {
  second_min = 0x80;
  second_max = 0xBF;
  if (lead < 0x80) return 1;
  if (lead < 0xC2) return 0;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) {
    if (lead == 0xE0) second_min = 0xA0;
    if (lead == 0xED) second_max = 0x9F;
    return 3;
  }
  if (lead < 0xF5) {
    if (lead == 0xF0) second_min = 0x90;
    if (lead == 0xF4) second_max = 0x8F;
    return 4;
  }
  return 0;
}

// How many bytes of s[i..] form a valid prefix of the character starting at
// s[i] (≥ 1 when the lead byte is valid), and whether it is complete.
size_t valid_prefix(std::string_view s, size_t i, bool& complete) {
  const auto* b = reinterpret_cast<const unsigned char*>(s.data());
  unsigned char lo, hi;
  const int length = sequence_length(b[i], lo, hi);
  complete = false;
  if (length == 0) return 0;
  size_t k = 1;
  for (; k < static_cast<size_t>(length) && i + k < s.size(); ++k) {
    const unsigned char c = b[i + k];
    if (k == 1 ? (c < lo || c > hi) : !is_continuation(c)) return k;
  }
  complete = k == static_cast<size_t>(length);
  return k;
}

}  // namespace

std::string StreamDecoder::push(std::string_view bytes) {
  pending_.append(bytes);
  std::string out;
  size_t i = 0;
  while (i < pending_.size()) {
    bool complete;
    const size_t n = valid_prefix(pending_, i, complete);
    if (complete) {
      out.append(pending_, i, n);
      i += n;
    } else if (i + n == pending_.size() && n > 0) {
      break;  // a character still arriving: keep its start for the next push
    } else {
      // An invalid byte, or a sequence cut short by one: each byte of it is
      // its own U+FFFD (SentencePiece's rule), then decoding resumes after it.
      for (size_t k = 0; k < std::max<size_t>(n, 1); ++k) out.append(kReplacement);
      i += std::max<size_t>(n, 1);
    }
  }
  pending_.erase(0, i);
  return out;
}

std::string StreamDecoder::finish() {
  std::string out;
  for (size_t k = 0; k < pending_.size(); ++k) out.append(kReplacement);
  pending_.clear();
  return out;
}

}  // namespace tformer::tokenizers
