// tformer convert: rewrites a model directory's weights in another dtype (or
// from pytorch_model.bin to safetensors), with its config and tokenizer files.
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "tformer/io/atomic_file.h"
#include "tformer/io/checkpoint.h"
#include "tformer/io/json_file.h"
#include "tformer/io/safetensors.h"
#include "tformer/tokenizers/tokenizer_files.h"

namespace tformer::cli {

namespace {
struct ConvertArgs {
  std::string model, out, dtype = "f32";
};

DType parse_dtype(const std::string& name) {
  if (name == "f32" || name == "fp32") return DType::F32;
  if (name == "bf16") return DType::BF16;
  if (name == "f16" || name == "fp16") return DType::F16;
  TF_FAIL("--dtype '" << name << "': expected f32, bf16 or f16");
}

void run_convert(const ConvertArgs& a) {
  const DType dtype = parse_dtype(a.dtype);
  const std::filesystem::path src(a.model), dst(a.out);
  TF_CHECK(std::filesystem::weakly_canonical(src) != std::filesystem::weakly_canonical(dst),
           "--out must differ from --model (" << a.out << ")");
  io::Checkpoint ckpt = io::Checkpoint::open(src);
  std::vector<std::pair<std::string, Tensor>> tensors;
  int64_t params = 0;
  for (const std::string& name : ckpt.names()) {
    Tensor t = ckpt.get(name);
    params += t.numel();
    // Only floating-point weights change type; integer buffers stay as stored.
    tensors.emplace_back(name, dtype_is_float(t.dtype()) ? t.to(dtype) : t);
  }
  std::filesystem::create_directories(dst);
  io::save_safetensors(dst / "model.safetensors", tensors, {{"format", "pt"}});
  if (std::filesystem::is_regular_file(src / "config.json"))
    io::write_file_atomically(dst / "config.json", io::read_json_file(src / "config.json").dump(2) + "\n");
  tokenizers::copy_tokenizer_files(src, dst);
  std::cout << "wrote " << (dst / "model.safetensors").string() << ": " << tensors.size() << " tensors, "
            << params << " parameters, " << dtype_name(dtype) << "\n";
}
}  // namespace

void register_convert(CLI::App& app) {
  auto args = std::make_shared<ConvertArgs>();
  CLI::App* cmd = app.add_subcommand(
      "convert", "Rewrite a model directory as model.safetensors in another dtype (f32, bf16, f16)");
  cmd->add_option("--model", args->model, "model directory to read")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--out", args->out, "directory to write (config and tokenizer files are copied)")->required();
  cmd->add_option("--dtype", args->dtype, "f32, bf16 or f16 (default f32)");
  cmd->callback([args] { run_convert(*args); });
}

}  // namespace tformer::cli
