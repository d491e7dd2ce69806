#include "tformer/io/json_file.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "tformer/core/error.h"

namespace tformer::io {

nlohmann::json parse_json(std::string_view text, const std::string& origin) {
  try {
    return nlohmann::json::parse(text.begin(), text.end());
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

}  // namespace tformer::io
