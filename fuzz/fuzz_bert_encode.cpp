// Input: text (any bytes), tokenized and encoded by the real bert-base-uncased
// tokenizer: whole, and as a sentence pair split at the first tab, as
// `tformer tokenize --pair` does; the ids decoded back. Text that is not
// valid UTF-8 must be refused with a tformer::Error.
#include <memory>

#include "tokenizer_support.h"

using namespace tformer_fuzz;
using tformer::tokenizers::BertTokenizer;

static std::unique_ptr<const BertTokenizer> tokenizer;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const auto dir = shared_dir() / "vocab/bert-base-uncased";
  try {
    tokenizer = std::make_unique<const BertTokenizer>(BertTokenizer::from_pretrained(dir));
  } catch (const tformer::Error& e) {
    die(e.what());
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = as_text(data, size);
  const size_t tab = input.find('\t');
  const std::string_view text = input.substr(0, tab);
  const std::string_view pair = tab == std::string_view::npos ? std::string_view() : input.substr(tab + 1);
  expect_only_tformer_errors([&] { exercise(*tokenizer, input, pair); });
  expect_only_tformer_errors([&] { (void)tokenizer->encode_pair(text, pair); });
  return 0;
}
