// load_tokenizer (tokenizer.h): which tokenizer a model's files call for.
#include "tformer/core/error.h"
#include "tformer/tokenizers/gpt2_tokenizer.h"
#include "tformer/tokenizers/sentencepiece_tokenizer.h"
#include "tformer/tokenizers/tokenizer.h"

namespace tformer::tokenizers {

namespace {
// A llama2.c model file's tokenizer lies beside it.
std::filesystem::path tokenizer_dir(const std::filesystem::path& model_path) {
  return std::filesystem::is_directory(model_path) ? model_path : model_path.parent_path();
}
}  // namespace

std::unique_ptr<Tokenizer> find_tokenizer(const std::filesystem::path& model_path) {
  const std::filesystem::path dir = tokenizer_dir(model_path);
  if (SentencePieceTokenizer::recognizes(dir)) return SentencePieceTokenizer::from_pretrained(dir);
  if (Gpt2Tokenizer::recognizes(dir)) return Gpt2Tokenizer::from_pretrained(dir);
  return nullptr;
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& model_path) {
  if (auto tokenizer = find_tokenizer(model_path)) return tokenizer;
  TF_FAIL(tokenizer_dir(model_path).string()
          << ": no tokenizer tformer reads for a decoder (tokenizer.model or llama2.c's tok*.bin for "
             "SentencePiece; vocab.json + merges.txt or a BPE tokenizer.json for GPT-2)");
}

}  // namespace tformer::tokenizers
