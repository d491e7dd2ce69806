// tformer bench: times BertForSequenceClassification forwards on a synthetic
// batch (B sequences of S token ids: [CLS], random ids, [SEP]; attention mask
// all ones), W warm-up runs then N timed ones, and reports median and min
// latency, throughput and load time. The ids come from a fixed 64-bit LCG
// that tools/torch_bert_bench.py reproduces, so both engines see the same input
// (scripts/bench_bert.sh runs them side by side). With --train it times full
// training steps instead (cmd_bench_train.cpp).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <time.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli/cmd_bench.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "tformer/kernels/gemm.h"
#include "tformer/core/cpu.h"
#include "tformer/core/error.h"
#include "tformer/core/thread_pool.h"
#include "tformer/models/causal_lm.h"
#include "tformer/models/bert.h"

namespace tformer::cli {

namespace bench {

std::pair<int32_t, int32_t> special_ids(const std::filesystem::path& dir, int64_t vocab_size) {
  int64_t cls = 101, sep = 102;
  std::ifstream in(dir / "vocab.txt");
  std::string line;
  for (int64_t i = 0; in && std::getline(in, line); ++i) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line == "[CLS]") cls = i;
    else if (line == "[SEP]") sep = i;
  }
  return {static_cast<int32_t>(std::min(cls, vocab_size - 1)),
          static_cast<int32_t>(std::min(sep, vocab_size - 1))};
}

// Row-major [batch, seq]: [CLS] id... [SEP]. state = state·A + C (mod 2^64),
// id = lo + (state >> 33) mod (vocab - lo), lo = 1000 for real vocabularies
// (past the special and unused tokens). tools/torch_bert_bench.py matches this.
std::vector<int32_t> make_ids(int64_t batch, int64_t seq, int64_t vocab, int32_t cls, int32_t sep,
                              uint64_t seed) {
  std::vector<int32_t> ids(static_cast<size_t>(batch * seq));
  const int64_t lo = vocab > 2000 ? 1000 : 0;
  uint64_t state = seed;
  for (int64_t b = 0; b < batch; ++b) {
    int32_t* row = ids.data() + b * seq;
    row[0] = cls;
    for (int64_t s = 1; s + 1 < seq; ++s) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      row[s] = static_cast<int32_t>(lo + static_cast<int64_t>((state >> 33) % static_cast<uint64_t>(vocab - lo)));
    }
    row[seq - 1] = sep;
  }
  return ids;
}

BenchSetup prepare(BenchArgs& a, int64_t default_batch, int64_t default_seq) {
  if (a.batch == 0) a.batch = default_batch;
  if (a.seq == 0) a.seq = default_seq;
  apply_threads(a.threads);
  return {ThreadPool::global().num_threads(), resolve_model_dir(a.model)};
}

double ms_since_process_start() {
  std::ifstream in("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command name (which may hold spaces) in parentheses;
  // the start time is field 22, the 20th after it.
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string field;
  for (int i = 0; i < 20 && rest >> field;) ++i;
  TF_CHECK(rest, "/proc/self/stat: no start time in '" << stat << "'");
  timespec now{};
  clock_gettime(CLOCK_BOOTTIME, &now);
  const double start_s = std::stod(field) / static_cast<double>(sysconf(_SC_CLK_TCK));
  return (static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec) - start_s) * 1e3;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Multiply-adds ×2 of one sequence: per layer the Q/K/V/output projections
// (4·S·H²), the feed-forward (2·S·H·FF) and the attention matmuls (2·S²·H);
// pooler and classifier are negligible. BERT-base at S=128: 22.3 GFLOP.
double gflop_per_sequence(const models::BertConfig& c, int64_t seq) {
  const double S = static_cast<double>(seq), H = static_cast<double>(c.hidden_size),
               FF = static_cast<double>(c.intermediate_size);
  const double per_layer = 2.0 * (4.0 * S * H * H + 2.0 * S * H * FF + 2.0 * S * S * H);
  return per_layer * static_cast<double>(c.num_hidden_layers) / 1e9;
}

}  // namespace bench

