// Reads a Hugging Face tokenizers `tokenizer.json` that describes a BERT
// WordPiece tokenizer: model WordPiece, normalizer BertNormalizer (or none),
// pre-tokenizer BertPreTokenizer, post-processor TemplateProcessing or
// BertProcessing. Anything else is refused with an Error naming the field.
#pragma once
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tformer/tokenizers/basic_tokenizer.h"
#include "tformer/tokenizers/post_processing.h"
#include "tformer/tokenizers/tokenizer_config.h"
#include "tformer/tokenizers/vocab.h"
#include "tformer/tokenizers/wordpiece.h"

namespace tformer::tokenizers {

struct TokenizerJson {
  Vocab vocab;
  WordPieceOptions wordpiece;
  BasicTokenizerOptions basic;
  // nullopt: no post-processor (no special tokens are added).
  std::optional<PostProcessor> post_processor;
  std::vector<AddedToken> added_tokens;
  std::optional<std::string> pad_token;  // from "padding"
  // "truncation" and "padding" otherwise hold the defaults of whoever saved
  // the file (bert-base-uncased's: 128), not the model's limit, so, as
  // transformers, model_max_length does not come from them.

  static TokenizerJson read(const std::filesystem::path& path);
};

}  // namespace tformer::tokenizers
