// GPT-2 and Llama against transformers' outputs (../shared/fixtures:
// gpt2-tiny, llama-tiny, stories260K-hf): every prompt position's logits
// within 1e-4, and greedy continuations identical with the KV cache and
// without, alone and in a batch of prompts of different lengths; the
// llama2.c file of stories260K against the same model converted to HF.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "test_util.h"
#include "tformer/core/cpu.h"
#include "tformer/io/llama2c.h"
#include "tformer/io/safetensors.h"
#include "tformer/models/causal_lm.h"
#include "tformer/pipelines/text_generation.h"

namespace tformer::testing {
namespace {

namespace fs = std::filesystem;

struct PromptCase {
  std::vector<int32_t> input_ids, greedy_ids;
  fs::path logits_file;
};

std::vector<PromptCase> prompt_cases(const std::string& model) {
  std::vector<PromptCase> out;
  const fs::path dir = fixtures_dir() / model;
  auto add = [&](const nlohmann::json& j, size_t index) {
    PromptCase c;
    c.input_ids = j["input_ids"].get<std::vector<int32_t>>();
    c.greedy_ids = j["greedy_ids"].get<std::vector<int32_t>>();
    c.logits_file = dir / (j.contains("logits_file") ? j["logits_file"].get<std::string>()
                                                      : "logits_" + std::to_string(index) + ".safetensors");
    out.push_back(c);
  };
  if (fs::exists(dir / "generate.jsonl")) {
    std::ifstream in(dir / "generate.jsonl");
    std::string line;
    while (std::getline(in, line))
      if (!line.empty()) add(nlohmann::json::parse(line), out.size());
  } else {
    const nlohmann::json expected = load_json(dir / "expected.json");
    for (const auto& p : expected["prompts"]) add(p, out.size());
  }
  return out;
}

// Every position's logits for one prompt, from one forward from slot 0.
std::vector<float> prompt_logits(models::CausalLM& model, const std::vector<int32_t>& ids) {
  const int64_t n = static_cast<int64_t>(ids.size()), vocab = model.info().vocab_size;
  nn::KVCache cache;
  model.reserve_cache(cache, 1, n);
  std::vector<int64_t> start = {0}, positions(n);
  for (int64_t i = 0; i < n; ++i) positions[i] = i;
  std::vector<float> mask(n, 1.0f), logits(n * vocab);
  const nn::DecodeStep step{1, n, start.data(), positions.data(), mask.data(), n, n};
  model.forward(ids.data(), step, cache, nullptr, n, logits.data());
  return logits;
}

void expect_logits_match(models::CausalLM& model, const std::string& fixture) {
  const std::vector<PromptCase> cases = prompt_cases(fixture);
  ASSERT_GE(cases.size(), 3u) << fixture;
  for (const PromptCase& c : cases) {
    const auto file = io::SafetensorsFile::open(c.logits_file);
    const std::vector<float> expected = file->load("logits").to_vector();
    expect_close(prompt_logits(model, c.input_ids), expected, 1e-4, 1e-5, c.logits_file.string());
  }
}

pipelines::GenerationOptions greedy(int64_t new_tokens, bool use_cache) {
  pipelines::GenerationOptions o;
  o.max_new_tokens = new_tokens;
  o.use_cache = use_cache;
  o.stop_at_eos = false;  // the fixtures' continuations are full length
  return o;
}

// transformers' greedy_ids (prompt + continuation), through the pipeline's
// token interface, alone, without the cache, and all prompts in one batch.
void expect_greedy_match(const fs::path& model_path, const std::string& fixture) {
  pipelines::TextGenerationPipeline pipe(models::load_causal_lm(model_path), nullptr);
  const std::vector<PromptCase> cases = prompt_cases(fixture);
  ASSERT_GE(cases.size(), 3u) << fixture;
  std::vector<std::vector<int32_t>> prompts, expected;
  for (const PromptCase& c : cases) {
    prompts.push_back(c.input_ids);
    expected.emplace_back(c.greedy_ids.begin() + static_cast<std::ptrdiff_t>(c.input_ids.size()), c.greedy_ids.end());
  }
  for (size_t i = 0; i < cases.size(); ++i) {
    const int64_t n = static_cast<int64_t>(expected[i].size());
    for (bool use_cache : {true, false}) {
      const auto out = pipe.generate_ids({prompts[i]}, greedy(n, use_cache));
      EXPECT_EQ(out[0].output_ids, expected[i]) << fixture << " prompt " << i << " use_cache " << use_cache;
      EXPECT_EQ(out[0].finish_reason, "length");
    }
  }
  // A batch: the prompts have different lengths; each gets the same tokens as alone.
  size_t shortest = expected[0].size();
  for (const auto& e : expected) shortest = std::min(shortest, e.size());
  const auto batch = pipe.generate_ids(prompts, greedy(static_cast<int64_t>(shortest), true));
  for (size_t i = 0; i < cases.size(); ++i)
    EXPECT_EQ(batch[i].output_ids, std::vector<int32_t>(expected[i].begin(), expected[i].begin() + shortest))
        << fixture << " prompt " << i << " in a batch";
}

TEST(Gpt2LMHeadModel, PromptLogitsMatchTransformers) {
  auto model = models::load_causal_lm(fixtures_dir() / "gpt2-tiny");
  EXPECT_EQ(model->info().model_type, "gpt2");
  expect_logits_match(*model, "gpt2-tiny");
}

TEST(Gpt2LMHeadModel, GreedyMatchesTransformersWithAndWithoutCacheAloneAndBatched) {
  expect_greedy_match(fixtures_dir() / "gpt2-tiny", "gpt2-tiny");
}

TEST(LlamaForCausalLM, PromptLogitsMatchTransformersWithGroupedQueryAttention) {
  auto model = models::load_causal_lm(fixtures_dir() / "llama-tiny");
  EXPECT_EQ(model->info().model_type, "llama");
  expect_logits_match(*model, "llama-tiny");
}

TEST(LlamaForCausalLM, GreedyMatchesTransformersWithAndWithoutCacheAloneAndBatched) {
  expect_greedy_match(fixtures_dir() / "llama-tiny", "llama-tiny");
}

TEST(LlamaForCausalLM, PretrainedStories260KWithTiedEmbeddingsMatchesTransformers) {
  auto model = models::load_causal_lm(fixtures_dir() / "stories260K-hf");
  expect_logits_match(*model, "stories260K-hf");
  expect_greedy_match(fixtures_dir() / "stories260K-hf", "stories260K-hf");
}

const fs::path& llama2c_file() {
  static const fs::path path = shared_dir() / "models" / "stories260K" / "stories260K_v1.bin";
  return path;
}

TEST(Llama2c, Version1FileGivesTheLogitsOfTheConvertedModel) {
  ASSERT_TRUE(io::is_llama2c_model_file(llama2c_file()));
  auto model = models::load_causal_lm(llama2c_file());
  EXPECT_EQ(model->info().vocab_size, 512);
  EXPECT_EQ(model->info().max_positions, 512);
  expect_logits_match(*model, "stories260K-hf");
}

// run.c's greedy steps (BOS + 256 tokens, prompt included), up to the BOS
// where run.c stops.
TEST(Llama2c, GreedyStepsMatchLlama2cUntilItsStoryEnds) {
  pipelines::TextGenerationPipeline pipe(models::load_causal_lm(llama2c_file()), nullptr);
  const nlohmann::json fixture = load_json(fixtures_dir() / "stories260K-hf" / "expected.json");
  for (const auto& p : fixture["prompts"]) {
    const auto prompt = p["input_ids"].get<std::vector<int32_t>>();
    std::vector<int32_t> steps = p["steps_ids"].get<std::vector<int32_t>>();
    pipelines::GenerationOptions o;
    o.max_new_tokens = static_cast<int64_t>(steps.size() - prompt.size());
    const auto out = pipe.generate_ids({prompt}, o);
    std::vector<int32_t> expected(steps.begin() + static_cast<std::ptrdiff_t>(prompt.size()), steps.end());
    auto bos = std::find(expected.begin(), expected.end(), 1);
    const bool ends_at_bos = bos != expected.end();
    if (ends_at_bos) expected.erase(bos + 1, expected.end());
    EXPECT_EQ(out[0].output_ids, expected) << p["prompt"];
    EXPECT_EQ(out[0].finish_reason, ends_at_bos ? "eos" : "length");
  }
}

// bf16 and int8 weights: the prompt logits stay near fp32's (bf16 keeps 8
// bits of mantissa, int8 7 bits per output channel) and every format still
// continues the prompt greedily with mostly the same tokens.
TEST(CausalLMDtypes, Bf16AndInt8LogitsStayCloseToFp32) {
  for (const char* fixture : {"gpt2-tiny", "llama-tiny", "stories260K-hf"}) {
    auto model = models::load_causal_lm(fixtures_dir() / fixture);
    const std::vector<int32_t> ids = prompt_cases(fixture)[1].input_ids;
    const std::vector<float> fp32 = prompt_logits(*model, ids);
    const int64_t fp32_bytes = model->weight_bytes_per_token();
    float scale = 0;
    for (float v : fp32) scale = std::max(scale, std::fabs(v));
    for (auto [format, tolerance] : {std::pair{kernels::GemmFormat::BF16, 0.03f}, {kernels::GemmFormat::INT8, 0.06f}}) {
      model->set_weight_format(format);
      const std::vector<float> low = prompt_logits(*model, ids);
      float worst = 0;
      for (size_t i = 0; i < fp32.size(); ++i) worst = std::max(worst, std::fabs(low[i] - fp32[i]));
      EXPECT_LT(worst, tolerance * scale) << fixture << " format " << static_cast<int>(format);
      EXPECT_GT(worst, 0.0f) << fixture << ": the format changed nothing";
      // Decoding reads every weight per token: bf16 halves those bytes where
      // the CPU computes in bf16, int8 quarters them where it has VNNI.
      const bool native = format == kernels::GemmFormat::BF16 ? cpu_supports_avx512_bf16() : cpu_supports_avx512_vnni();
      if (native)
        EXPECT_EQ(model->weight_bytes_per_token(), fp32_bytes / (format == kernels::GemmFormat::BF16 ? 2 : 4));
    }
  }
}

}  // namespace
}  // namespace tformer::testing
