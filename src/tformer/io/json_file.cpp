#include "tformer/io/json_file.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "tformer/core/error.h"

namespace tformer::io {

nlohmann::json parse_json(std::string_view text, const std::string& origin) {
  // The parser itself keeps its own stack (no recursion); the depth is
  // checked as it goes, so a deep value is refused before anything copies it.
  using Event = nlohmann::json::parse_event_t;
  // The callback's depth counts the containers around an event, so an object
  // or array opened at depth d is level d + 1.
  const nlohmann::json::parser_callback_t limit_depth = [&origin](int depth, Event event, nlohmann::json&) {
    TF_CHECK((event != Event::object_start && event != Event::array_start) || depth < kMaxJsonDepth,
             origin << ": JSON nested deeper than " << kMaxJsonDepth << " levels");
    return true;
  };
  try {
    return nlohmann::json::parse(text.begin(), text.end(), limit_depth);
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte is 1-based and points just past the offending character.
    size_t pos = std::min(e.byte > 0 ? e.byte - 1 : 0, text.size());
    size_t line = 1, column = 1;
    for (size_t i = 0; i < pos; ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    TF_FAIL(origin << ": invalid JSON at line " << line << ", column " << column << ": " << e.what());
  } catch (const nlohmann::json::exception& e) {
    // A number past double's range (1e400) is out_of_range, not a parse error.
    TF_FAIL(origin << ": invalid JSON: " << e.what());
  }
}

nlohmann::json read_json_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  TF_CHECK(in, path.string() << ": cannot read: no such file or not readable");
  std::ostringstream text;
  text << in.rdbuf();
  TF_CHECK(!in.bad(), path.string() << ": read error");
  return parse_json(text.str(), path.string());
}

std::string json_excerpt(const nlohmann::json& value) {
  constexpr size_t kMaxBytes = 60;
  std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > kMaxBytes) {
    text.resize(kMaxBytes);
    while (!text.empty() && (static_cast<unsigned char>(text.back()) & 0xc0) == 0x80) text.pop_back();
    if (!text.empty() && static_cast<unsigned char>(text.back()) >= 0xc0) text.pop_back();
    text += "...";
  }
  return text;
}

int64_t json_to_int(const nlohmann::json& value, int64_t min, int64_t max, std::string_view where) {
  bool ok = false;
  int64_t result = 0;
  if (value.is_number_unsigned()) {
    const uint64_t v = value.get<uint64_t>();
    ok = v <= static_cast<uint64_t>(INT64_MAX);
    result = static_cast<int64_t>(v);
  } else if (value.is_number_integer()) {
    result = value.get<int64_t>();
    ok = true;
  } else if (value.is_number_float()) {
    // Only a value inside int64's range may be converted: 2^63 is exact as a
    // double, and every double below it converts without overflow.
    const double v = value.get<double>();
    ok = std::isfinite(v) && v == std::floor(v) && v >= -9223372036854775808.0 && v < 9223372036854775808.0;
    if (ok) result = static_cast<int64_t>(v);
  }
  TF_CHECK(ok && result >= min && result <= max,
           where << ": expected an integer in [" << min << ", " << max << "], got " << json_excerpt(value));
  return result;
}

std::optional<int64_t> json_key_to_int(std::string_view key, int64_t max) {
  if (key.empty() || key.size() > 18 || key.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  const int64_t value = std::stoll(std::string(key));  // 18 digits always fit
  return value <= max ? std::optional(value) : std::nullopt;
}

std::optional<int64_t> json_int_field(const nlohmann::json& object, const char* key, int64_t min, int64_t max,
                                      std::string_view origin) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::nullopt;
  return json_to_int(*it, min, max, std::string(origin) + ": field '" + key + "'");
}

void throw_wrong_json_type(const char* key, const nlohmann::json& value, std::string_view origin) {
  TF_FAIL(origin << ": field '" << key << "' has the wrong type (" << value.type_name() << ")");
}

double json_number_field(const nlohmann::json& object, const char* key, double fallback, double min, double max,
                         std::string_view origin) {
  const double value = json_field<double>(object, key, fallback, origin);
  TF_CHECK(std::isfinite(value) && value >= min && value <= max,
           origin << ": field '" << key << "' must be a number in [" << min << ", " << max << "], found "
                  << value);
  return value;
}

}  // namespace tformer::io
