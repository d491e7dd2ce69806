#include "tformer/models/gpt2.h"

#include <nlohmann/json.hpp>

#include "tformer/io/checkpoint.h"
#include "tformer/io/json_file.h"

namespace tformer::models {

namespace {
// Far past any GPT-2 (the largest: 1600 wide, 48 layers, 50257 tokens): a
// config beyond them is corrupt or hostile, and would size buffers unchecked.
constexpr int64_t kMaxVocab = int64_t(1) << 24, kMaxWidth = int64_t(1) << 16, kMaxLayers = 1024,
                  kMaxPositions = int64_t(1) << 20;

nn::AttentionDims attention_dims(const Gpt2Config& c) {
  return {c.n_embd, c.n_head, c.n_head, c.n_embd / c.n_head};
}
}  // namespace

Gpt2Config Gpt2Config::from_json(const nlohmann::json& j, const std::string& source) {
  Gpt2Config c;
  auto positive = [&](const char* key, int64_t fallback, int64_t max) {
    return io::json_int_field(j, key, 1, max, source).value_or(fallback);
  };
  c.vocab_size = positive("vocab_size", c.vocab_size, kMaxVocab);
  c.n_positions = positive("n_positions", c.n_positions, kMaxPositions);
  c.n_embd = positive("n_embd", c.n_embd, kMaxWidth);
  c.n_layer = positive("n_layer", c.n_layer, kMaxLayers);
  c.n_head = positive("n_head", c.n_head, c.n_embd);
  c.n_inner = positive("n_inner", 0, kMaxWidth * 16);
  TF_CHECK(c.n_embd % c.n_head == 0,
           source << ": n_embd " << c.n_embd << " is not a multiple of n_head " << c.n_head);
  c.activation = kernels::activation_from_name(
      io::json_field<std::string>(j, "activation_function", "gelu_new", source), source);
  c.layer_norm_epsilon = static_cast<float>(io::json_number_field(j, "layer_norm_epsilon", 1e-5, 0, 1, source));
  c.bos_token_id = static_cast<int32_t>(io::json_int_field(j, "bos_token_id", 0, c.vocab_size - 1, source)
                                            .value_or(std::min<int64_t>(c.bos_token_id, c.vocab_size - 1)));
  c.eos_token_id = static_cast<int32_t>(io::json_int_field(j, "eos_token_id", 0, c.vocab_size - 1, source)
                                            .value_or(std::min<int64_t>(c.eos_token_id, c.vocab_size - 1)));
  // Variants that change the arithmetic, which tformer does not implement.
  TF_CHECK(io::json_field<bool>(j, "scale_attn_weights", true, source),
           source << ": field 'scale_attn_weights' false is not supported");
  TF_CHECK(!io::json_field<bool>(j, "scale_attn_by_inverse_layer_idx", false, source),
           source << ": field 'scale_attn_by_inverse_layer_idx' true is not supported");
  return c;
}

Gpt2Block load_gpt2_block(const io::WeightView& vb, const Gpt2Config& cfg) {
  Gpt2Block b;
  b.attention_norm = nn::LayerNorm::load(vb.pp("ln_1"), cfg.n_embd, cfg.layer_norm_epsilon);
  b.attention = nn::CausalSelfAttention::load_conv1d(vb.pp("attn"), attention_dims(cfg));
  b.mlp_norm = nn::LayerNorm::load(vb.pp("ln_2"), cfg.n_embd, cfg.layer_norm_epsilon);
  b.mlp = nn::Mlp::load_conv1d(vb.pp("mlp"), cfg.n_embd, cfg.inner(), cfg.activation);
  return b;
}

std::unique_ptr<Gpt2LMHeadModel> Gpt2LMHeadModel::load(const io::WeightSource& weights, const Gpt2Config& cfg) {
  auto m = std::make_unique<Gpt2LMHeadModel>();
  m->cfg_ = cfg;
  const io::WeightView root = io::WeightView(weights).pp("transformer");
  m->wte_ = nn::Embedding::load(root.pp("wte"), cfg.vocab_size, cfg.n_embd, "token id");
  m->wpe_ = nn::Embedding::load(root.pp("wpe"), cfg.n_positions, cfg.n_embd, "position");
  for (int64_t i = 0; i < cfg.n_layer; ++i)
    m->stack_.blocks.push_back(load_gpt2_block(root.pp("h").pp(int(i)), cfg));
  m->stack_.final_norm = nn::LayerNorm::load(root.pp("ln_f"), cfg.n_embd, cfg.layer_norm_epsilon);
  m->stack_.lm_head = nn::Linear::load(root.pp("wte"), cfg.n_embd, cfg.vocab_size, /*with_bias=*/false);
  m->info_ = {"gpt2", cfg.vocab_size, cfg.n_positions, cfg.n_layer, cfg.n_embd, cfg.bos_token_id, {cfg.eos_token_id},
              weights.source()};
  return m;
}

std::unique_ptr<Gpt2LMHeadModel> Gpt2LMHeadModel::from_pretrained(const std::filesystem::path& dir,
                                                                  const nlohmann::json& config) {
  const Gpt2Config cfg = Gpt2Config::from_json(config, (dir / "config.json").string());
  io::Checkpoint ckpt = io::Checkpoint::open(dir);
  ckpt.set_base_prefix("transformer");
  auto model = load(ckpt, cfg);
  // The causal-mask buffers older checkpoints store, and an LM head that
  // only repeats wte (GPT2LMHeadModel ties them), are not weights.
  for (const std::string& name : ckpt.names())
    if (name.ends_with(".attn.bias") || name.ends_with(".attn.masked_bias")) ckpt.mark_used(name);
  ckpt.check_all_used({"lm_head."});
  return model;
}

void Gpt2LMHeadModel::forward(const int32_t* ids, const nn::DecodeStep& step, nn::KVCache& cache,
                              const int64_t* logit_rows, int64_t n_logit_rows, float* logits) {
  check_step(ids, step);
  const int64_t rows = step.rows(), h = cfg_.n_embd;
  buffers_.reserve(rows, h, attention_dims(cfg_));
  float* hidden = buffers_.hidden.data<float>();
  wte_.lookup(ids, rows, hidden, /*accumulate=*/false);
  for (int64_t r = 0; r < rows; ++r) {
    const float* position = wpe_.row(step.positions[r]);
    for (int64_t i = 0; i < h; ++i) hidden[r * h + i] += position[i];
  }
  stack_.forward(buffers_, h, step, cache, logit_rows, n_logit_rows, logits);
}

void Gpt2LMHeadModel::set_weight_format(kernels::GemmFormat format) { stack_.set_weight_format(format); }

int64_t Gpt2LMHeadModel::weight_bytes_per_token() const { return stack_.weight_bytes(); }

}  // namespace tformer::models
