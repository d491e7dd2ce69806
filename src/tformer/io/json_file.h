// Reading JSON files (config.json, index files) with errors that say which file
// and where in it the problem is.
#pragma once
#include <filesystem>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tformer::io {

// Throws tformer::Error "path: invalid JSON at line L, column C: ..." or
// "path: cannot read: ...".
nlohmann::json read_json_file(const std::filesystem::path& path);

// Parses `text` that came from `origin` (a file name, for messages).
nlohmann::json parse_json(std::string_view text, const std::string& origin);

}  // namespace tformer::io
