// WordPiece: greedy longest-match-first splitting of one word into vocabulary
// pieces, continuation pieces carrying a prefix ("##").
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tformer/tokenizers/vocab.h"

namespace tformer::tokenizers {

struct WordPieceOptions {
  std::string unk_token = "[UNK]";
  std::string continuing_subword_prefix = "##";
  size_t max_input_chars_per_word = 100;
};

class WordPiece {
 public:
  WordPiece(std::shared_ptr<const Vocab> vocab, WordPieceOptions options)
      : vocab_(std::move(vocab)), options_(std::move(options)) {}

  // Appends the pieces of `word` (valid UTF-8, no whitespace), or the unknown
  // token when the word is too long or some part of it matches nothing.
  void tokenize(std::string_view word, std::vector<std::string>& pieces) const;
  const WordPieceOptions& options() const { return options_; }

 private:
  std::shared_ptr<const Vocab> vocab_;
  WordPieceOptions options_;
};

}  // namespace tformer::tokenizers
