// `tformer bench` on a decoder (GPT-2, Llama, a llama2.c file): B prompts of
// P random token ids (the LCG of cmd_bench.cpp) are prefilled in one
// forward, then N single-token greedy decode steps follow, through the
// generation pipeline a user runs. One warm-up generation, then --runs timed
// ones; prefill_tok_s and decode_tok_s are the best run's (as the PyTorch
// anchor, ../shared/anchors/torch_gpt2.py, reports its best of 3), the
// medians are reported beside them.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cmd_bench.h"
#include "cli/common.h"
#include "tformer/core/cpu.h"
#include "tformer/core/error.h"
#include "tformer/core/thread_pool.h"
#include "tformer/kernels/gemm.h"
#include "tformer/models/causal_lm.h"
#include "tformer/pipelines/text_generation.h"

namespace tformer::cli::bench {

void run_bench_decoder(const BenchArgs& a) {
  apply_threads(a.threads);
  const int threads = ThreadPool::global().num_threads();
  const std::filesystem::path path = resolve_generation_model(a.model);
  const auto t_load = Clock::now();
  pipelines::TextGenerationPipeline pipe(models::load_causal_lm(path), nullptr);
  pipe.model().set_weight_format(parse_dtype(a.dtype));
  const double load_ms = ms_since(t_load);
  const models::CausalLMInfo& info = pipe.model().info();

  const int64_t batch = a.batch > 0 ? a.batch : 1;
  const int64_t prompt_tokens = a.prompt_tokens, new_tokens = a.new_tokens;
  TF_CHECK(prompt_tokens + new_tokens <= info.max_positions,
           "--prompt-tokens " << prompt_tokens << " + --new-tokens " << new_tokens << " exceed the model's context of "
                              << info.max_positions << " (" << path.string() << ")");
  const std::vector<int32_t> ids = make_ids(batch, prompt_tokens + 2, info.vocab_size, 0, 0, a.seed);
  std::vector<std::vector<int32_t>> prompts(batch);
  for (int64_t b = 0; b < batch; ++b) {  // the LCG's ids, without the [CLS]/[SEP] ends make_ids puts around them
    const auto first = ids.begin() + b * (prompt_tokens + 2) + 1;
    prompts[b].assign(first, first + prompt_tokens);
  }

  pipelines::GenerationOptions options;
  options.max_new_tokens = new_tokens + 1;  // the first new token comes from the prefill: N decode steps follow
  options.stop_at_eos = false;
  std::vector<double> prefill, decode;
  for (int r = 0; r < a.warmup + a.runs; ++r) {
    pipe.generate_ids(prompts, options);
    if (r < a.warmup) continue;
    prefill.push_back(pipe.stats().prefill_tok_s());
    decode.push_back(pipe.stats().decode_tok_s());
  }
  const double best_prefill = *std::max_element(prefill.begin(), prefill.end());
  const double best_decode = *std::max_element(decode.begin(), decode.end());
  const double weight_mb = static_cast<double>(pipe.model().weight_bytes_per_token()) / 1e6;
  const std::string dtype = a.dtype.empty() ? "fp32" : a.dtype;
  if (a.json) {
    const nlohmann::ordered_json j = {
        {"model", path.string()},           {"model_type", info.model_type},
        {"prefill_tok_s", best_prefill},    {"decode_tok_s", best_decode},
        {"prefill_tok_s_median", median(prefill)}, {"decode_tok_s_median", median(decode)},
        {"prompt_tokens", prompt_tokens},   {"new_tokens", new_tokens},
        {"batch", batch},                   {"threads", threads},
        {"dtype", dtype},                   {"runs", a.runs},
        {"load_ms", load_ms},               {"weight_mb_per_token", weight_mb},
        {"isa", std::string(isa_name(active_isa()))}, {"gemm", kernels::gemm_backend()}};
    std::cout << j.dump() << '\n';
  } else {
    std::printf("model    %s (%s, %lld layers, vocab %lld), loaded in %.1f ms\n", path.string().c_str(),
                info.model_type.c_str(), static_cast<long long>(info.num_layers),
                static_cast<long long>(info.vocab_size), load_ms);
    std::printf("shape    batch %lld, prompt %lld tokens, %lld new tokens, %s, %d thread%s, GEMM by %s\n",
                static_cast<long long>(batch), static_cast<long long>(prompt_tokens),
                static_cast<long long>(new_tokens), dtype.c_str(), threads, threads == 1 ? "" : "s",
                kernels::gemm_backend().c_str());
    std::printf("prefill  %.1f tok/s (median %.1f)\n", best_prefill, median(prefill));
    std::printf("decode   %.1f tok/s (median %.1f), %.1f MB of weights read per step\n", best_decode, median(decode),
                weight_mb);
  }
}

}  // namespace tformer::cli::bench
