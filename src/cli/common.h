// Helpers shared by the subcommands: model lookup, stdin, threads, progress.
#pragma once
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "tformer/kernels/gemm.h"

namespace tformer::cli {

// `model` as given, or the bundled default model when empty ($TFORMER_MODEL,
// else the models/ directory of the source tree this binary was built from).
std::filesystem::path resolve_model_dir(const std::string& model);
// The same for text generation: the bundled stories260K when empty.
std::filesystem::path resolve_generation_model(const std::string& model);

// One text per line, split on '\n' only; a trailing '\r' is dropped.
std::vector<std::string> read_stdin_lines();

void add_threads_option(CLI::App& cmd, int& threads);
void apply_threads(int threads);  // 0 = all cores

// --dtype fp32|bf16|int8: the format the model's Linear layers compute in.
void add_dtype_option(CLI::App& cmd, std::string& dtype);
kernels::GemmFormat parse_dtype(const std::string& dtype);

// A progress line on stderr, redrawn in place, shown only when stderr is a
// terminal and the work takes more than a moment.
class ProgressLine {
 public:
  explicit ProgressLine(std::string what);
  void update(size_t done, size_t total);
  void finish();

 private:
  std::string what_;
  std::chrono::steady_clock::time_point start_;
  bool tty_ = false, shown_ = false;
};

}  // namespace tformer::cli
