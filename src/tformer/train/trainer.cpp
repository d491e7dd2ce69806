#include "tformer/train/trainer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "tformer/core/error.h"
#include "tformer/io/atomic_file.h"
#include "tformer/tokenizers/tokenizer_files.h"
#include "tformer/train/clip.h"
#include "tformer/train/evaluation.h"

namespace tformer::train {

namespace {
constexpr const char* kMetricsFile = "metrics.jsonl";

// splitmix64's finaliser: a well-mixed dropout seed for each micro-batch, so
// that neighbouring micro-batches get unrelated masks.
uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t dropout_seed(uint64_t seed, int64_t micro_step) {
  return mix64(mix64(seed) ^ static_cast<uint64_t>(micro_step));
}

void check_labels(const Dataset& data, int64_t num_labels) {
  for (const Example& e : data.examples)
    TF_CHECK(e.label >= 0 && e.label < num_labels,
             data.path.string() << ":" << e.line << ": label " << e.label << " is outside [0, " << num_labels
                                << ") for a model with " << num_labels << " labels");
}

std::string hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// A process that died while saving leaves AtomicFile's hidden temporaries
// (".<name>.tmp.XXXXXX") beside the files it was replacing.
void remove_stale_temporaries(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(".") && name.find(".tmp.") != std::string::npos && entry.is_regular_file())
      std::filesystem::remove(entry.path());
  }
}

// Keeps the lines of metrics.jsonl up to `step`: a run resumed from there
// will log the later steps again.
std::string metrics_lines_through(const std::filesystem::path& file, int64_t step) {
  std::ifstream in(file);
  std::string kept, line;
  while (std::getline(in, line)) {
    nlohmann::json record = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (record.is_object() && record.value("step", int64_t{0}) <= step) kept += line + "\n";
  }
  return kept;
}
}  // namespace

nlohmann::json TrainerOptions::identity() const {
  nlohmann::json id = {{"epochs", epochs},
                       {"lr", lr},
                       {"batch_size", batch_size},
                       {"max_length", max_length},
                       {"warmup_ratio", warmup_ratio},
                       {"weight_decay", weight_decay},
                       {"grad_accum", grad_accum},
                       {"max_grad_norm", max_grad_norm},
                       {"seed", seed}};
  // bf16 shapes the weights too; fp32 adds no field, so states written before
  // the option existed still resume.
  if (compute_format != kernels::GemmFormat::F32) id["dtype"] = "bf16";
  return id;
}

std::filesystem::path Trainer::state_file(const std::filesystem::path& out_dir) {
  return out_dir / "training_state" / "state.safetensors";
}

Trainer::Trainer(FineTuningModel start, const Dataset& train, const std::optional<Dataset>& eval,
                 std::filesystem::path out_dir, TrainerOptions options, TrainerCallbacks callbacks)
    : start_(std::move(start)),
      out_dir_(std::move(out_dir)),
      options_(options),
      callbacks_(std::move(callbacks)),
      params_((start_.model.enable_grad(), start_.model.parameters())),
      optimizer_(params_, AdamWOptions{.lr = options.lr, .weight_decay = options.weight_decay}) {
  const models::BertConfig& cfg = start_.model.config();
  TF_CHECK(options_.epochs >= 0, "epochs must not be negative, got " << options_.epochs);
  TF_CHECK(options_.batch_size >= 1, "batch size must be at least 1");
  TF_CHECK(options_.grad_accum >= 1, "gradient accumulation must be at least 1 micro-batch");
  TF_CHECK(options_.lr >= 0 && std::isfinite(options_.lr), "learning rate must be a finite number ≥ 0");
  TF_CHECK(options_.max_grad_norm >= 0, "max gradient norm must be ≥ 0 (0 disables clipping)");
  TF_CHECK(options_.compute_format != kernels::GemmFormat::INT8, "training computes in fp32 or bf16, not int8");
  start_.model.set_weight_format(options_.compute_format);
  TF_CHECK(options_.eval_every >= 0 && options_.save_every >= 0 && options_.log_every >= 0,
           "eval/save/log intervals must be ≥ 0");
  TF_CHECK(options_.max_length >= 2 && options_.max_length <= static_cast<size_t>(cfg.max_position_embeddings),
           "max length " << options_.max_length << " must be in [2, " << cfg.max_position_embeddings
                         << "] (the model's max_position_embeddings)");
  check_labels(train, cfg.num_labels());
  TF_CHECK(!train.examples.empty(), train.path.string() << ": no training examples");
  train_examples_ = encode_examples(start_.tokenizer, train, options_.max_length);
  if (eval) {
    check_labels(*eval, cfg.num_labels());
    eval_examples_ = encode_examples(start_.tokenizer, *eval, options_.max_length);
    has_eval_ = true;
  }

  micro_batches_per_epoch_ =
      static_cast<int64_t>((train_examples_.size() + options_.batch_size - 1) / options_.batch_size);
  const int64_t steps_per_epoch = (micro_batches_per_epoch_ + options_.grad_accum - 1) / options_.grad_accum;
  total_steps_ = steps_per_epoch * options_.epochs;
  schedule_ = {options_.lr, warmup_steps_from_ratio(options_.warmup_ratio, total_steps_), total_steps_};
}