namespace {

using namespace bench;


void run_bench(BenchArgs a) {
  const auto [threads, dir] = prepare(a, 1, 128);

  const auto t_load = Clock::now();
  auto model = models::BertForSequenceClassification::from_pretrained(dir);
  model.set_weight_format(parse_dtype(a.dtype));
  const double load_ms = ms_since(t_load);
  const models::BertConfig& cfg = model.config();

  TF_CHECK(a.seq >= 2 && a.seq <= cfg.max_position_embeddings,
           "--seq " << a.seq << " must be between 2 and the model's max_position_embeddings ("
                    << cfg.max_position_embeddings << ")");
  const auto [cls, sep] = special_ids(dir, cfg.vocab_size);
  const std::vector<int32_t> ids = make_ids(a.batch, a.seq, cfg.vocab_size, cls, sep, a.seed);
  const std::vector<int32_t> mask(ids.size(), 1);
  models::BertInputs in;
  in.batch = a.batch;
  in.seq = a.seq;
  in.input_ids = ids.data();
  in.attention_mask = mask.data();

  double startup_ms = -1;  // at the first forward's end, warm-up or timed
  auto note_first_result = [&] {
    if (startup_ms < 0) startup_ms = ms_since_process_start();
  };
  Tensor logits;
  for (int i = 0; i < a.warmup; ++i) {
    logits = model.forward(in);
    note_first_result();
  }
  std::vector<double> times;
  times.reserve(static_cast<size_t>(a.runs));
  for (int i = 0; i < a.runs; ++i) {
    const auto t0 = Clock::now();
    logits = model.forward(in);
    times.push_back(ms_since(t0));
    note_first_result();
  }

  const std::vector<float> values = logits.to_vector();
  const bool finite = std::all_of(values.begin(), values.end(), [](float v) { return std::isfinite(v); });
  TF_CHECK(finite, "the forward pass produced non-finite logits");
  const std::vector<float> first(values.begin(), values.begin() + cfg.num_labels());

  const double med = median(times);
  const double best = *std::min_element(times.begin(), times.end());
  const double seq_per_s = static_cast<double>(a.batch) / (med / 1e3);
  const double gflop = gflop_per_sequence(cfg, a.seq);
  const double gflops = gflop * static_cast<double>(a.batch) / (med / 1e3);

  if (a.json) {
    nlohmann::json j = {{"median_ms", med},     {"min_ms", best},
                        {"load_ms", load_ms},   {"startup_ms", startup_ms},
                        {"batch", a.batch},
                        {"seq", a.seq},         {"threads", threads},
                        {"dtype", a.dtype.empty() ? "fp32" : a.dtype}, {"runs", a.runs},
                        {"warmup", a.warmup},   {"model", dir.string()},
                        {"seq_per_s", seq_per_s}, {"gflop_per_seq", gflop},
                        {"gflops", gflops},     {"isa", std::string(isa_name(active_isa()))},
                        {"gemm", kernels::gemm_backend()},
                        {"finite", finite},     {"logits", first}};
    std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  } else {
    std::printf("model       %s (%lld layers, hidden %lld, %lld heads, intermediate %lld)\n",
                dir.string().c_str(), static_cast<long long>(cfg.num_hidden_layers),
                static_cast<long long>(cfg.hidden_size), static_cast<long long>(cfg.num_attention_heads),
                static_cast<long long>(cfg.intermediate_size));
    std::printf("load        %.1f ms (%.0f ms from the process's start to the first logits)\n", load_ms,
                startup_ms);
    std::printf("shape       batch %lld x seq %lld, %s, %d thread%s, %s kernels, GEMM by %s\n",
                static_cast<long long>(a.batch), static_cast<long long>(a.seq),
                a.dtype.empty() ? "fp32" : a.dtype.c_str(), threads,
                threads == 1 ? "" : "s", std::string(isa_name(active_isa())).c_str(),
                kernels::gemm_backend().c_str());
    std::printf("latency     median %.2f ms, min %.2f ms (%d runs after %d warm-up)\n", med, best, a.runs,
                a.warmup);
    std::printf("throughput  %.2f sequences/s, %.1f GFLOP/s (%.2f GFLOP per sequence)\n", seq_per_s, gflops,
                gflop);
    std::printf("logits[0]  ");
    for (float v : first) std::printf(" %.6g", v);
    std::printf("\n");
  }
  std::cout.flush();
}

}  // namespace

void register_bench(CLI::App& app) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand(
      "bench",
      "Time BERT sequence-classification forwards (or, with --train, training steps) on a synthetic batch, "
      "or a decoder's prefill and decode tokens/s");
  cmd->add_option("--model", args->model,
                  "model directory or llama2.c file (default: the bundled BERT model); a GPT-2, Llama or "
                  "llama2.c model is timed as a decoder");
  cmd->add_option("--prompt-tokens", args->prompt_tokens, "decoders: prompt tokens per sequence (default 128)")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 20));
  cmd->add_option("--new-tokens", args->new_tokens, "decoders: decode steps after the prefill (default 128)")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 20));
  cmd->add_flag("--train", args->train,
                "time training steps (forward, backward, clipping, AdamW) instead of forwards");
  cmd->add_option("--batch", args->batch, "sequences per forward or step (default 1; 32 with --train)")
      ->check(CLI::Range(1, 1 << 16));
  cmd->add_option("--seq", args->seq, "tokens per sequence, [CLS] and [SEP] included (default 128; 64 with --train)")
      ->check(CLI::Range(2, 1 << 20));
  add_threads_option(*cmd, args->threads);
  cmd->add_option("--runs", args->runs, "timed forwards or steps (default 10)")->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--warmup", args->warmup, "untimed forwards or steps first (default 2)")
      ->check(CLI::Range(0, 1 << 20));
  cmd->add_option("--seed", args->seed, "seed of the random token ids (default 0)");
  cmd->add_option("--dropout", args->dropout,
                  "with --train: dropout probability, hidden and attention (default: the config's "
                  "hidden_dropout_prob and attention_probs_dropout_prob)")
      ->check(CLI::Range(0.0, 0.999));
  add_dtype_option(*cmd, args->dtype);
  cmd->add_option("--gemm", args->gemm,
                  "time one Linear GEMM instead, C[M,N] = A[M,K] . W^T with W packed (e.g. 128x768x3072)")
      ->excludes("--train")
      ->excludes("--model");
  cmd->add_flag("--json", args->json,
                "one JSON object: median_ms, min_ms, load_ms, batch, seq, threads, dtype, runs, model, ...");
  cmd->callback([args] {
    TF_CHECK(args->train || args->dropout < 0, "--dropout applies only with --train");
    TF_CHECK(!args->train || args->dtype != "int8", "--train runs in fp32 or bf16 (int8 is inference only)");
    if (!args->gemm.empty()) bench::run_bench_gemm(*args);
    else if (!args->train && models::is_causal_lm(resolve_model_dir(args->model))) bench::run_bench_decoder(*args);
    else if (args->train) bench::run_bench_train(*args);
    else run_bench(*args);
  });
}

}  // namespace tformer::cli
