// tformer train: fine-tune a BertForSequenceClassification on labelled text
// (TSV, CSV or JSON Lines; see tformer/train/dataset.h), writing checkpoints
// that transformers loads, and resuming an interrupted run exactly.
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "tformer/tokenizers/tokenizer_files.h"
#include "cli/common.h"
#include "tformer/core/error.h"
#include "tformer/train/trainer.h"

namespace tformer::cli {

namespace {
struct TrainArgs {
  std::string model, config, tokenizer, train, eval, out;
  train::TrainerOptions options;
  std::string dtype;
  bool skip_bad = false;
  bool resume = false;
  int threads = 0;
};

// --tokenizer, else the config's directory when it holds tokenizer files.
std::filesystem::path tokenizer_dir_for(const TrainArgs& a) {
  if (!a.tokenizer.empty()) return a.tokenizer;
  const std::filesystem::path dir = std::filesystem::path(a.config).parent_path();
  const std::filesystem::path shown = dir.empty() ? "." : dir;
  TF_CHECK(!tokenizers::tokenizer_file_names(shown).empty(),
           "--config " << a.config << ": no --tokenizer given, and " << shown.string()
                       << " has no vocab.txt or tokenizer.json");
  return shown;
}

train::Dataset read_data(const std::string& path, const models::BertConfig& config, bool skip_bad) {
  train::Dataset data = train::read_dataset(path, train::dataset_options_for(config, skip_bad));
  if (data.skipped)
    std::fprintf(stderr, "tformer train: %s: skipped %zu bad rows (--skip-bad)\n", path.c_str(), data.skipped);
  return data;
}

std::string format_eval(const nlohmann::json& record) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "eval at step %lld: accuracy %.4f  macro-F1 %.4f  (n %lld)",
                record["step"].get<long long>(), record["eval_accuracy"].get<double>(),
                record["eval_macro_f1"].get<double>(), record["eval_n"].get<long long>());
  return buf;
}

// On a terminal, a progress bar redrawn after each step, with evaluations
// printed above it; otherwise each metrics line as plain text on stderr.
class TrainProgress {
 public:
  TrainProgress() : tty_(isatty(2) != 0) {}

  void on_step(const train::StepReport& r) {
    if (!tty_) return;
    constexpr int kWidth = 24;
    const int filled = r.total_steps ? static_cast<int>(kWidth * r.step / r.total_steps) : kWidth;
    std::fprintf(stderr, "\r[%s%s] %lld/%lld  loss %.4f  lr %.2e  %.2f it/s  ETA %s   ",
                 std::string(filled, '#').c_str(), std::string(kWidth - filled, '.').c_str(),
                 static_cast<long long>(r.step), static_cast<long long>(r.total_steps), r.loss, r.lr,
                 r.steps_per_second, format_duration(r.eta_seconds).c_str());
    bar_shown_ = true;
  }

  void on_log(const nlohmann::json& record) {
    if (tty_) {
      if (!record.contains("eval_accuracy")) return;
      std::fprintf(stderr, "\r\033[K%s\n", format_eval(record).c_str());
      bar_shown_ = false;  // erased; the next step redraws it
      return;
    }
    std::fprintf(stderr, "step %lld  epoch %.2f  loss %.4f  lr %.3e  grad_norm %.4f  %.2f it/s\n",
                 record["step"].get<long long>(), record["epoch"].get<double>(), record["loss"].get<double>(),
                 record["lr"].get<double>(), record["grad_norm"].get<double>(), record["it/s"].get<double>());
    if (record.contains("eval_accuracy")) std::fprintf(stderr, "%s\n", format_eval(record).c_str());
  }

  void finish() {
    if (bar_shown_) std::fprintf(stderr, "\n");
  }

 private:
  static std::string format_duration(double seconds) {
    const long long s = static_cast<long long>(seconds + 0.5);
    char buf[32];
    if (s >= 3600) std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, s / 60 % 60);
    else std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
    return buf;
  }
  bool tty_;
  bool bar_shown_ = false;
};

