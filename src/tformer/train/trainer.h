// Fine-tuning a BertForSequenceClassification on labelled text, as
// transformers' Trainer does it (AdamW, linear warm-up and decay, gradient
// clipping and accumulation), reproducibly and resumably:
//
// - Each epoch visits the training examples in an order drawn from (seed,
//   epoch) (batching.h), in micro-batches of batch_size examples padded to
//   their longest. grad_accum micro-batches make one optimizer step, each
//   contributing its mean loss × 1/grad_accum; the last group of an epoch may
//   be shorter and then uses its own count, so every step averages the
//   micro-batches it saw. Dropout (the config's hidden_dropout_prob and
//   attention_probs_dropout_prob) draws its masks from (seed, index of the
//   micro-batch in the run).
// - Checkpoints go to out_dir in Hugging Face's layout (config.json,
//   model.safetensors, the tokenizer files), which transformers'
//   from_pretrained loads, and the resumable state to
//   out_dir/training_state/state.safetensors (training_state.h), after the
//   model files, each file replaced atomically. They are written at every
//   evaluation point, every save_every steps, when stopped, and at the end.
// - resume() continues from that state; the run then ends with weights
//   bit-identical to an uninterrupted one (and so, since every kernel is
//   thread-count independent, whatever the thread count).
// - One JSON object per log line is appended to out_dir/metrics.jsonl.
// - compute_format BF16 (tformer train --dtype bf16) is mixed precision: the
//   encoder's Linear GEMMs round their operands to bf16 and sum in fp32;
//   weights, gradients, AdamW's moments and the checkpoints stay fp32.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>

#include <nlohmann/json.hpp>

#include "tformer/kernels/gemm.h"
#include "tformer/train/adamw.h"
#include "tformer/train/batching.h"
#include "tformer/train/dataset.h"
#include "tformer/train/fine_tuning_model.h"
#include "tformer/train/metrics.h"
#include "tformer/train/schedule.h"
#include "tformer/train/training_state.h"

namespace tformer::train {

struct TrainerOptions {
  int64_t epochs = 3;
  double lr = 5e-5;  // peak learning rate
  size_t batch_size = 32;
  size_t max_length = 128;  // tokens per example, special tokens included
  double warmup_ratio = 0.0;
  double weight_decay = 0.01;  // not applied to biases and LayerNorm weights
  int64_t grad_accum = 1;
  double max_grad_norm = 1.0;  // 0 disables clipping
  uint64_t seed = 42;
  int64_t eval_every = 0;  // optimizer steps between evaluations; 0: each epoch's end
  int64_t save_every = 0;  // optimizer steps between extra checkpoints; 0: none
  int64_t log_every = 10;  // optimizer steps between metrics lines
  // The encoder's Linear GEMMs: F32, or BF16 for mixed precision (bf16
  // products with fp32 sums; weights, gradients and AdamW stay fp32), as
  // transformers' Trainer does with bf16=True. INT8 is inference only.
  kernels::GemmFormat compute_format = kernels::GemmFormat::F32;
  // The options that shape the weights (all but the eval/save/log cadence):
  // what a resume must match.
  nlohmann::json identity() const;
};

// After each optimizer step.
struct StepReport {
  int64_t step = 0, total_steps = 0;
  double epoch = 0;  // epochs completed, fractional
  double loss = 0;   // mean over the step's micro-batches
  double lr = 0;
  double grad_norm = 0;        // before clipping
  double steps_per_second = 0;  // since train() started
  double eta_seconds = 0;
};

struct TrainerCallbacks {
  std::function<void(const StepReport&)> on_step;
  // Each metrics line, as written to metrics.jsonl: step, epoch, loss (mean
  // since the previous line), lr, grad_norm, it/s, and after an evaluation
  // eval_accuracy, eval_macro_f1, eval_confusion, eval_n.
  std::function<void(const nlohmann::json&)> on_log;
};

class Trainer {
 public:
  // Encodes both datasets up front (errors name file and line). `eval` may be
  // empty: checkpoints are still written at the evaluation points.
  Trainer(FineTuningModel start, const Dataset& train, const std::optional<Dataset>& eval,
          std::filesystem::path out_dir, TrainerOptions options, TrainerCallbacks callbacks = {});
  // Parameters and optimiser refer into the model: not copyable or movable.
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // Restores out_dir's training state; refuses one written under other
  // options or data (training_state.h).
  void resume();
  // Trains to the end of the run, or only until `stop_at_step` optimizer steps
  // have been taken (the schedule still spans the whole run), then saves a
  // checkpoint. Refuses to start over an existing training state without
  // resume().
  void train(std::optional<int64_t> stop_at_step = std::nullopt);

  // Metrics on the evaluation set; Error if there is none.
  ClassificationMetrics evaluate() const;

  int64_t total_steps() const { return total_steps_; }
  const TrainingProgress& progress() const { return progress_; }
  models::BertForSequenceClassification& model() { return start_.model; }
  const std::filesystem::path& out_dir() const { return out_dir_; }
  static std::filesystem::path state_file(const std::filesystem::path& out_dir);

 private:
  // One optimizer step over the next micro-batches of the current epoch.
  StepReport step();
  void after_step(const StepReport& report, bool epoch_ended);
  void save_checkpoint();
  void open_metrics_log();
  void write_log(nlohmann::json record);
  nlohmann::json run_identity() const;

  FineTuningModel start_;
  std::vector<EncodedExample> train_examples_, eval_examples_;
  bool has_eval_ = false;
  std::filesystem::path out_dir_;
  TrainerOptions options_;
  TrainerCallbacks callbacks_;
  nn::ParameterList params_;
  AdamW optimizer_;
  int64_t micro_batches_per_epoch_ = 0, total_steps_ = 0;
  LinearSchedule schedule_;
  TrainingProgress progress_;
  bool owns_state_ = false;  // the state in out_dir is this run's (resumed or saved by it)
  bool tokenizer_copied_ = false;
  int64_t saved_step_ = -1;

  std::vector<size_t> order_;  // the current epoch's order
  int64_t order_epoch_ = -1;
  Batch batch_;

  // Since the last metrics line.
  double loss_sum_ = 0;
  int64_t logged_steps_ = 0;
  std::chrono::steady_clock::time_point log_start_;
  std::ofstream metrics_log_;
};

}  // namespace tformer::train
