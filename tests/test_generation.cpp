// Text generation end to end: the bundled stories260K through the CLI
// (greedy text = llama2.c's run.c, as its Hugging Face conversion gives it
// too), --json, stdin prompts, streaming and stop strings through the API,
// and the bad inputs: absurd flags, a prompt past the context, an unknown
// model_type, a missing tensor, truncated or lying llama2.c files.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_io_support.h"
#include "test_util.h"
#include "tformer/core/error.h"
#include "tformer/io/llama2c.h"
#include "tformer/models/causal_lm.h"
#include "tformer/pipelines/text_generation.h"

namespace tformer::testing {
namespace {

namespace fs = std::filesystem;
using io::testing::read_bytes;
using io::testing::TempDir;
using io::testing::write_bytes;

fs::path bundled() { return source_dir() / "models" / "stories260K"; }

// Runs of whitespace as one space, ends trimmed: run.c prints its text
// with a trailing newline and no spacing rules of its own.
std::string normalized(const std::string& s) {
  std::istringstream in(s);
  std::string word, out;
  while (in >> word) out += (out.empty() ? "" : " ") + word;
  return out;
}

std::string read_text(const fs::path& p) { return read_bytes(p); }

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// llama2.c's run.c -n 256 runs positions 0 to 255, BOS and prompt included,
// and prints the token each predicts: 257 − P new tokens after a prompt of P.
int64_t run_c_new_tokens(const std::string& prompt) {
  auto pipe = pipelines::TextGenerationPipeline::from_pretrained(bundled());
  return 257 - static_cast<int64_t>(pipe.tokenizer().encode(prompt).input_ids.size());
}

TEST(GenerateCli, BundledStoryTellerGreedyTextIsLlama2cRunC) {
  const fs::path dir = fixtures_dir() / "stories260K-llama2c";
  for (int n = 1; n <= 3; ++n) {
    std::string prompt = read_text(dir / ("prompt" + std::to_string(n) + ".txt"));
    while (!prompt.empty() && (prompt.back() == '\n' || prompt.back() == '\r')) prompt.pop_back();
    const std::string expected = read_text(dir / ("out" + std::to_string(n) + ".txt"));
    const CommandResult r = run_command(cli() + " generate --temperature 0 --max-new-tokens " +
                                        std::to_string(run_c_new_tokens(prompt)) + " " + shell_quote(prompt));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(normalized(r.output), normalized(expected)) << "prompt " << n;
  }
}

TEST(GenerateCli, HuggingFaceLayoutOfTheSameModelWritesTheSameText) {
  auto llama2c = pipelines::TextGenerationPipeline::from_pretrained(bundled());
  auto hf = pipelines::TextGenerationPipeline::from_pretrained(fixtures_dir() / "stories260K-hf");
  pipelines::GenerationOptions greedy;
  greedy.max_new_tokens = 200;
  for (const std::string prompt : {"", "One day, a little bird", "Sam and Mia went to the park"}) {
    const auto a = llama2c({prompt}, greedy), b = hf({prompt}, greedy);
    EXPECT_EQ(a[0].input_ids, b[0].input_ids) << prompt;
    // llama2.c's file also ends a story at BOS; transformers' config only at EOS.
    const size_t n = std::min(a[0].output_ids.size(), b[0].output_ids.size());
    EXPECT_EQ(std::vector<int32_t>(a[0].output_ids.begin(), a[0].output_ids.begin() + n),
              std::vector<int32_t>(b[0].output_ids.begin(), b[0].output_ids.begin() + n))
        << prompt;
    EXPECT_GT(n, 100u) << prompt;
  }
}

TEST(GenerateCli, WritesAStoryWithNoFlags) {
  const CommandResult r = run_command(cli() + " generate \"Once upon a time\" 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.rfind("Once upon a time", 0), 0u) << r.output;
  EXPECT_GT(r.output.size(), 200u) << r.output;
  EXPECT_NE(r.output.find("tok/s"), std::string::npos) << r.output;
}

TEST(GenerateCli, JsonFromStdinOneObjectPerPrompt) {
  const CommandResult r = run_command("printf 'Once upon a time\\nThe dog\\n' | " + cli() +
                                      " generate --json --temperature 0 --max-new-tokens 12 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::istringstream lines(r.output);
  std::string line;
  std::vector<nlohmann::json> objects;
  while (std::getline(lines, line)) objects.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(objects.size(), 2u);
  EXPECT_EQ(objects[0]["prompt"], "Once upon a time");
  EXPECT_EQ(objects[0]["input_ids"], nlohmann::json({1, 403, 407, 261, 378}));
  EXPECT_EQ(objects[0]["output_ids"].size(), 12u);
  EXPECT_EQ(objects[0]["finish_reason"], "length");
  EXPECT_EQ(objects[0]["text"].get<std::string>().rfind(", there was", 0), 0u) << objects[0]["text"];
  EXPECT_EQ(objects[1]["prompt"], "The dog");
}

TEST(GenerateCli, SampledTextDependsOnlyOnTheSeed) {
  const std::string cmd = cli() + " generate --seed 7 --max-new-tokens 40 'Once upon a time' 2>/dev/null";
  const CommandResult a = run_command(cmd), b = run_command(cmd);
  ASSERT_EQ(a.exit_code, 0);
  EXPECT_EQ(a.output, b.output);
  const CommandResult c = run_command(cli() + " generate --seed 8 --max-new-tokens 40 'Once upon a time' 2>/dev/null");
  EXPECT_NE(a.output, c.output);
}

TEST(GenerateCli, AbsurdFlagsAreRefusedNamingTheFlag) {
  for (const std::string flags : {"--top-p 2", "--top-p 0", "--temperature -1", "--top-k -3", "--max-new-tokens -5",
                                  "--repetition-penalty 0", "--dtype fp64", "--threads -2"}) {
    const CommandResult r = run_command(cli() + " generate " + flags + " hello 2>&1");
    EXPECT_NE(r.exit_code, 0) << flags;
    const std::string flag = flags.substr(0, flags.find(' '));
    EXPECT_NE(r.output.find(flag), std::string::npos) << flags << ": " << r.output;
  }
}

TEST(Generation, StreamedPiecesJoinIntoTheTextAndStopStringsEndIt) {
  auto pipe = pipelines::TextGenerationPipeline::from_pretrained(bundled());
  pipelines::GenerationOptions o;
  o.max_new_tokens = 80;
  std::string streamed;
  const auto full = pipe({"Once upon a time"}, o, [&](size_t, std::string_view t) { streamed += t; });
  EXPECT_EQ(streamed, full[0].text);
  ASSERT_NE(full[0].text.find("Lily"), std::string::npos) << full[0].text;

  o.stop = {"Lily"};
  streamed.clear();
  const auto stopped = pipe({"Once upon a time"}, o, [&](size_t, std::string_view t) { streamed += t; });
  EXPECT_EQ(stopped[0].finish_reason, "stop");
  EXPECT_EQ(stopped[0].text, full[0].text.substr(0, full[0].text.find("Lily")));
  EXPECT_EQ(streamed, stopped[0].text);
}

// An empty prompt is BOS alone: the story's first piece ("▁Once") starts the
// text without its dummy-prefix space, as SentencePiece's decode drops it;
// after a prompt the space separates the words.
TEST(Generation, EmptyPromptTextStartsWithoutTheDummyPrefixSpace) {
  auto pipe = pipelines::TextGenerationPipeline::from_pretrained(bundled());
  pipelines::GenerationOptions o;
  o.max_new_tokens = 4;
  EXPECT_EQ(pipe({""}, o)[0].text, "Once upon a time");
  EXPECT_EQ(pipe({"Once upon a time"}, o)[0].text, ", there was a");
  EXPECT_EQ(pipe({"Once upon a"}, o)[0].text.substr(0, 5), " time");
}

TEST(Generation, PromptLongerThanTheContextNamesBothLengths) {
  auto pipe = pipelines::TextGenerationPipeline::from_pretrained(fixtures_dir() / "llama-tiny");
  std::string prompt;
  for (int i = 0; i < 300; ++i) prompt += "Once ";
  try {
    pipe({prompt}, {});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("context of 256"), std::string::npos) << e.what();
  }
  // Up to the context, generation stops there: finish_reason length.
  pipelines::GenerationOptions o;
  o.max_new_tokens = 1000;
  o.stop_at_eos = false;
  const auto out = pipe.generate_ids({std::vector<int32_t>(250, 300)}, o);
  EXPECT_EQ(out[0].output_ids.size(), 6u);
  EXPECT_EQ(out[0].finish_reason, "length");
}

void expect_load_error(const fs::path& path, const std::vector<std::string>& fragments) {
  try {
    models::load_causal_lm(path);
    FAIL() << path << ": no error";
  } catch (const Error& e) {
    for (const std::string& f : fragments) EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << e.what();
  }
}

// A KV cache sized for fewer sequences, fewer layers or narrower keys (another
// model's) is refused before a key is written into it.
TEST(Generation, ACacheOfTheWrongShapeIsRefused) {
  auto llama = models::load_causal_lm(fixtures_dir() / "llama-tiny");  // 2 layers, 2 kv heads of 16
  const int32_t ids[2] = {1, 2};
  const int64_t start[2] = {0, 0}, positions[2] = {0, 0};
  const float mask[8] = {1, 0, 0, 0, 1, 0, 0, 0};
  std::vector<float> logits(2 * 512);
  const nn::DecodeStep step{2, 1, start, positions, mask, 4, 1};
  nn::KVCache one_sequence, one_layer, narrow;
  llama->reserve_cache(one_sequence, 1, 4);
  one_layer.reserve(1, 2, 4, 32);
  narrow.reserve(2, 2, 4, 16);
  for (nn::KVCache* cache : {&one_sequence, &one_layer, &narrow})
    EXPECT_THROW(llama->forward(ids, step, *cache, nullptr, 2, logits.data()), Error);
  nn::KVCache right;
  llama->reserve_cache(right, 2, 4);
  EXPECT_NO_THROW(llama->forward(ids, step, right, nullptr, 2, logits.data()));
}

TEST(Generation, UnknownModelTypeAndMissingTensorAreNamed) {
  TempDir dir;
  const fs::path src = fixtures_dir() / "llama-tiny";
  for (const char* f : {"model.safetensors", "tokenizer.model"}) fs::copy_file(src / f, dir.path() / f);
  nlohmann::json config = load_json(src / "config.json");
  config["model_type"] = "mamba";
  write_bytes(dir.path() / "config.json", config.dump());
  expect_load_error(dir.path(), {"config.json", "model_type", "mamba"});

  config["model_type"] = "llama";
  config["tie_word_embeddings"] = false;
  config["num_hidden_layers"] = 3;  // the checkpoint has 2
  write_bytes(dir.path() / "config.json", config.dump());
  expect_load_error(dir.path(), {"model.safetensors", "model.layers.2."});
}

TEST(Llama2c, TruncatedOrLyingFilesAreRefusedNamingTheFile) {
  const std::string good = read_bytes(bundled() / "stories260K.bin");
  TempDir dir;
  const fs::path p = dir.path() / "model.bin";
  for (size_t cut : {size_t(0), size_t(4), size_t(27), size_t(100), size_t(256), good.size() / 2, good.size() - 4}) {
    write_bytes(p, good.substr(0, cut));
    try {
      io::Llama2cCheckpoint::open(p);
      FAIL() << "truncated at " << cut << ": no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(p.string()), std::string::npos) << e.what();
    }
  }
  // A header whose fields lie: each refused with the field's name, or by the size check.
  const std::pair<size_t, const char*> fields[] = {{8, "dim"},  {12, "hidden_dim"}, {16, "n_layers"},
                                                   {20, "n_heads"}, {24, "n_kv_heads"}, {32, "seq_len"}};
  for (const auto& [offset, name] : fields)
    for (int32_t value : {0, -7, 1 << 30, 3}) {
      if (std::string(name) == "seq_len" && value == 3) continue;  // a context of 3: odd, but a model
      std::string bad = good;
      std::memcpy(bad.data() + offset, &value, 4);
      write_bytes(p, bad);
      try {
        io::Llama2cCheckpoint::open(p);
        ADD_FAILURE() << name << " = " << value << ": no error";
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(p.string()), std::string::npos) << e.what();
      }
    }
  std::string bad_version = good;
  bad_version[4] = 9;
  write_bytes(p, bad_version);
  EXPECT_THROW(io::Llama2cCheckpoint::open(p), Error);
  // Through the CLI: exit status 1 and the file named.
  write_bytes(p, good.substr(0, good.size() / 3));
  const CommandResult r = run_command(cli() + " generate --model " + p.string() + " hi 2>&1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find(p.string()), std::string::npos) << r.output;
}

TEST(Llama2c, Version0FileGivesTheSameModel) {
  // The version-0 layout of the bundled file (as llama2.c's legacy export writes it).
  const std::string v1 = read_bytes(bundled() / "stories260K.bin");
  const io::Llama2cCheckpoint ckpt = io::Llama2cCheckpoint::open(bundled() / "stories260K.bin");
  const io::Llama2cHeader& h = ckpt.header();
  const size_t floats_per = 4;
  const char* w = v1.data() + 256;
  const int64_t L = h.n_layers, d = h.dim, f = h.hidden_dim, kv = h.n_kv_heads * h.head_dim(), V = h.vocab_size;
  std::vector<std::pair<size_t, size_t>> v1_sections;  // offset, floats
  size_t off = 0;
  for (int64_t n : {L * d, L * d, d, V * d, L * d * d, L * kv * d, L * kv * d, L * d * d, L * f * d, L * d * f,
                    L * f * d}) {
    v1_sections.emplace_back(off, n);
    off += n;
  }
  auto section = [&](int i) { return std::string(w + v1_sections[i].first * floats_per, v1_sections[i].second * 4); };
  std::string v0(28, '\0');
  const int32_t params[7] = {int32_t(d), int32_t(f), int32_t(L), int32_t(h.n_heads), int32_t(h.n_kv_heads),
                             int32_t(V), int32_t(h.seq_len)};
  std::memcpy(v0.data(), params, 28);
  for (int i : {3, 0, 4, 5, 6, 7, 1, 8, 9, 10, 2}) v0 += section(i);
  v0 += std::string(2 * h.seq_len * (h.head_dim() / 2) * 4, '\0');  // freq_cis_real, freq_cis_imag
  TempDir dir;
  write_bytes(dir.path() / "v0.bin", v0);
  ASSERT_TRUE(io::is_llama2c_model_file(dir.path() / "v0.bin"));
  auto a = models::load_causal_lm(bundled() / "stories260K.bin");
  auto b = models::load_causal_lm(dir.path() / "v0.bin");
  pipelines::TextGenerationPipeline pa(std::move(a), nullptr), pb(std::move(b), nullptr);
  pipelines::GenerationOptions o;
  o.max_new_tokens = 30;
  EXPECT_EQ(pa.generate_ids({{1, 403}}, o)[0].output_ids, pb.generate_ids({{1, 403}}, o)[0].output_ids);
}

// A model whose weights hold NaN and infinities (a corrupt file, as a fuzzer
// found one) still generates: defined arithmetic everywhere, no conversion of
// NaN to an integer (UBSan checks it under scripts/test.sh --sanitize).
TEST(Llama2c, NonFiniteWeightsGenerateWithoutUndefinedBehaviour) {
  std::string bytes = read_bytes(source_dir() / "fuzz" / "corpus" / "fuzz_llama2c_model" / "tiny_v1.bin");
  const float bad[] = {std::nanf(""), INFINITY, -INFINITY};
  for (size_t i = 256, k = 0; i + 4 <= bytes.size(); i += 4 * 37, ++k) std::memcpy(bytes.data() + i, &bad[k % 3], 4);
  TempDir dir;
  write_bytes(dir.path() / "model.bin", bytes);
  pipelines::TextGenerationPipeline pipe(models::load_causal_lm(dir.path() / "model.bin"), nullptr);
  for (auto format : {kernels::GemmFormat::F32, kernels::GemmFormat::BF16, kernels::GemmFormat::INT8}) {
    pipe.model().set_weight_format(format);
    for (float temperature : {0.0f, 1.0f}) {
      pipelines::GenerationOptions o;
      o.max_new_tokens = 2;  // the seed model's context is 4
      o.stop_at_eos = false;
      o.sampling.temperature = temperature;
      o.sampling.repetition_penalty = 1.3f;
      const auto out = pipe.generate_ids({{1, 2}}, o);
      ASSERT_EQ(out[0].output_ids.size(), 2u);
      for (int32_t id : out[0].output_ids) EXPECT_TRUE(id >= 0 && id < 6) << id;
    }
  }
}

}  // namespace
}  // namespace tformer::testing
