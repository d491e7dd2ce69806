// Input: a SentencePiece tokenizer.model (protobuf ModelProto), loaded by
// SentencePieceTokenizer::from_model_file and used on a fixed text: encoded,
// decoded and streamed.
#include "sentencepiece_support.h"

using namespace tformer_fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const MemFile file("tokenizer.model");
  file.write(data, size);
  expect_only_tformer_errors([&] {
    exercise(*tformer::tokenizers::SentencePieceTokenizer::from_model_file(file.path()), kSentencePieceText);
  });
  return 0;
}
