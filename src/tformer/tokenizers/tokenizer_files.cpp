#include "tformer/tokenizers/tokenizer_files.h"

#include <fstream>
#include <sstream>

#include "tformer/core/error.h"
#include "tformer/io/atomic_file.h"

namespace tformer::tokenizers {

std::vector<std::string> tokenizer_file_names(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const char* name : {"vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.json"})
    if (std::filesystem::is_regular_file(dir / name)) names.push_back(name);
  return names;
}

void copy_tokenizer_files(const std::filesystem::path& from, const std::filesystem::path& to) {
  for (const std::string& name : tokenizer_file_names(from)) {
    std::ifstream in(from / name, std::ios::binary);
    TF_CHECK(in.is_open(), (from / name).string() << ": cannot read");
    std::ostringstream contents;
    contents << in.rdbuf();
    io::write_file_atomically(to / name, contents.str());
  }
}

}  // namespace tformer::tokenizers
