#include "tformer/models/llama.h"

#include <nlohmann/json.hpp>

#include "tformer/io/checkpoint.h"
#include "tformer/io/json_file.h"
#include "tformer/io/llama2c.h"

namespace tformer::models {

namespace {
// Far past any Llama (Llama 3 405B: 16384 wide, 126 layers, 128256 tokens).
constexpr int64_t kMaxVocab = int64_t(1) << 24, kMaxWidth = int64_t(1) << 16, kMaxLayers = 1024,
                  kMaxIntermediate = int64_t(1) << 20, kMaxPositions = int64_t(1) << 20;

nn::AttentionDims attention_dims(const LlamaConfig& c) {
  return {c.hidden_size, c.num_attention_heads, c.num_key_value_heads, c.head_dim()};
}

void check_shape(const LlamaConfig& c, const std::string& source) {
  TF_CHECK(c.hidden_size % c.num_attention_heads == 0 && c.head_dim() % 2 == 0,
           source << ": hidden_size " << c.hidden_size << " must split into " << c.num_attention_heads
                  << " heads of an even size");
  TF_CHECK(c.num_attention_heads % c.num_key_value_heads == 0,
           source << ": num_key_value_heads " << c.num_key_value_heads << " must divide num_attention_heads "
                  << c.num_attention_heads);
}
}  // namespace

LlamaConfig LlamaConfig::from_json(const nlohmann::json& j, const std::string& source) {
  LlamaConfig c;
  auto positive = [&](const char* key, int64_t fallback, int64_t max) {
    return io::json_int_field(j, key, 1, max, source).value_or(fallback);
  };
  c.vocab_size = positive("vocab_size", c.vocab_size, kMaxVocab);
  c.hidden_size = positive("hidden_size", c.hidden_size, kMaxWidth);
  c.intermediate_size = positive("intermediate_size", c.intermediate_size, kMaxIntermediate);
  c.num_hidden_layers = positive("num_hidden_layers", c.num_hidden_layers, kMaxLayers);
  c.num_attention_heads = positive("num_attention_heads", c.num_attention_heads, c.hidden_size);
  c.num_key_value_heads = positive("num_key_value_heads", c.num_attention_heads, c.num_attention_heads);
  c.max_position_embeddings = positive("max_position_embeddings", c.max_position_embeddings, kMaxPositions);
  c.hidden_act = kernels::activation_from_name(io::json_field<std::string>(j, "hidden_act", "silu", source), source);
  c.rms_norm_eps = static_cast<float>(io::json_number_field(j, "rms_norm_eps", 1e-6, 0, 1, source));
  c.rope_theta = io::json_number_field(j, "rope_theta", 10000.0, 1.0, 1e12, source);
  c.tie_word_embeddings = io::json_field<bool>(j, "tie_word_embeddings", false, source);
  c.attention_bias = io::json_field<bool>(j, "attention_bias", false, source);
  c.mlp_bias = io::json_field<bool>(j, "mlp_bias", false, source);
  c.bos_token_id = static_cast<int32_t>(io::json_int_field(j, "bos_token_id", 0, c.vocab_size - 1, source)
                                            .value_or(std::min<int64_t>(c.bos_token_id, c.vocab_size - 1)));
  c.eos_token_id = static_cast<int32_t>(io::json_int_field(j, "eos_token_id", 0, c.vocab_size - 1, source)
                                            .value_or(std::min<int64_t>(c.eos_token_id, c.vocab_size - 1)));
  auto scaling = j.find("rope_scaling");
  TF_CHECK(scaling == j.end() || scaling->is_null(),
           source << ": field 'rope_scaling' (" << io::json_excerpt(*scaling) << ") is not supported");
  if (auto hd = io::json_int_field(j, "head_dim", 1, kMaxWidth, source))
    TF_CHECK(*hd == c.head_dim(), source << ": field 'head_dim' " << *hd << " differs from hidden_size / heads");
  check_shape(c, source);
  // The rotary tables hold max_position_embeddings × head_dim floats: a
  // config may not make them larger than 1 GiB (Llama 3.1: 128K × 128 is 64 MiB).
  TF_CHECK(c.max_position_embeddings * c.head_dim() <= (int64_t(1) << 28),
           source << ": max_position_embeddings " << c.max_position_embeddings << " × head size " << c.head_dim()
                  << " is more rotary positions than tformer tabulates (2^28)");
  return c;
}

LlamaDecoderLayer load_llama_layer(const io::WeightView& vb, const LlamaConfig& cfg) {
  LlamaDecoderLayer l;
  l.attention_norm = nn::RmsNorm::load(vb.pp("input_layernorm"), cfg.hidden_size, cfg.rms_norm_eps);
  l.attention = nn::CausalSelfAttention::load_separate(vb.pp("self_attn"), attention_dims(cfg), cfg.attention_bias);
  l.mlp_norm = nn::RmsNorm::load(vb.pp("post_attention_layernorm"), cfg.hidden_size, cfg.rms_norm_eps);
  l.mlp = nn::GatedMlp::load(vb.pp("mlp"), cfg.hidden_size, cfg.intermediate_size, cfg.hidden_act, cfg.mlp_bias);
  return l;
}

std::unique_ptr<LlamaForCausalLM> LlamaForCausalLM::load(const io::WeightSource& weights, const LlamaConfig& cfg) {
  auto m = std::make_unique<LlamaForCausalLM>();
  m->cfg_ = cfg;
  const io::WeightView model = io::WeightView(weights).pp("model");
  m->embed_tokens_ = nn::Embedding::load(model.pp("embed_tokens"), cfg.vocab_size, cfg.hidden_size, "token id");
  m->rotary_ = std::make_unique<nn::RotaryEmbedding>(cfg.head_dim(), cfg.max_position_embeddings, cfg.rope_theta);
  for (int64_t i = 0; i < cfg.num_hidden_layers; ++i) {
    m->stack_.blocks.push_back(load_llama_layer(model.pp("layers").pp(int(i)), cfg));
    m->stack_.blocks.back().attention.set_rotary(m->rotary_.get());
  }
  m->stack_.final_norm = nn::RmsNorm::load(model.pp("norm"), cfg.hidden_size, cfg.rms_norm_eps);
  const io::WeightView head =
      cfg.tie_word_embeddings ? model.pp("embed_tokens") : io::WeightView(weights).pp("lm_head");
  m->stack_.lm_head = nn::Linear::load(head, cfg.hidden_size, cfg.vocab_size, /*with_bias=*/false);
  m->info_ = {"llama",
              cfg.vocab_size,
              cfg.max_position_embeddings,
              cfg.num_hidden_layers,
              cfg.num_key_value_heads * cfg.head_dim(),
              cfg.bos_token_id,
              {cfg.eos_token_id},
              weights.source()};
  return m;
}

std::unique_ptr<LlamaForCausalLM> LlamaForCausalLM::from_pretrained(const std::filesystem::path& dir,
                                                                   const nlohmann::json& config) {
  const LlamaConfig cfg = LlamaConfig::from_json(config, (dir / "config.json").string());
  io::Checkpoint ckpt = io::Checkpoint::open(dir);
  auto model = load(ckpt, cfg);
  // Rotary frequency buffers that older checkpoints store are recomputed;
  // a tied model may still carry an lm_head copy of embed_tokens.
  for (const std::string& name : ckpt.names())
    if (name.ends_with(".rotary_emb.inv_freq")) ckpt.mark_used(name);
  ckpt.check_all_used(cfg.tie_word_embeddings ? std::vector<std::string>{"lm_head."} : std::vector<std::string>{});
  return model;
}

std::unique_ptr<LlamaForCausalLM> LlamaForCausalLM::from_llama2c(const std::filesystem::path& file) {
  const io::Llama2cCheckpoint ckpt = io::Llama2cCheckpoint::open(file);
  const io::Llama2cHeader& h = ckpt.header();
  LlamaConfig cfg;
  cfg.vocab_size = h.vocab_size;
  cfg.hidden_size = h.dim;
  cfg.intermediate_size = h.hidden_dim;
  cfg.num_hidden_layers = h.n_layers;
  cfg.num_attention_heads = h.n_heads;
  cfg.num_key_value_heads = h.n_kv_heads;
  cfg.max_position_embeddings = h.seq_len;
  cfg.rms_norm_eps = 1e-5f;  // what llama2.c's run.c uses
  cfg.tie_word_embeddings = h.shared_classifier;
  check_shape(cfg, file.string());
  auto model = load(ckpt, cfg);
  // llama2.c's stories start with BOS and run.c ends a story where the model predicts the next BOS.
  model->info_.eos_token_ids = {cfg.eos_token_id, cfg.bos_token_id};
  return model;
}

void LlamaForCausalLM::forward(const int32_t* ids, const nn::DecodeStep& step, nn::KVCache& cache,
                               const int64_t* logit_rows, int64_t n_logit_rows, float* logits) {
  check_step(ids, step);
  const int64_t rows = step.rows(), h = cfg_.hidden_size;
  buffers_.reserve(rows, h, attention_dims(cfg_));
  embed_tokens_.lookup(ids, rows, buffers_.hidden.data<float>(), /*accumulate=*/false);
  stack_.forward(buffers_, h, step, cache, logit_rows, n_logit_rows, logits);
}

void LlamaForCausalLM::set_weight_format(kernels::GemmFormat format) { stack_.set_weight_format(format); }

int64_t LlamaForCausalLM::weight_bytes_per_token() const { return stack_.weight_bytes(); }

}  // namespace tformer::models
