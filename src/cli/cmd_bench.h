// Shared by `tformer bench` (cmd_bench.cpp, forward passes) and its --train
// mode (cmd_bench_train.cpp, full optimizer steps): arguments, the synthetic
// batch and timing helpers.
#pragma once
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace tformer::models {
struct BertConfig;
}

namespace tformer::cli::bench {

struct BenchArgs {
  std::string model;
  int64_t batch = 0;  // 0: the mode's default (1 forward, 32 train)
  int64_t seq = 0;    // 0: the mode's default (128 forward, 64 train)
  int threads = 0;
  int runs = 10;
  int warmup = 2;
  uint64_t seed = 0;
  bool json = false;
  bool train = false;
  float dropout = -1;  // --train: hidden and attention dropout; < 0: the config's probabilities
  std::string gemm;    // --gemm MxNxK: time one packed-weight GEMM instead of a model
  std::string dtype;   // --dtype: fp32 (default) or bf16, forward passes and --gemm
  int64_t prompt_tokens = 128, new_tokens = 128;  // decoders
};

using Clock = std::chrono::steady_clock;

inline double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Milliseconds since this process started (Linux: /proc/self/stat's start
// time, in clock ticks of 10 ms, against CLOCK_BOOTTIME). The start-up
// that a user waits through: exec, load, first forward.
double ms_since_process_start();

// [CLS] and [SEP] ids from the model's vocab.txt; bert-base-uncased's 101 and
// 102 when there is none. Clamped into the vocabulary.
std::pair<int32_t, int32_t> special_ids(const std::filesystem::path& dir, int64_t vocab_size);

// Row-major [batch, seq]: [CLS] id... [SEP] from a fixed 64-bit LCG that
// tools/torch_bert_bench.py reproduces.
std::vector<int32_t> make_ids(int64_t batch, int64_t seq, int64_t vocab, int32_t cls, int32_t sep,
                              uint64_t seed);

double median(std::vector<double> v);

// What both modes do first: fill in the mode's default batch and length, size
// the thread pool, find the model directory.
struct BenchSetup {
  int threads = 0;
  std::filesystem::path dir;
};
BenchSetup prepare(BenchArgs& a, int64_t default_batch, int64_t default_seq);

// 2 × multiply-adds of one sequence's forward (projections, feed-forward,
// attention matmuls; pooler and classifier neglected).
double gflop_per_sequence(const models::BertConfig& c, int64_t seq);

// `tformer bench --train`: timed optimizer steps (cmd_bench_train.cpp).
void run_bench_train(const BenchArgs& a);
// `tformer bench` on a decoder (cmd_bench_decoder.cpp): prefill and decode tokens/s.
void run_bench_decoder(const BenchArgs& a);
// `tformer bench --gemm MxNxK`: one Linear-layer GEMM (cmd_bench_gemm.cpp).
void run_bench_gemm(const BenchArgs& a);

}  // namespace tformer::cli::bench
