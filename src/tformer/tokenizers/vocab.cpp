#include "tformer/tokenizers/vocab.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "tformer/core/error.h"
#include "tformer/tokenizers/unicode.h"

namespace tformer::tokenizers {

Vocab Vocab::from_vocab_txt(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  TF_CHECK(file, path.string() << ": cannot open the vocabulary file");
  std::ostringstream buffer;
  buffer << file.rdbuf();
  const std::string text = buffer.str();
  try {
    unicode::check_utf8(text);
  } catch (const Error& e) {
    TF_FAIL(path.string() << ": " << e.what());
  }

  Vocab vocab;
  int32_t id = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find_first_of("\r\n", start);
    if (end == std::string::npos) end = text.size();
    vocab.set(text.substr(start, end - start), id++);
    if (end < text.size() && text[end] == '\r' && end + 1 < text.size() && text[end + 1] == '\n') ++end;
    start = end + 1;
  }
  TF_CHECK(vocab.size() > 0, path.string() << ": the vocabulary file is empty");
  return vocab;
}

void Vocab::set(std::string token, int32_t id) {
  TF_CHECK(id >= 0, "vocabulary: negative id " << id << " for token '" << token << "'");
  const auto index = static_cast<size_t>(id);
  if (index >= tokens_.size()) {
    tokens_.resize(index + 1);
    has_token_.resize(index + 1, false);
  }
  // A token seen again moves to its new id; the old id is left without a
  // token, as in transformers' ids_to_tokens.
  if (auto old = ids_.find(token); old != ids_.end() && old->second != id) {
    has_token_[static_cast<size_t>(old->second)] = false;
  }
  longest_token_bytes_ = std::max(longest_token_bytes_, token.size());
  tokens_[index] = token;
  has_token_[index] = true;
  ids_[std::move(token)] = id;
}

int32_t Vocab::find(std::string_view token) const {
  auto it = ids_.find(token);
  return it == ids_.end() ? -1 : it->second;
}

const std::string* Vocab::token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= tokens_.size() || !has_token_[static_cast<size_t>(id)]) {
    return nullptr;
  }
  return &tokens_[static_cast<size_t>(id)];
}

}  // namespace tformer::tokenizers
