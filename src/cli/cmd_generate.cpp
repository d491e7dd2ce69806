// tformer generate: continues prompts with a decoder (GPT-2, Llama, a
// llama2.c file; default: the bundled stories260K), streaming each
// continuation to stdout after its prompt as it is produced, and reporting
// prompt and generation tokens/s on stderr. Prompts come from the argument
// or, without one, from stdin one per line. --json prints one object per
// prompt instead: prompt, input_ids, output_ids, text, finish_reason.
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "tformer/core/error.h"
#include "tformer/core/thread_pool.h"
#include "tformer/pipelines/text_generation.h"

namespace tformer::cli {

namespace {

struct GenerateArgs {
  std::string model;
  std::vector<std::string> prompts;
  int64_t max_new_tokens = 256;
  float temperature = 0.8f, top_p = 0.95f, repetition_penalty = 1.0f;
  int64_t top_k = 40;
  std::optional<uint64_t> seed;
  std::vector<std::string> stop;
  int threads = 0;
  std::string dtype;
  bool json = false;
};

void run_generate(const GenerateArgs& a) {
  apply_threads(a.threads);
  auto pipe = pipelines::TextGenerationPipeline::from_pretrained(resolve_generation_model(a.model));
  pipe.model().set_weight_format(parse_dtype(a.dtype));
  pipelines::GenerationOptions options;
  options.max_new_tokens = a.max_new_tokens;
  options.sampling.temperature = a.temperature;
  options.sampling.top_k = a.top_k;
  options.sampling.top_p = a.top_p;
  options.sampling.repetition_penalty = a.repetition_penalty;
  options.sampling.seed = a.seed ? *a.seed : std::random_device{}();
  options.stop = a.stop;
  TF_CHECK(a.top_p > 0, "--top-p must be in (0, 1], got " << a.top_p);
  options.validate();

  const bool from_stdin = a.prompts.empty();
  const std::vector<std::string> prompts = from_stdin ? read_stdin_lines() : a.prompts;
  for (size_t i = 0; i < prompts.size(); ++i) {
    std::vector<pipelines::Generation> out;
    try {
      if (a.json) {
        out = pipe({prompts[i]}, options);
      } else {
        std::cout << prompts[i] << std::flush;
        out = pipe({prompts[i]}, options, [](size_t, std::string_view text) { std::cout << text << std::flush; });
        std::cout << '\n' << std::flush;
      }
    } catch (const Error& e) {
      TF_FAIL((from_stdin ? "stdin line " : "prompt ") << i + 1 << ": " << e.what());
    }
    const pipelines::Generation& g = out[0];
    if (a.json) {
      const nlohmann::ordered_json line = {{"prompt", prompts[i]},   {"input_ids", g.input_ids},
                                           {"output_ids", g.output_ids}, {"text", g.text},
                                           {"finish_reason", g.finish_reason}};
      std::cout << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n' << std::flush;
    }
    const pipelines::GenerationStats& s = pipe.stats();
    std::fprintf(stderr, "prompt: %lld tokens, %.1f tok/s; generation: %zu tokens, %.1f tok/s (%s; %d threads, %s)\n",
                 static_cast<long long>(s.prompt_tokens), s.prefill_tok_s(), g.output_ids.size(),
                 s.decode_tok_s(), g.finish_reason.c_str(), ThreadPool::global().num_threads(),
                 a.dtype.empty() ? "fp32" : a.dtype.c_str());
  }
}

}  // namespace

void register_generate(CLI::App& app) {
  auto a = std::make_shared<GenerateArgs>();
  CLI::App* cmd = app.add_subcommand(
      "generate",
      "Continue a prompt with a decoder model (GPT-2, Llama, llama2.c; default: the bundled stories260K), "
      "streaming the text (prompts from the argument, else stdin one per line)");
  cmd->add_option("--model", a->model, "model directory or llama2.c .bin file (default: bundled stories260K)");
  cmd->add_option("prompt", a->prompts, "the prompt (default: stdin, one per line)");
  cmd->add_option("--max-new-tokens", a->max_new_tokens, "tokens to generate at most (default 256)")
      ->check(CLI::Range(int64_t(0), int64_t(1) << 24));
  cmd->add_option("--temperature", a->temperature, "sampling temperature; 0 is greedy (default 0.8)")
      ->check(CLI::Range(0.0f, 100.0f));
  cmd->add_option("--top-k", a->top_k, "sample from the k most likely tokens; 0 for all (default 40)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--top-p", a->top_p, "sample from the fewest tokens whose probability reaches p (default 0.95)")
      ->check(CLI::Range(0.0f, 1.0f));
  cmd->add_option("--repetition-penalty", a->repetition_penalty, "divide the logits of seen tokens by R (default 1)")
      ->check(CLI::Range(0.01f, 100.0f));
  cmd->add_option("--seed", a->seed, "random seed for sampling (default: a fresh one)");
  cmd->add_option("--stop", a->stop, "stop where this string appears (repeatable); it is not printed");
  add_threads_option(*cmd, a->threads);
  add_dtype_option(*cmd, a->dtype);
  cmd->add_flag("--json", a->json, "one JSON object per prompt: prompt, input_ids, output_ids, text, finish_reason");
  cmd->callback([a] { run_generate(*a); });
}

}  // namespace tformer::cli
