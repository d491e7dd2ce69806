// tformer attention: runs the seed design's SelfAttention on tensors from a
// safetensors file and writes the result to another.
#include <iostream>

#include "cli/commands.h"
#include "cli/common.h"
#include "tformer/io/checkpoint.h"
#include "tformer/io/safetensors.h"
#include "tformer/nn/seed_self_attention.h"

namespace tformer::cli {

namespace {
struct AttentionArgs {
  std::string weights, input, output;
  int64_t heads = 0, embed_size = 0;
  std::string dtype;
};

int64_t metadata_int(const io::Checkpoint& ckpt, const std::string& key, int64_t given) {
  if (given > 0) return given;
  auto it = ckpt.metadata().find(key);
  TF_CHECK(it != ckpt.metadata().end(), ckpt.source() << ": metadata has no '" << key
                                                      << "'; pass --" << (key == "heads" ? "heads" : "embed-size"));
  try {
    return std::stoll(it->second);
  } catch (const std::exception&) {
    TF_FAIL(ckpt.source() << ": metadata '" << key << "' = '" << it->second << "' is not an integer");
  }
}

void run_attention(const AttentionArgs& a) {
  io::Checkpoint weights = io::Checkpoint::open(a.weights);
  const int64_t embed = metadata_int(weights, "embed_size", a.embed_size);
  const int64_t heads = metadata_int(weights, "heads", a.heads);
  auto attention = nn::SeedSelfAttention::load(io::WeightView(weights), embed, heads);
  attention.set_weight_format(parse_dtype(a.dtype));

  io::Checkpoint input = io::Checkpoint::open(a.input);
  for (const char* name : {"values", "keys", "query"})
    TF_CHECK(input.contains(name), input.source() << ": tensor '" << name << "' is missing");
  Tensor mask = input.contains("mask") ? input.get("mask") : Tensor();
  Tensor out = attention.forward(input.get("values"), input.get("keys"), input.get("query"), mask);
  io::save_safetensors(a.output, {{"out", out}},
                       {{"embed_size", std::to_string(embed)}, {"heads", std::to_string(heads)}});
}
}  // namespace

void register_attention(CLI::App& app) {
  auto args = std::make_shared<AttentionArgs>();
  CLI::App* cmd = app.add_subcommand(
      "attention", "Run the seed design's multi-head SelfAttention on safetensors inputs");
  cmd->add_option("--weights", args->weights,
                  "safetensors with values/keys/queries.weight, fc_out.weight/bias")
      ->required()->check(CLI::ExistingFile);
  cmd->add_option("--input", args->input, "safetensors with values, keys, query and optional mask")
      ->required()->check(CLI::ExistingFile);
  cmd->add_option("--output", args->output, "safetensors file to write, holding `out`")->required();
  cmd->add_option("--heads", args->heads, "number of heads (default: the weights' metadata)");
  cmd->add_option("--embed-size", args->embed_size, "embedding size (default: the weights' metadata)");
  add_dtype_option(*cmd, args->dtype);
  cmd->callback([args] { run_attention(*args); });
}

}  // namespace tformer::cli
