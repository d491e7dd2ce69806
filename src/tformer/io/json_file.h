// Reading JSON files (config.json, tokenizer files, index files, safetensors
// headers) with errors that say which file and where in it the problem is,
// and reading numbers out of them without trusting their range.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include <nlohmann/json.hpp>

namespace tformer::io {

// No real config, tokenizer or header nests deeper than a handful of levels;
// copying or printing a value nested 100,000 deep recurses once per level and
// overflows the stack, so parsing refuses anything deeper than this.
inline constexpr int kMaxJsonDepth = 64;

// Throws tformer::Error "path: invalid JSON at line L, column C: ..." or
// "path: cannot read: ...".
nlohmann::json read_json_file(const std::filesystem::path& path);

// Parses `text` that came from `origin` (a file name, for messages).
nlohmann::json parse_json(std::string_view text, const std::string& origin);

// A value as it appears in a message: its JSON text, cut to about 60 bytes.
std::string json_excerpt(const nlohmann::json& value);

// The integer `value` holds, in [min, max]: a JSON integer, or a number
// written with a fraction or exponent whose value is integral (Python's json
// writes 1e30 as a float). Anything else, a 4.5e19 where an int64 is wanted
// included, throws tformer::Error "<where>: expected an integer in [min, max],
// got <value>"; `where` names the file and the field.
int64_t json_to_int(const nlohmann::json& value, int64_t min, int64_t max, std::string_view where);

// An object key that names an id, as id2label's "0" or added_tokens_decoder's
// "30522": decimal digits only, at most `max`; nullopt for anything else.
std::optional<int64_t> json_key_to_int(std::string_view key, int64_t max);

template <class T>
bool json_value_is(const nlohmann::json& value) {
  if constexpr (std::is_same_v<T, std::string>) return value.is_string();
  else if constexpr (std::is_same_v<T, bool>) return value.is_boolean();
  else return value.is_number();
}
[[noreturn]] void throw_wrong_json_type(const char* key, const nlohmann::json& value, std::string_view origin);

// `object[key]` through json_to_int, its errors naming "<origin>: field
// 'key'"; nullopt when the key is absent or null.
std::optional<int64_t> json_int_field(const nlohmann::json& object, const char* key, int64_t min, int64_t max,
                                      std::string_view origin);

// `object[key]` as a T (a string, a bool, a double), or `fallback` when the
// key is absent or null; a value of another JSON type throws
// "<origin>: field 'key' has the wrong type (...)". Numbers that size
// buffers go through json_int_field instead.
template <class T>
T json_field(const nlohmann::json& object, const char* key, T fallback, std::string_view origin) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return fallback;
  if (!json_value_is<T>(*it)) throw_wrong_json_type(key, *it, origin);
  return it->get<T>();
}

// A finite number in [min, max] (an epsilon, a rope_theta): json_field's
// rules, and a value outside the range names the field and the range.
double json_number_field(const nlohmann::json& object, const char* key, double fallback, double min, double max,
                         std::string_view origin);

}  // namespace tformer::io
