// Input: a llama2.c model file (version 0 or 1), loaded by
// models::load_causal_lm, and, when it loads, one step of two tokens.
#include "fuzz_support.h"
#include "tformer/models/causal_lm.h"

using namespace tformer_fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const TempDir dir;
  const fs::path path = dir.write("model.bin", data, size);
  expect_only_tformer_errors([&] {
    auto model = tformer::models::load_causal_lm(path);
    tformer::nn::KVCache cache;
    model->reserve_cache(cache, 1, 2);
    const int32_t ids[2] = {0, static_cast<int32_t>(model->info().vocab_size - 1)};
    const int64_t start = 0, positions[2] = {0, 1};
    const float mask[2] = {1, 1};
    std::vector<float> logits(2 * model->info().vocab_size);
    const int64_t steps = std::min<int64_t>(2, model->info().max_positions);
    model->forward(ids, {1, steps, &start, positions, mask, 2, steps}, cache, nullptr, steps, logits.data());
  });
  return 0;
}
