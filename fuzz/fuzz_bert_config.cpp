// Input: a model directory's config.json, read as BertConfig (then written
// back out, as `tformer convert` and training do).
#include "fuzz_support.h"
#include "tformer/models/bert.h"

#include <nlohmann/json.hpp>

using namespace tformer_fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const MemFile file("config.json");
  file.write(data, size);
  expect_only_tformer_errors([&] {
    const auto config = tformer::models::BertConfig::from_file(file.path());
    (void)config.to_json().dump();
  });
  return 0;
}
