#include "cli/common.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "tformer/core/error.h"
#include "tformer/core/thread_pool.h"

namespace tformer::cli {

std::filesystem::path resolve_model_dir(const std::string& model) {
  if (!model.empty()) return model;
  if (const char* env = std::getenv("TFORMER_MODEL"); env && *env) return env;
  return std::filesystem::path(TFORMER_DEFAULT_MODEL_DIR);
}

std::filesystem::path resolve_generation_model(const std::string& model) {
  if (!model.empty()) return model;
  return std::filesystem::path(TFORMER_GENERATION_MODEL_DIR);
}

std::vector<std::string> read_stdin_lines() {
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
  }
  return lines;
}

void add_threads_option(CLI::App& cmd, int& threads) {
  cmd.add_option("--threads", threads, "worker threads (default: all cores)")
      ->check(CLI::Range(1, 1024));
}

void apply_threads(int threads) {
  if (threads > 0) ThreadPool::set_num_threads(threads);
}

void add_dtype_option(CLI::App& cmd, std::string& dtype) {
  cmd.add_option("--dtype", dtype,
                 "compute dtype of the Linear layers: fp32 (default), bf16 (bf16 weights and products, "
                 "fp32 sums) or int8 (dynamic quantisation: s8 weights per channel, u8 activations per row)")
      ->check(CLI::IsMember({"fp32", "bf16", "int8"}));
}

kernels::GemmFormat parse_dtype(const std::string& dtype) {
  if (dtype.empty() || dtype == "fp32") return kernels::GemmFormat::F32;
  if (dtype == "bf16") return kernels::GemmFormat::BF16;
  if (dtype == "int8") return kernels::GemmFormat::INT8;
  TF_FAIL("--dtype " << dtype << ": expected fp32, bf16 or int8");
}

ProgressLine::ProgressLine(std::string what)
    : what_(std::move(what)), start_(std::chrono::steady_clock::now()), tty_(isatty(2) != 0) {}

void ProgressLine::update(size_t done, size_t total) {
  if (!tty_) return;
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (secs < 0.5 && !shown_) return;
  shown_ = true;
  const double rate = done / std::max(secs, 1e-9);
  const double eta = rate > 0 ? (total - done) / rate : 0;
  std::fprintf(stderr, "\r%s %zu/%zu  %.1f/s  ETA %.0fs   ", what_.c_str(), done, total, rate, eta);
}

void ProgressLine::finish() {
  if (shown_) std::fprintf(stderr, "\n");
}

}  // namespace tformer::cli
