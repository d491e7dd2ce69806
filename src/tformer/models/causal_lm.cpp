#include "tformer/models/causal_lm.h"

#include <cstring>

#include "tformer/core/error.h"
#include "tformer/io/json_file.h"
#include "tformer/io/llama2c.h"
#include "tformer/models/gpt2.h"
#include "tformer/models/llama.h"

namespace tformer::models {

namespace fs = std::filesystem;

void DecoderBuffers::reserve(int64_t rows, int64_t hidden_size, const nn::AttentionDims& dims) {
  ensure_capacity(hidden, rows * hidden_size);
  ensure_capacity(gathered, rows * hidden_size);
  ensure_capacity(blocks.normed, rows * hidden_size);
  blocks.attention.reserve(rows, dims);
}

void CausalLM::check_step(const int32_t* ids, const nn::DecodeStep& step) const {
  TF_CHECK(step.batch > 0 && step.tokens > 0, info_.source << ": an empty step (" << step.batch << " × "
                                                           << step.tokens << " tokens)");
  for (int64_t r = 0; r < step.rows(); ++r) {
    TF_CHECK(ids[r] >= 0 && ids[r] < info_.vocab_size,
             info_.source << ": token id " << ids[r] << " is outside the vocabulary of " << info_.vocab_size);
    TF_CHECK(step.positions[r] >= 0 && step.positions[r] < info_.max_positions,
             info_.source << ": position " << step.positions[r] << " is past the model's context of "
                          << info_.max_positions << " tokens");
  }
}

const float* gather_hidden_rows(DecoderBuffers& buffers, int64_t hidden_size, const nn::DecodeStep& step,
                                const int64_t* logit_rows, int64_t n_logit_rows) {
  const float* hidden = buffers.hidden.data<float>();
  if (!logit_rows) return hidden;
  float* gathered = buffers.gathered.data<float>();
  for (int64_t i = 0; i < n_logit_rows; ++i) {
    TF_CHECK(logit_rows[i] >= 0 && logit_rows[i] < step.rows(), "logits asked for row " << logit_rows[i]
                                                                    << " of a step of " << step.rows());
    std::memcpy(gathered + i * hidden_size, hidden + logit_rows[i] * hidden_size, hidden_size * sizeof(float));
  }
  return gathered;
}

namespace {
// The llama2.c model file in `dir`, if it holds exactly one (tokenizer files
// named tok*.bin are not models).
std::optional<fs::path> llama2c_file_in(const fs::path& dir) {
  std::optional<fs::path> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const fs::path& p = entry.path();
    if (p.extension() != ".bin" || p.filename().string().rfind("tok", 0) == 0) continue;
    if (!io::is_llama2c_model_file(p)) continue;
    TF_CHECK(!found, dir.string() << ": holds several llama2.c model files (" << found->filename().string()
                                  << ", " << p.filename().string() << "): name one");
    found = p;
  }
  return found;
}
}  // namespace

std::unique_ptr<CausalLM> load_causal_lm(const fs::path& path) {
  if (!fs::is_directory(path)) {
    TF_CHECK(fs::exists(path), path.string() << ": no such file or directory");
    TF_CHECK(io::is_llama2c_model_file(path),
             path.string() << ": not a llama2.c model file (and not a model directory with a config.json)");
    return LlamaForCausalLM::from_llama2c(path);
  }
  const fs::path config_path = path / "config.json";
  if (!fs::exists(config_path)) {
    if (auto file = llama2c_file_in(path)) return LlamaForCausalLM::from_llama2c(*file);
    TF_FAIL(path.string() << ": no config.json, nor a llama2.c model file");
  }
  const nlohmann::json config = io::read_json_file(config_path);
  TF_CHECK(config.is_object(), config_path.string() << ": expected a JSON object");
  const std::string type = io::json_field<std::string>(config, "model_type", "", config_path.string());
  if (type == "gpt2") return Gpt2LMHeadModel::from_pretrained(path, config);
  if (type == "llama") return LlamaForCausalLM::from_pretrained(path, config);
  TF_FAIL(config_path.string() << ": field 'model_type' is '" << type
                               << "': text generation supports 'gpt2' and 'llama'");
}

bool is_causal_lm(const fs::path& path) {
  if (!fs::is_directory(path)) return io::is_llama2c_model_file(path);
  const fs::path config_path = path / "config.json";
  if (!fs::exists(config_path)) return llama2c_file_in(path).has_value();
  const nlohmann::json config = io::read_json_file(config_path);
  const std::string type =
      config.is_object() ? io::json_field<std::string>(config, "model_type", "", config_path.string()) : "";
  return type == "gpt2" || type == "llama";
}

}  // namespace tformer::models