void run_train(const TrainArgs& a) {
  apply_threads(a.threads);
  train::FineTuningModel start =
      a.model.empty() ? train::init_from_config(a.config, tokenizer_dir_for(a), a.options.seed)
                      : train::load_pretrained_for_fine_tuning(a.model);
  const models::BertConfig config = start.model.config();
  const train::Dataset train_data = read_data(a.train, config, a.skip_bad);
  std::optional<train::Dataset> eval_data;
  if (!a.eval.empty()) eval_data = read_data(a.eval, config, a.skip_bad);

  TrainProgress progress;
  train::TrainerCallbacks callbacks{[&](const train::StepReport& r) { progress.on_step(r); },
                                    [&](const nlohmann::json& record) { progress.on_log(record); }};
  train::Trainer trainer(std::move(start), train_data, eval_data, a.out, a.options, std::move(callbacks));
  if (a.resume) {
    trainer.resume();
    std::fprintf(stderr, "tformer train: resuming %s at step %lld of %lld\n", a.out.c_str(),
                 static_cast<long long>(trainer.progress().step), static_cast<long long>(trainer.total_steps()));
  }
  trainer.train();
  progress.finish();
  std::fprintf(stderr, "tformer train: step %lld of %lld; model saved to %s\n",
               static_cast<long long>(trainer.progress().step), static_cast<long long>(trainer.total_steps()),
               a.out.c_str());
}
}  // namespace

void register_train(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  train::TrainerOptions& o = args->options;
  CLI::App* cmd = app.add_subcommand(
      "train", "Fine-tune a BERT sequence classifier on labelled text (TSV, CSV or JSON Lines)");
  auto* model = cmd->add_option("--model", args->model, "pretrained model directory to start from");
  auto* config = cmd->add_option("--config", args->config, "config.json: train from freshly initialised weights");
  model->excludes(config);
  cmd->add_option("--tokenizer", args->tokenizer,
                  "tokenizer directory for --config (default: the config's directory)")
      ->needs(config);
  cmd->add_option("--train", args->train, "training data (.tsv, .csv or .jsonl)")->required();
  cmd->add_option("--eval", args->eval, "evaluation data, scored at each evaluation point");
  cmd->add_option("--out", args->out, "output directory: checkpoints, training_state/, metrics.jsonl")
      ->required();
  cmd->add_option("--epochs", o.epochs, "passes over the training data")->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--lr", o.lr, "peak learning rate")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--batch-size", o.batch_size, "examples per micro-batch")->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-length", o.max_length, "tokens per example, longer ones truncated")
      ->capture_default_str()->check(CLI::Range(2, 1 << 20));
  cmd->add_option("--warmup-ratio", o.warmup_ratio, "fraction of the steps spent warming up")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--weight-decay", o.weight_decay, "AdamW weight decay")->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--grad-accum", o.grad_accum, "micro-batches per optimizer step")->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-grad-norm", o.max_grad_norm, "clip gradients to this L2 norm (0: no clipping)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", o.seed, "seed for the data order, dropout and --config initialisation")
      ->capture_default_str();
  cmd->add_option("--eval-every", o.eval_every, "evaluate and checkpoint every N steps (0: each epoch's end)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--save-every", o.save_every, "also checkpoint every N steps (0: never)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--log-every", o.log_every, "metrics line every N steps (0: at evaluations only)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_flag("--skip-bad", args->skip_bad, "skip malformed data rows (and report how many) instead of failing");
  cmd->add_flag("--resume", args->resume, "continue the run saved in --out (same options and data)");
  cmd->add_option("--dtype", args->dtype,
                  "compute dtype of the encoder's Linear layers: fp32 (default) or bf16 (mixed precision: bf16 "
                  "products, fp32 sums; weights, gradients and optimizer state stay fp32)")
      ->check(CLI::IsMember({"fp32", "bf16"}));
  add_threads_option(*cmd, args->threads);
  cmd->callback([args] {
    TF_CHECK(!args->model.empty() || !args->config.empty(), "train: give --model DIR or --config FILE");
    args->options.compute_format = parse_dtype(args->dtype);
    run_train(*args);
  });
}

}  // namespace tformer::cli
