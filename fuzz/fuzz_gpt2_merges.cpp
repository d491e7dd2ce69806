// Input: a vocab.json, a NUL byte, then a merges.txt (no NUL: all of it is the
// vocab.json, beside an empty merges.txt), in a model directory loaded by
// Gpt2Tokenizer::from_pretrained and used on a fixed text. A small vocabulary
// of its own lets the mutations reach the merge rules and BPE itself.
#include <algorithm>

#include "fuzz_support.h"
#include "tformer/tokenizers/gpt2_tokenizer.h"

using namespace tformer_fuzz;

namespace {

// Bytes that are letters, digits, spaces and other characters, a contraction,
// a long word, a character split over several bytes, the special token.
constexpr std::string_view kText =
    "Hello world's  \t\n 1234 ab abab aaaaaaaa!? na\u00efve \u6771\u4eac \U0001F600 <|endoftext|>";

void exercise(const tformer::tokenizers::Gpt2Tokenizer& tokenizer) {
  const tformer::tokenizers::Encoding e = tokenizer.encode(kText);
  if (e.tokens.size() != e.input_ids.size()) die("Encoding's tokens and input_ids differ in length");
  (void)tokenizer.decode(e.input_ids);
  (void)tokenizer.decode(e.input_ids, /*skip_special_tokens=*/true);
  tformer::tokenizers::StreamDecoder stream;
  for (int32_t id : e.input_ids) (void)stream.push(tokenizer.token_bytes(id));
  (void)stream.finish();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const TempDir dir;
  const std::string_view input = as_text(data, size);
  const size_t split = std::min(input.find('\0'), input.size());
  dir.write("vocab.json", input.substr(0, split));
  dir.write("merges.txt", split < input.size() ? input.substr(split + 1) : std::string_view());
  expect_only_tformer_errors([&] { exercise(*tformer::tokenizers::Gpt2Tokenizer::from_pretrained(dir.path())); });
  return 0;
}
