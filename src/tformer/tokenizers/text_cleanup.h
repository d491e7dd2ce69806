// Text edits the decoders of every tokenizer share.
#pragma once
#include <string>
#include <string_view>

namespace tformer::tokenizers {

// Every occurrence of `from` (non-empty) replaced by `to`, left to right.
std::string replace_all(std::string text, std::string_view from, std::string_view to);

// transformers' clean_up_tokenization: removes the spaces a word-level
// detokenizer puts before punctuation and English contractions (" ." → ".",
// " n't" → "n't", ...), replacement by replacement in transformers' order.
std::string clean_up_tokenization(std::string text);

}  // namespace tformer::tokenizers
