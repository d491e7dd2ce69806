// Input: a model.safetensors file. Read through SafetensorsFile (every tensor
// loaded and read) and through Checkpoint (every tensor by canonical name).
#include "fuzz_support.h"
#include "tformer/io/safetensors.h"

using namespace tformer_fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const MemFile file("model.safetensors");
  file.write(data, size);
  expect_only_tformer_errors([&] {
    const auto safetensors = tformer::io::SafetensorsFile::open(file.path());
    for (const auto& [key, value] : safetensors->metadata()) (void)(key.size() + value.size());
    load_all(*safetensors);
  });
  expect_only_tformer_errors([&] { load_all(tformer::io::Checkpoint::open(file.path())); });
  return 0;
}
