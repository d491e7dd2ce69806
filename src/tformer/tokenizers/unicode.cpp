#include "tformer/tokenizers/unicode.h"

#include <utf8proc.h>

#include <algorithm>

#include "tformer/core/error.h"

namespace tformer::tokenizers::unicode {
namespace {

struct Utf8Problem {
  size_t offset;
  const char* reason;
};

bool is_continuation(unsigned char b) { return (b & 0xC0) == 0x80; }

// The shape of a character that starts with byte `lead`: its length in bytes
// (0: no character starts so) and the range its second byte must fall in,
// which narrows for E0, ED, F0 and F4 so that overlong forms, surrogates and
// code points past U+10FFFF fail (RFC 3629).
struct SequenceShape {
  size_t length;
  unsigned char second_min = 0x80, second_max = 0xBF;
};

SequenceShape sequence_shape(unsigned char lead) {
  if (lead < 0x80) return {1};
  if (lead < 0xC2) return {0};
  if (lead < 0xE0) return {2};
  if (lead < 0xF0) return {3, static_cast<unsigned char>(lead == 0xE0 ? 0xA0 : 0x80),
                           static_cast<unsigned char>(lead == 0xED ? 0x9F : 0xBF)};
  if (lead < 0xF5) return {4, static_cast<unsigned char>(lead == 0xF0 ? 0x90 : 0x80),
                           static_cast<unsigned char>(lead == 0xF4 ? 0x8F : 0xBF)};
  return {0};
}

// How many bytes from bytes[i] on belong to the character starting there:
// its whole length when it is valid, else the valid start of it (0 when the
// lead byte itself is invalid).
size_t valid_prefix(const unsigned char* bytes, size_t n, size_t i, const SequenceShape& shape) {
  if (shape.length == 0) return 0;
  size_t k = 1;
  for (; k < shape.length && i + k < n; ++k) {
    const unsigned char b = bytes[i + k];
    const bool ok = k == 1 ? b >= shape.second_min && b <= shape.second_max : is_continuation(b);
    if (!ok) break;
  }
  return k;
}

// Scans strictly: the first problem, or nullopt.
std::optional<Utf8Problem> first_utf8_problem(std::string_view text) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char lead = bytes[i];
    if (lead < 0x80) {
      ++i;
      continue;
    }
    const SequenceShape shape = sequence_shape(lead);
    if (shape.length == 0) {
      if (lead < 0xC0) return Utf8Problem{i, "unexpected continuation byte"};
      return Utf8Problem{i, lead < 0xC2 ? "overlong encoding" : "byte that never occurs in UTF-8"};
    }
    for (size_t k = 1; k < shape.length; ++k) {
      if (i + k >= n || !is_continuation(bytes[i + k])) return Utf8Problem{i, "truncated sequence"};
    }
    const unsigned char second = bytes[i + 1];
    if (second < shape.second_min) return Utf8Problem{i, "overlong encoding"};
    if (second > shape.second_max) {
      return Utf8Problem{i, lead == 0xED ? "UTF-16 surrogate" : "code point above U+10FFFF"};
    }
    i += shape.length;
  }
  return std::nullopt;
}

}  // namespace

std::optional<size_t> find_invalid_utf8(std::string_view text) {
  if (auto problem = first_utf8_problem(text)) return problem->offset;
  return std::nullopt;
}

void check_utf8(std::string_view text) {
  if (auto problem = first_utf8_problem(text)) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned char>(text[problem->offset]));
    TF_FAIL("invalid UTF-8 at byte " << problem->offset << ": " << problem->reason << " (" << hex
                                     << ")");
  }
}

char32_t decode_utf8_at(std::string_view text, size_t& pos) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const unsigned char lead = bytes[pos];
  char32_t cp;
  size_t length;
  if (lead < 0x80) {
    cp = lead, length = 1;
  } else if (lead < 0xE0) {
    cp = lead & 0x1F, length = 2;
  } else if (lead < 0xF0) {
    cp = lead & 0x0F, length = 3;
  } else {
    cp = lead & 0x07, length = 4;
  }
  for (size_t k = 1; k < length && pos + k < text.size(); ++k) cp = (cp << 6) | (bytes[pos + k] & 0x3F);
  pos += length;
  return cp;
}

std::u32string decode_utf8(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) out.push_back(decode_utf8_at(text, pos));
  return out;
}

