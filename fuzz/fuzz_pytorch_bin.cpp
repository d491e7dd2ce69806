// Input: a pytorch_model.bin file (torch.save's zip of data.pkl and storages),
// opened by Checkpoint as a model directory's weights; every tensor loaded and read.
#include "fuzz_support.h"

using namespace tformer_fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const TempDir dir;
  const auto path = dir.write("pytorch_model.bin", data, size);
  expect_only_tformer_errors([&] { load_all(tformer::io::Checkpoint::open(path)); });
  return 0;
}
