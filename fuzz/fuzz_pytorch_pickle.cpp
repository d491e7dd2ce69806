// Input: the data.pkl of a pytorch_model.bin after a 6-byte prefix that
// shapes the torch.save archive built around it (torch_zip.h says how; the
// format of ../shared/fuzz-crashes/fuzz_pytorch_pickle/). The archive is a
// valid zip with correct CRC-32s, so mutations reach the unpickler and the
// tensor checks instead of stopping at the zip reader. Every tensor is loaded.
#include <vector>

#include "fuzz_support.h"
#include "torch_zip.h"

using namespace tformer_fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < kTorchZipPrefix) return -1;  // not an input of this format: keep it out of the corpus
  static const MemFile file("pytorch_model.bin");
  const std::vector<uint8_t> zip = torch_zip(data, size);
  file.write(zip.data(), zip.size());
  expect_only_tformer_errors([&] { load_all(tformer::io::Checkpoint::open(file.path())); });
  return 0;
}