nlohmann::json Trainer::run_identity() const {
  nlohmann::json id = options_.identity();
  id["hidden_dropout"] = start_.model.config().hidden_dropout_prob;
  id["attention_dropout"] = start_.model.config().attention_probs_dropout_prob;
  id["train_examples"] = train_examples_.size();
  id["train_data_hash"] = hex(hash_examples(train_examples_));
  return id;
}

void Trainer::resume() {
  progress_ = load_training_state(state_file(out_dir_), run_identity(), params_, optimizer_);
  TF_CHECK(optimizer_.steps() == progress_.step,
           state_file(out_dir_).string() << ": the optimizer took " << optimizer_.steps()
                                         << " steps but the trainer " << progress_.step);
  owns_state_ = true;
  saved_step_ = progress_.step;
}

void Trainer::train(std::optional<int64_t> stop_at_step) {
  TF_CHECK(owns_state_ || !std::filesystem::exists(state_file(out_dir_)),
           out_dir_.string() << " already holds a training state: resume it (--resume), or train into another "
                                "directory");
  std::filesystem::create_directories(out_dir_);
  remove_stale_temporaries(out_dir_);
  remove_stale_temporaries(state_file(out_dir_).parent_path());
  open_metrics_log();

  const auto started = std::chrono::steady_clock::now();
  const int64_t first_step = progress_.step;
  log_start_ = started;
  while (progress_.step < total_steps_ && (!stop_at_step || progress_.step < *stop_at_step)) {
    const int64_t epoch_before = progress_.epoch;
    StepReport report = step();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    report.steps_per_second = double(progress_.step - first_step) / std::max(seconds, 1e-9);
    report.eta_seconds = double(total_steps_ - progress_.step) / std::max(report.steps_per_second, 1e-9);
    if (callbacks_.on_step) callbacks_.on_step(report);
    after_step(report, progress_.epoch != epoch_before);
  }
  if (saved_step_ != progress_.step) save_checkpoint();
}

