// Input: text (any bytes), encoded by the real tok512.model (Llama's
// SentencePiece BPE with byte fallback, the stories260K tokenizer), decoded
// and streamed back. Text that is not valid UTF-8 must be refused with a
// tformer::Error.
#include <memory>

#include "sentencepiece_support.h"

using namespace tformer_fuzz;
using tformer::tokenizers::SentencePieceTokenizer;

static std::unique_ptr<const SentencePieceTokenizer> tokenizer;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  try {
    tokenizer = SentencePieceTokenizer::from_pretrained(shared_dir() / "fixtures/llama-tiny");
  } catch (const tformer::Error& e) {
    die(e.what());
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  expect_only_tformer_errors([&] { exercise(*tokenizer, as_text(data, size)); });
  return 0;
}
