// Input: a tokenizer_config.json beside the real bert-base-uncased vocab.txt,
// loaded by BertTokenizer::from_pretrained and used on a fixed text.
#include "tokenizer_support.h"

using namespace tformer_fuzz;

static const TempDir dir;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  dir.copy_in(shared_dir() / "vocab/bert-base-uncased/vocab.txt", "vocab.txt");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  load_and_exercise(dir, "tokenizer_config.json", data, size);
  return 0;
}
