// tformer bench --train: times full training steps of a
// BertForSequenceClassification on a synthetic batch, i.e. what one optimizer
// step of `tformer train` costs (with --grad-accum 1):
//
//   AdamW::zero_grad → train_step (forward, cross-entropy, backward, with the
//   config's hidden and attention-probability dropout seeded by the step index) → clip_grad_norm(1.0)
//   → AdamW::step (lr 1e-4, weight decay 0.01 on all but biases and
//   LayerNorm weights, as the Trainer groups them)
//
// The batch is `tformer bench`'s ([CLS], LCG ids, [SEP]; mask all ones) with
// labels from a second LCG stream; tools/torch_bert_train_bench.py builds the
// same batch and takes the same step in PyTorch (scripts/bench_bert_train.sh
// runs both). W warm-up steps, then N timed ones; the weights keep training
// throughout, as they would in a real run.
#include <algorithm>
#include <cmath>
#include <cstdint>
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
#include "tformer/models/bert.h"
#include "tformer/train/adamw.h"
#include "tformer/train/clip.h"

namespace tformer::cli::bench {

namespace {

constexpr double kLr = 1e-4;
constexpr double kWeightDecay = 0.01;
constexpr float kMaxGradNorm = 1.0f;

// labels[b] = (state >> 33) mod num_labels with state = state·A + C (mod 2^64)
// from state = seed ^ 0x5bd1e995 (a stream apart from the ids').
// tools/torch_bert_train_bench.py matches this.
std::vector<int32_t> make_labels(int64_t batch, int64_t num_labels, uint64_t seed) {
  std::vector<int32_t> labels(static_cast<size_t>(batch));
  uint64_t state = seed ^ 0x5bd1e995ULL;
  for (auto& l : labels) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    l = static_cast<int32_t>((state >> 33) % static_cast<uint64_t>(num_labels));
  }
  return labels;
}

}  // namespace

