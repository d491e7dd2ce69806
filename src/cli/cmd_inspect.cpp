// tformer inspect FILE|DIR [--json]: what a checkpoint holds (tensor names,
// dtypes, shapes, parameter count, safetensors metadata) and its config.json.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include "cli/commands.h"
#include "tformer/io/checkpoint.h"
#include "tformer/io/json_file.h"

namespace tformer::cli {

namespace {

struct InspectOptions {
  std::string path;
  bool json = false;
};

// "1234567" → "1,234,567"
std::string with_thousands(int64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

void run_inspect(const InspectOptions& options) {
  namespace fs = std::filesystem;
  const io::Checkpoint ckpt = io::Checkpoint::open(options.path);
  const fs::path dir = fs::is_directory(options.path) ? fs::path(options.path)
                                                      : fs::path(options.path).parent_path();
  const fs::path config_path = dir / "config.json";
  nlohmann::json config = fs::is_regular_file(config_path) ? io::read_json_file(config_path) : nlohmann::json();

  int64_t parameters = 0;
  size_t name_width = 0;
  for (const auto& name : ckpt.names()) {
    parameters += ckpt.info(name).shape.numel();
    name_width = std::max(name_width, name.size());
  }

  if (options.json) {
    nlohmann::ordered_json out;
    out["source"] = ckpt.source();
    out["tensors"] = nlohmann::ordered_json::array();
    for (const auto& name : ckpt.names()) {
      const auto& info = ckpt.info(name);
      out["tensors"].push_back({{"name", name},
                                {"dtype", std::string(dtype_name(info.dtype))},
                                {"shape", info.shape.to_vector()}});
    }
    out["parameters"] = parameters;
    out["metadata"] = ckpt.metadata();
    out["config"] = config;
    std::cout << out.dump(2) << "\n";
    return;
  }

  std::cout << "source: " << ckpt.source() << "\n";
  std::cout << "tensors (" << ckpt.names().size() << "):\n";
  for (const auto& name : ckpt.names()) {
    const auto& info = ckpt.info(name);
    std::string line = "  " + name + std::string(name_width - name.size() + 2, ' ');
    line += std::string(dtype_name(info.dtype));
    line += std::string(6 - std::min<size_t>(5, dtype_name(info.dtype).size()), ' ') + info.shape.str();
    if (info.stored_name != name) line += "  (stored as " + info.stored_name + ")";
    std::cout << line << "\n";
  }
  std::cout << "parameters: " << with_thousands(parameters) << "\n";
  if (!ckpt.metadata().empty()) {
    std::cout << "metadata:\n";
    for (const auto& [key, value] : ckpt.metadata()) std::cout << "  " << key << ": " << value << "\n";
  }
  if (!config.is_null()) std::cout << "config (" << config_path.string() << "):\n" << config.dump(2) << "\n";
}

}  // namespace

void register_inspect(CLI::App& app) {
  auto options = std::make_shared<InspectOptions>();
  CLI::App* cmd = app.add_subcommand(
      "inspect", "List a checkpoint's tensors, parameter count, metadata and config.json");
  cmd->add_option("path", options->path, "model directory or weights file (.safetensors, .bin, index .json)")
      ->required();
  cmd->add_flag("--json", options->json, "print one JSON object instead of text");
  cmd->callback([options] { run_inspect(*options); });
}

}  // namespace tformer::cli
