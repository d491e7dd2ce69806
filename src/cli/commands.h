// Each subcommand lives in its own file and registers itself on the app.
#pragma once
#include <CLI/CLI.hpp>

namespace tformer::cli {

void register_classify(CLI::App& app);
void register_tokenize(CLI::App& app);
void register_inspect(CLI::App& app);
void register_attention(CLI::App& app);
void register_bench(CLI::App& app);
void register_convert(CLI::App& app);
void register_train(CLI::App& app);
void register_eval(CLI::App& app);
void register_generate(CLI::App& app);
void register_image(CLI::App& app);

}  // namespace tformer::cli
