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

// Where a decoder's weights and config are: a llama2.c file (the path, or
// the one in a directory without config.json), or a config.json's model_type
// ("" when the path holds neither; the type as written, even an unknown one).
struct DecoderFiles {
  std::optional<fs::path> llama2c;
  fs::path config_path;
  nlohmann::json config;
  std::string model_type;
};

DecoderFiles find_decoder_files(const fs::path& path) {
  DecoderFiles f;
  if (!fs::is_directory(path)) {
    if (io::is_llama2c_model_file(path)) f.llama2c = path;
    return f;
  }
  f.config_path = path / "config.json";
  if (!fs::exists(f.config_path)) {
    f.llama2c = llama2c_file_in(path);
    return f;
  }
  f.config = io::read_json_file(f.config_path);
  TF_CHECK(f.config.is_object(), f.config_path.string() << ": expected a JSON object");
  f.model_type = io::json_field<std::string>(f.config, "model_type", "", f.config_path.string());
  return f;
}

}  // namespace

std::unique_ptr<CausalLM> load_causal_lm(const fs::path& path) {
  const DecoderFiles f = find_decoder_files(path);
  if (f.llama2c) return LlamaForCausalLM::from_llama2c(*f.llama2c);
  if (!fs::is_directory(path)) {
    TF_CHECK(fs::exists(path), path.string() << ": no such file or directory");
    TF_FAIL(path.string() << ": not a llama2.c model file (and not a model directory with a config.json)");
  }
  TF_CHECK(!f.config.is_null(), path.string() << ": no config.json, nor a llama2.c model file");
  if (f.model_type == "gpt2") return Gpt2LMHeadModel::from_pretrained(path, f.config);
  if (f.model_type == "llama") return LlamaForCausalLM::from_pretrained(path, f.config);
  TF_FAIL(f.config_path.string() << ": field 'model_type' is '" << f.model_type
                                 << "': text generation supports 'gpt2' and 'llama'");
}

bool is_causal_lm(const fs::path& path) {
  const DecoderFiles f = find_decoder_files(path);
  return f.llama2c || f.model_type == "gpt2" || f.model_type == "llama";
}

}  // namespace tformer::models
