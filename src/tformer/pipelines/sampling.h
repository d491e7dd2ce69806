// Choosing the next token from a row of logits, as transformers' generate()
// does: the repetition penalty (CTRL, Keskar et al., 2019) first, then
// greedy argmax (temperature 0), or temperature, top-k, top-p (nucleus,
// Holtzman et al., 2019) and a draw from the softmax with a seeded generator.
// Buffers are sized once (reserve): choosing a token allocates nothing.
#pragma once
#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace tformer::pipelines {

struct SamplingOptions {
  float temperature = 0.0f;         // 0: greedy
  int64_t top_k = 0;                // 0: all tokens
  float top_p = 1.0f;               // 1: all tokens
  float repetition_penalty = 1.0f;  // 1: none
  uint64_t seed = 0;

  // Throws tformer::Error naming the option for a value outside its range
  // ("top_p must be in (0, 1], got 2").
  void validate() const;
};

class Sampler {
 public:
  explicit Sampler(const SamplingOptions& options = {});
  void reserve(int64_t vocab);
  // Picks a token from logits [vocab], which it may change (penalty,
  // temperature). `history`: the ids so far (prompt and generated), each
  // penalised once however often it occurs.
  int32_t next(float* logits, int64_t vocab, std::span<const int32_t> history);

 private:
  SamplingOptions options_;
  std::mt19937_64 rng_;
  std::vector<uint8_t> seen_;
  std::vector<int32_t> candidates_;
  std::vector<float> probs_;
};

}  // namespace tformer::pipelines
