// Shared by the trainer tests: a scratch directory, a copy of the bert-tiny
// fixture, and a small made-up sentiment data set.
#pragma once
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace tformer::testing {

// A fresh directory under the system's temp dir, removed with its contents.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "tformer_trainer_XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// The bert-tiny fixture's model and tokenizer files (2 layers, hidden 32,
// labels NEGATIVE/POSITIVE) copied into `dir`, so tests never write beside it.
inline std::filesystem::path copy_bert_tiny(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  for (const char* name : {"config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"})
    std::filesystem::copy_file(fixtures_dir() / "bert-tiny" / name, dir / name);
  return dir;
}

// `rows` labelled sentences as TSV (label<TAB>sentence), cycling through
// positive and negative phrasings; labels alternate between names and ids.
inline std::filesystem::path write_sentiment_tsv(const std::filesystem::path& path, int rows) {
  const std::vector<std::string> good = {"great", "wonderful", "delightful", "superb", "lovely", "brilliant"};
  const std::vector<std::string> bad = {"terrible", "awful", "boring", "dreadful", "horrible", "dull"};
  const std::vector<std::string> things = {"movie", "film", "story", "acting", "plot", "ending", "music"};
  std::ofstream out(path, std::ios::binary);
  out << "label\tsentence\n";
  for (int i = 0; i < rows; ++i) {
    const bool positive = i % 2 == 0;
    const std::string& adjective = positive ? good[i / 2 % good.size()] : bad[i / 2 % bad.size()];
    const std::string label = i % 4 < 2 ? (positive ? "POSITIVE" : "NEGATIVE") : (positive ? "1" : "0");
    out << label << "\tthe " << things[i % things.size()] << " was really " << adjective << " .\n";
  }
  return path;
}

inline std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Files whose names mark them as AtomicFile's unfinished temporaries.
inline std::vector<std::string> temporaries_in(const std::filesystem::path& dir) {
  std::vector<std::string> found;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir))
    if (entry.path().filename().string().find(".tmp.") != std::string::npos)
      found.push_back(entry.path().string());
  return found;
}

}  // namespace tformer::testing