void run_bench_train(const BenchArgs& args) {
  BenchArgs a = args;
  const auto [threads, dir] = prepare(a, 32, 64);

  const auto t_load = Clock::now();
  auto model = models::BertForSequenceClassification::from_pretrained(dir);
  model.enable_grad();
  model.set_weight_format(parse_dtype(a.dtype));  // BF16: mixed precision, as `tformer train --dtype bf16`
  const std::string dtype = a.dtype.empty() ? "fp32" : a.dtype;
  nn::ParameterList params = model.parameters();
  train::AdamW optimizer(params, train::AdamWOptions{.lr = kLr, .weight_decay = kWeightDecay});
  const double load_ms = ms_since(t_load);
  const models::BertConfig& cfg = model.config();
  const float dropout = a.dropout >= 0 ? a.dropout : cfg.hidden_dropout_prob;
  const float attention_dropout = a.dropout >= 0 ? a.dropout : cfg.attention_probs_dropout_prob;
  TF_CHECK(dropout < 1, "--dropout " << dropout << " must be in [0, 1)");

  TF_CHECK(a.seq >= 2 && a.seq <= cfg.max_position_embeddings,
           "--seq " << a.seq << " must be between 2 and the model's max_position_embeddings ("
                    << cfg.max_position_embeddings << ")");
  const auto [cls, sep] = special_ids(dir, cfg.vocab_size);
  const std::vector<int32_t> ids = make_ids(a.batch, a.seq, cfg.vocab_size, cls, sep, a.seed);
  const std::vector<int32_t> mask(ids.size(), 1);
  const std::vector<int32_t> labels = make_labels(a.batch, cfg.num_labels(), a.seed);
  models::BertInputs in;
  in.batch = a.batch;
  in.seq = a.seq;
  in.input_ids = ids.data();
  in.attention_mask = mask.data();

  int64_t step_index = 0;
  float loss = 0, norm = 0, first_loss = 0, first_norm = 0;
  auto step = [&] {
    optimizer.zero_grad();
    loss = model.train_step(in, labels.data(), 1.0f,
                            {.hidden_dropout = dropout,
                             .attention_dropout = attention_dropout,
                             .seed = static_cast<uint64_t>(step_index)});
    norm = train::clip_grad_norm(params, kMaxGradNorm);
    optimizer.step(kLr);
    if (step_index == 0) first_loss = loss, first_norm = norm;
    ++step_index;
  };
  for (int i = 0; i < a.warmup; ++i) step();
  std::vector<double> times;
  times.reserve(static_cast<size_t>(a.runs));
  for (int i = 0; i < a.runs; ++i) {
    const auto t0 = Clock::now();
    step();
    times.push_back(ms_since(t0));
  }
  TF_CHECK(std::isfinite(loss) && std::isfinite(norm),
           "training produced a non-finite loss (" << loss << ") or gradient norm (" << norm << ")");

  int64_t n_params = 0;
  for (const nn::Parameter* p : params) n_params += p->value.numel();
  const double med = median(times);
  const double best = *std::min_element(times.begin(), times.end());
  const double seq_per_s = static_cast<double>(a.batch) / (med / 1e3);
  // Backward ≈ 2 × forward (gradients of inputs and of weights).
  const double gflop = 3.0 * gflop_per_sequence(cfg, a.seq);
  const double gflops = gflop * static_cast<double>(a.batch) / (med / 1e3);
  const std::string isa(isa_name(active_isa()));

  if (a.json) {
    nlohmann::json j = {{"mode", "train"},         {"median_ms", med},
                        {"min_ms", best},          {"seq_per_s", seq_per_s},
                        {"load_ms", load_ms},      {"batch", a.batch},
                        {"seq", a.seq},            {"threads", threads},
                        {"dtype", dtype},          {"runs", a.runs},
                        {"warmup", a.warmup},      {"model", dir.string()},
                        {"params", n_params},      {"dropout", dropout},
                        {"attention_dropout", attention_dropout},
                        {"lr", kLr},               {"weight_decay", kWeightDecay},
                        {"max_grad_norm", kMaxGradNorm}, {"gflop_per_seq", gflop},
                        {"gflops", gflops},        {"isa", isa},
                        {"gemm", kernels::gemm_backend()}, {"first_loss", first_loss},
                        {"first_grad_norm", first_norm},   {"last_loss", loss},
                        {"finite", true}};
    std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  } else {
    std::printf("model       %s (%lld layers, hidden %lld, %lld heads, intermediate %lld; %.1fM parameters)\n",
                dir.string().c_str(), static_cast<long long>(cfg.num_hidden_layers),
                static_cast<long long>(cfg.hidden_size), static_cast<long long>(cfg.num_attention_heads),
                static_cast<long long>(cfg.intermediate_size), static_cast<double>(n_params) / 1e6);
    std::printf("load        %.1f ms (weights, gradients, optimiser)\n", load_ms);
    std::printf("step        batch %lld x seq %lld, %s, %d thread%s, %s kernels, GEMM by %s\n",
                static_cast<long long>(a.batch), static_cast<long long>(a.seq), dtype.c_str(), threads,
                threads == 1 ? "" : "s", isa.c_str(), kernels::gemm_backend().c_str());
    std::printf("            forward + backward (dropout %g, attention dropout %g) + clip to %g + AdamW (lr %g, "
                "weight decay %g)\n",
                static_cast<double>(dropout), static_cast<double>(attention_dropout),
                static_cast<double>(kMaxGradNorm), kLr, kWeightDecay);
    std::printf("latency     median %.2f ms, min %.2f ms per step (%d steps after %d warm-up)\n", med, best,
                a.runs, a.warmup);
    std::printf("throughput  %.2f sequences/s, ~%.1f GFLOP/s (~%.2f GFLOP per sequence, 3 x forward)\n",
                seq_per_s, gflops, gflop);
    std::printf("loss        %.6g at the first step (gradient norm %.4g), %.6g at the last\n",
                static_cast<double>(first_loss), static_cast<double>(first_norm), static_cast<double>(loss));
  }
  std::cout.flush();
}

}  // namespace tformer::cli::bench
