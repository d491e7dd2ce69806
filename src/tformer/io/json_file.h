// Reading JSON files (config.json, tokenizer files, index files, safetensors
// headers) with errors that say which file and where in it the problem is,
// and reading numbers out of them without trusting their range.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

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

// `object[key]` through json_to_int, its errors naming "<origin>: field
// 'key'"; nullopt when the key is absent or null.
std::optional<int64_t> json_int_field(const nlohmann::json& object, const char* key, int64_t min, int64_t max,
                                      std::string_view origin);

}  // namespace tformer::io
