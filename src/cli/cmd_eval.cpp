// tformer eval: accuracy, macro-F1 and the confusion matrix of a sequence
// classifier on labelled text (the formats tformer train reads).
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "tformer/core/error.h"
#include "tformer/train/evaluation.h"
#include "tformer/train/fine_tuning_model.h"

namespace tformer::cli {

namespace {
struct EvalArgs {
  std::string model, data;
  bool json = false;
  size_t batch_size = 32;
  size_t max_length = 0;
  int threads = 0;
  std::string dtype;
};

void print_table(const train::ClassificationMetrics& m, const std::vector<std::string>& labels) {
  std::printf("n         %lld\naccuracy  %.4f\nmacro-F1  %.4f\n", static_cast<long long>(m.n), m.accuracy,
              m.macro_f1);
  std::printf("confusion (rows: true label, columns: predicted label)\n");
  size_t width = 6;
  for (const std::string& l : labels) width = std::max(width, l.size());
  const int w = static_cast<int>(width);
  std::printf("%-*s", w, "");
  for (const std::string& l : labels) std::printf("  %*s", w, l.c_str());
  std::printf("\n");
  for (size_t t = 0; t < labels.size(); ++t) {
    std::printf("%-*s", w, labels[t].c_str());
    for (int64_t count : m.confusion[t]) std::printf("  %*lld", w, static_cast<long long>(count));
    std::printf("\n");
  }
}

void run_eval(const EvalArgs& a) {
  apply_threads(a.threads);
  train::FineTuningModel m = train::load_pretrained_for_fine_tuning(resolve_model_dir(a.model));
  m.model.set_weight_format(parse_dtype(a.dtype));
  const models::BertConfig& config = m.model.config();
  const train::Dataset data = train::read_dataset(a.data, train::dataset_options_for(config, false));
  const size_t max_length = a.max_length ? a.max_length
                                         : std::min<size_t>(m.tokenizer.model_max_length(),
                                                            static_cast<size_t>(config.max_position_embeddings));
  TF_CHECK(max_length <= static_cast<size_t>(config.max_position_embeddings),
           "--max-length " << max_length << " exceeds the model's max_position_embeddings "
                           << config.max_position_embeddings);
  const auto examples = train::encode_examples(m.tokenizer, data, max_length);
  const train::ClassificationMetrics metrics =
      train::evaluate(m.model, examples, a.batch_size, m.tokenizer.pad_token_id());
  if (a.json) std::cout << metrics.to_json().dump() << '\n';
  else print_table(metrics, config.id2label);
  std::cout.flush();
}
}  // namespace

void register_eval(CLI::App& app) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* cmd = app.add_subcommand("eval", "Score a sequence classifier on labelled text");
  cmd->add_option("--model", args->model, "model directory (default: the bundled model)");
  cmd->add_option("--data", args->data, "labelled data (.tsv, .csv or .jsonl)")->required();
  cmd->add_flag("--json", args->json, "one JSON object: accuracy, macro_f1, confusion, n");
  cmd->add_option("--batch-size", args->batch_size, "examples per forward pass")->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-length", args->max_length,
                  "truncate to this many tokens (default: the tokenizer's model_max_length)")
      ->check(CLI::Range(2, 1 << 20));
  add_dtype_option(*cmd, args->dtype);
  add_threads_option(*cmd, args->threads);
  cmd->callback([args] { run_eval(*args); });
}

}  // namespace tformer::cli
