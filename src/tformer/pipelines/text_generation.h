// Text generation, as transformers' model.generate() and llama.cpp's main
// loop: prompts are tokenized, processed together in one batched forward
// (prefill, right-padded to the longest), then each step feeds every
// unfinished sequence its last token at its own position (decode) and picks
// the next (sampling.h), streaming the text as characters complete, until
// max_new_tokens, EOS or a stop string.
//
// The KV cache and every step buffer are sized before the first step, so a
// decode step allocates nothing.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tformer/models/causal_lm.h"
#include "tformer/nn/kv_cache.h"
#include "tformer/pipelines/sampling.h"
#include "tformer/tokenizers/tokenizer.h"

namespace tformer::pipelines {

struct GenerationOptions {
  int64_t max_new_tokens = 256;
  SamplingOptions sampling;
  std::vector<std::string> stop;  // stop strings: generation ends where one appears (it is not part of the text)
  bool stop_at_eos = true;
  // false: every step recomputes the whole sequence (no KV cache reuse):
  // slower, the same tokens; for checking the cache.
  bool use_cache = true;

  void validate() const;
};

struct Generation {
  std::vector<int32_t> input_ids;   // the prompt's tokens (BOS included where the tokenizer adds one)
  std::vector<int32_t> output_ids;  // the new tokens (an EOS that ended generation included)
  std::string text;                 // the new text, as it continues the prompt
  std::string finish_reason;        // "length", "eos" or "stop"
};

struct GenerationStats {
  int64_t prompt_tokens = 0, decode_tokens = 0;  // decode: tokens fed by single-token steps
  double prefill_seconds = 0, decode_seconds = 0;
  double prefill_tok_s() const { return prefill_seconds > 0 ? prompt_tokens / prefill_seconds : 0; }
  double decode_tok_s() const { return decode_seconds > 0 ? decode_tokens / decode_seconds : 0; }
};

// Called with a sequence's index in the batch and its next piece of text.
using TextStream = std::function<void(size_t index, std::string_view text)>;

class TextGenerationPipeline {
 public:
  // A null tokenizer generates token ids only (Generation::text stays empty).
  TextGenerationPipeline(std::unique_ptr<models::CausalLM> model, std::unique_ptr<tokenizers::Tokenizer> tokenizer);
  // A model directory or llama2.c file, with its tokenizer beside it.
  static TextGenerationPipeline from_pretrained(const std::filesystem::path& path);

  std::vector<Generation> operator()(const std::vector<std::string>& prompts, const GenerationOptions& options,
                                     const TextStream& stream = nullptr);
  // The same from token ids.
  std::vector<Generation> generate_ids(const std::vector<std::vector<int32_t>>& prompts,
                                       const GenerationOptions& options, const TextStream& stream = nullptr);
  const GenerationStats& stats() const { return stats_; }

  models::CausalLM& model() { return *model_; }
  const tokenizers::Tokenizer& tokenizer() const { return *tokenizer_; }

 private:
  std::unique_ptr<models::CausalLM> model_;
  std::unique_ptr<tokenizers::Tokenizer> tokenizer_;
  nn::KVCache cache_;
  GenerationStats stats_;
};

}  // namespace tformer::pipelines