std::string decode_utf8_replacing(std::string_view text) {
  constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const SequenceShape shape = sequence_shape(bytes[i]);
    const size_t valid = valid_prefix(bytes, text.size(), i, shape);
    if (valid > 0 && valid == shape.length) {
      out.append(text, i, valid);
    } else {
      out.append(kReplacement);
    }
    i += std::max<size_t>(valid, 1);
  }
  return out;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string encode_utf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t cp : text) append_utf8(out, cp);
  return out;
}

bool is_ascii(std::u32string_view text) {
  return std::all_of(text.begin(), text.end(), [](char32_t cp) { return cp < 0x80; });
}

namespace {
utf8proc_category_t category(char32_t cp) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(cp));
}
}  // namespace

bool is_bert_whitespace(char32_t cp) {
  if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r') return true;
  return cp >= 0x80 && category(cp) == UTF8PROC_CATEGORY_ZS;
}

bool is_bert_control(char32_t cp) {
  if (cp == '\t' || cp == '\n' || cp == '\r') return false;
  if (cp < 0x80) return cp < 0x20 || cp == 0x7F;
  switch (category(cp)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN:
      return true;
    default:
      return false;
  }
}

bool is_bert_punctuation(char32_t cp) {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
      (cp >= 123 && cp <= 126)) {
    return true;
  }
  if (cp < 0x80) return false;
  switch (category(cp)) {
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
      return true;
    default:
      return false;
  }
}

bool is_cjk_ideograph(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

bool is_python_space(char32_t cp) {
  // Python: bidirectional class WS, B or S, or category Zs.
  if ((cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85) return true;
  if (cp < 0x80) return false;
  const auto cat = category(cp);
  return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP;
}

bool is_nonspacing_mark(char32_t cp) { return cp >= 0x80 && category(cp) == UTF8PROC_CATEGORY_MN; }

bool is_letter(char32_t cp) {
  if (cp < 0x80) return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
  const auto cat = category(cp);
  return cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO;
}

bool is_number(char32_t cp) {
  if (cp < 0x80) return cp >= '0' && cp <= '9';
  const auto cat = category(cp);
  return cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO;
}

bool is_white_space(char32_t cp) {
  // PropList.txt's White_Space, which `regex` reads \s as: 25 code points.
  if (cp < 0x80) return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20;
  return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
         cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

void append_lower(std::u32string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
  } else if (cp == 0x0130) {
    // The one unconditional multi-character lower-case mapping in
    // SpecialCasing.txt; utf8proc only knows the simple mapping.
    out.push_back(U'i');
    out.push_back(0x0307);
  } else {
    out.push_back(static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))));
  }
}

std::u32string nfd(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size() + text.size() / 2);
  utf8proc_int32_t parts[32];
  for (char32_t cp : text) {
    if (cp < 0x80) {
      out.push_back(cp);
      continue;
    }
    int boundclass = 0;
    const auto n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(cp), parts, 32,
                                           UTF8PROC_DECOMPOSE, &boundclass);
    TF_CHECK(n > 0 && n <= 32, "utf8proc: cannot decompose U+" << std::hex << uint32_t(cp));
    out.append(parts, parts + n);
  }
  // Canonical ordering: a stable sort of each run of combining marks by
  // their combining class (class 0 characters stay where they are).
  auto combining_class = [](char32_t cp) {
    return cp < 0x300 ? 0 : utf8proc_get_property(static_cast<utf8proc_int32_t>(cp))->combining_class;
  };
  size_t i = 0;
  while (i < out.size()) {
    if (combining_class(out[i]) == 0) {
      ++i;
      continue;
    }
    size_t run_end = i;
    while (run_end < out.size() && combining_class(out[run_end]) != 0) ++run_end;
    std::stable_sort(out.begin() + i, out.begin() + run_end, [&](char32_t a, char32_t b) {
      return combining_class(a) < combining_class(b);
    });
    i = run_end;
  }
  return out;
}

std::u32string nfc(std::u32string_view text) {
  if (is_ascii(text)) return std::u32string(text);
  std::u32string decomposed = nfd(text);
  static_assert(sizeof(char32_t) == sizeof(utf8proc_int32_t));
  const auto n = utf8proc_normalize_utf32(reinterpret_cast<utf8proc_int32_t*>(decomposed.data()),
                                          static_cast<utf8proc_ssize_t>(decomposed.size()),
                                          static_cast<utf8proc_option_t>(UTF8PROC_COMPOSE | UTF8PROC_STABLE));
  TF_CHECK(n >= 0, "utf8proc: " << utf8proc_errmsg(n));
  decomposed.resize(static_cast<size_t>(n));
  return decomposed;
}

}  // namespace tformer::tokenizers::unicode