StepReport Trainer::step() {
  if (order_epoch_ != progress_.epoch) {
    order_ = epoch_order(train_examples_.size(), options_.seed, progress_.epoch);
    order_epoch_ = progress_.epoch;
  }
  const int64_t group = std::min(options_.grad_accum, micro_batches_per_epoch_ - progress_.position);
  const float grad_scale = 1.0f / static_cast<float>(group);
  const models::BertConfig& cfg = start_.model.config();
  optimizer_.zero_grad();
  double loss = 0;
  for (int64_t i = 0; i < group; ++i) {
    const size_t first = static_cast<size_t>(progress_.position) * options_.batch_size;
    const size_t count = std::min(options_.batch_size, order_.size() - first);
    collate(train_examples_, std::span<const size_t>(order_.data() + first, count),
            start_.tokenizer.pad_token_id(), batch_);
    loss += start_.model.train_step(batch_.inputs(), batch_.labels.data(), grad_scale,
                                    {.hidden_dropout = cfg.hidden_dropout_prob,
                                     .attention_dropout = cfg.attention_probs_dropout_prob,
                                     .seed = dropout_seed(options_.seed, progress_.micro_step)});
    ++progress_.position;
    ++progress_.micro_step;
  }

  StepReport report;
  report.grad_norm = options_.max_grad_norm > 0 ? clip_grad_norm(params_, static_cast<float>(options_.max_grad_norm))
                                                : grad_norm(params_);
  TF_CHECK(std::isfinite(report.grad_norm), "step " << progress_.step + 1 << ": the gradient norm is "
                                                    << report.grad_norm << ": training diverged (try a lower lr)");
  report.lr = schedule_.lr_at(progress_.step);
  optimizer_.step(report.lr);
  ++progress_.step;
  if (progress_.position == micro_batches_per_epoch_) {
    ++progress_.epoch;
    progress_.position = 0;
  }
  report.step = progress_.step;
  report.total_steps = total_steps_;
  report.epoch = double(progress_.epoch) + double(progress_.position) / double(micro_batches_per_epoch_);
  report.loss = loss / double(group);
  return report;
}

void Trainer::after_step(const StepReport& report, bool epoch_ended) {
  loss_sum_ += report.loss;
  ++logged_steps_;
  const int64_t step = report.step;
  const bool last = step == total_steps_;
  const bool eval_point = options_.eval_every > 0 ? step % options_.eval_every == 0 : epoch_ended;
  const bool evaluate_now = has_eval_ && (eval_point || last);
  if (evaluate_now || last || (options_.log_every > 0 && step % options_.log_every == 0)) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - log_start_).count();
    nlohmann::json record = {{"step", step},
                             {"epoch", report.epoch},
                             {"loss", loss_sum_ / double(logged_steps_)},
                             {"lr", report.lr},
                             {"grad_norm", report.grad_norm},
                             {"it/s", double(logged_steps_) / std::max(seconds, 1e-9)}};
    if (evaluate_now) {
      const nlohmann::json metrics = evaluate().to_json();
      for (const auto& [key, value] : metrics.items()) record["eval_" + key] = value;
    }
    write_log(std::move(record));
  }
  if (eval_point || last || (options_.save_every > 0 && step % options_.save_every == 0)) save_checkpoint();
}

ClassificationMetrics Trainer::evaluate() const {
  TF_CHECK(has_eval_, "no evaluation data");
  return train::evaluate(start_.model, eval_examples_, options_.batch_size, start_.tokenizer.pad_token_id());
}

void Trainer::save_checkpoint() {
  // Model files first, the state last: a state on disk always has the model
  // files of its step or a later one beside it, and carries its own weights.
  start_.model.save_pretrained(out_dir_);
  if (!tokenizer_copied_) {
    tokenizers::copy_tokenizer_files(start_.tokenizer_dir, out_dir_);
    tokenizer_copied_ = true;
  }
  save_training_state(state_file(out_dir_), progress_, run_identity(), params_, optimizer_);
  owns_state_ = true;
  saved_step_ = progress_.step;
}

void Trainer::open_metrics_log() {
  if (metrics_log_.is_open()) return;
  const std::filesystem::path file = out_dir_ / kMetricsFile;
  // A fresh run starts the log afresh; a resumed one drops what the
  // interrupted run logged after its last checkpoint.
  io::write_file_atomically(file, owns_state_ ? metrics_lines_through(file, progress_.step) : "");
  metrics_log_.open(file, std::ios::app);
  TF_CHECK(metrics_log_.is_open(), file.string() << ": cannot open for appending");
}

void Trainer::write_log(nlohmann::json record) {
  metrics_log_ << record.dump() << '\n';
  metrics_log_.flush();
  TF_CHECK(metrics_log_.good(), (out_dir_ / kMetricsFile).string() << ": write failed");
  if (callbacks_.on_log) callbacks_.on_log(record);
  loss_sum_ = 0;
  logged_steps_ = 0;
  log_start_ = std::chrono::steady_clock::now();
}

}  // namespace tformer::train
