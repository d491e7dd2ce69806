// Input: a decoder's config.json (model_type gpt2 or llama, or anything), read
// by Gpt2Config::from_json and LlamaConfig::from_json.
#include "fuzz_support.h"
#include "tformer/io/json_file.h"
#include "tformer/models/gpt2.h"
#include "tformer/models/llama.h"

using namespace tformer_fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  expect_only_tformer_errors([&] {
    const nlohmann::json j = tformer::io::parse_json(as_text(data, size), "config.json");
    if (!j.is_object()) return;
    expect_only_tformer_errors([&] { (void)tformer::models::Gpt2Config::from_json(j, "config.json").inner(); });
    expect_only_tformer_errors([&] { (void)tformer::models::LlamaConfig::from_json(j, "config.json").head_dim(); });
  });
  return 0;
}
