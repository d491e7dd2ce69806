// Input: a vocab.txt (one WordPiece token a line), alone in a model
// directory, loaded by BertTokenizer::from_pretrained and used on a fixed text.
#include "tokenizer_support.h"

using namespace tformer_fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const TempDir dir;
  load_and_exercise(dir, "vocab.txt", data, size);
  return 0;
}
