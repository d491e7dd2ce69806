// Input: text (any bytes), encoded and decoded by GPT-2's real tokenizer
// (../shared/vocab/gpt2). Byte-level BPE loses nothing, so valid UTF-8 must
// come back from decode, and from StreamDecoder fed each token's bytes,
// exactly as it went in (decode's clean-up of " ." and the like turned off).
#include "fuzz_support.h"
#include "tformer/tokenizers/gpt2_tokenizer.h"

using namespace tformer_fuzz;
namespace tk = tformer::tokenizers;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::unique_ptr<tk::Gpt2Tokenizer> tokenizer = [] {
    tk::Gpt2TokenizerConfig config;
    config.clean_up_tokenization_spaces = false;
    const fs::path dir = shared_dir() / "vocab" / "gpt2";
    return tk::Gpt2Tokenizer::from_files(dir / "vocab.json", dir / "merges.txt", config);
  }();
  const std::string_view text = as_text(data, size);
  expect_only_tformer_errors([&] {
    const tk::Encoding e = tokenizer->encode(text);
    if (e.tokens.size() != e.input_ids.size()) die("Encoding's tokens and input_ids differ in length");
    if (tokenizer->decode(e.input_ids) != text) die("decode(encode(text)) is not the text");
    tk::StreamDecoder stream;
    std::string streamed;
    for (int32_t id : e.input_ids) streamed += stream.push(tokenizer->token_bytes(id));
    if (streamed + stream.finish() != text) die("StreamDecoder's text is not the text");
    (void)tokenizer->decode(e.input_ids, /*skip_special_tokens=*/true);
  });
  return 0;
}
