// tformer classify: sentiment (or any sequence classification) of texts.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "tformer/pipelines/text_classification.h"

namespace tformer::cli {

namespace {
struct ClassifyArgs {
  std::string model;
  bool json = false;
  size_t batch_size = 8;
  size_t max_length = 0;
  int threads = 0;
  std::string dtype;
  std::vector<std::string> texts;
};

void run_classify(const ClassifyArgs& a) {
  apply_threads(a.threads);
  auto pipeline = pipelines::TextClassificationPipeline::from_pretrained(resolve_model_dir(a.model));
  pipeline.set_weight_format(parse_dtype(a.dtype));
  std::vector<std::string> texts = a.texts.empty() ? read_stdin_lines() : a.texts;
  pipelines::ClassificationOptions opt;
  opt.batch_size = a.batch_size;
  if (a.max_length) opt.max_length = a.max_length;
  opt.input_name = a.texts.empty() ? "stdin line" : "argument";
  ProgressLine progress("classify");
  auto results = pipeline(texts, opt, [&](size_t done, size_t total) { progress.update(done, total); });
  progress.finish();
  for (size_t i = 0; i < texts.size(); ++i) {
    const auto& r = results[i];
    if (a.json) {
      nlohmann::json j = {{"text", texts[i]}, {"label", r.label}, {"score", r.score}, {"logits", r.logits}};
      std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    } else {
      std::printf("%s\t%.4f\n", r.label.c_str(), r.score);
    }
  }
  std::cout.flush();
}
}  // namespace

void register_classify(CLI::App& app) {
  auto args = std::make_shared<ClassifyArgs>();
  CLI::App* cmd = app.add_subcommand(
      "classify", "Classify texts (from the arguments, or one per line on stdin)");
  cmd->add_option("--model", args->model, "model directory (default: the bundled model)");
  cmd->add_flag("--json", args->json, "one JSON object per text: text, label, score, logits");
  cmd->add_option("--batch-size", args->batch_size, "texts per forward pass")->check(CLI::PositiveNumber);
  cmd->add_option("--max-length", args->max_length,
                  "truncate to this many tokens (default: the tokenizer's model_max_length, at most max_position_embeddings)")
      ->check(CLI::Range(2, 1 << 20));
  add_threads_option(*cmd, args->threads);
  add_dtype_option(*cmd, args->dtype);
  cmd->add_option("texts", args->texts, "texts to classify");
  cmd->callback([args] { run_classify(*args); });
}

}  // namespace tformer::cli
