// Llama (Touvron et al., 2023) as Hugging Face's LlamaForCausalLM:
//
//   ids ─▶ embed_tokens
//       ─▶ layer × N  (input_layernorm (RMSNorm) ─▶ self-attention with rotary
//                      embeddings and grouped-query heads ─▶ + ;
//                      post_attention_layernorm ─▶ SwiGLU MLP ─▶ +)
//       ─▶ norm ─▶ lm_head (or embed_tokens when tie_word_embeddings)
//
// From a Hugging Face directory (model.layers.3.self_attn.q_proj.weight,
// ...) or a llama2.c model file (io/llama2c.h), which presents the same names.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tformer/io/weight_source.h"
#include "tformer/kernels/activations.h"
#include "tformer/models/causal_lm.h"
#include "tformer/nn/decoder_block.h"
#include "tformer/nn/embedding.h"
#include "tformer/nn/linear.h"
#include "tformer/nn/mlp.h"
#include "tformer/nn/rms_norm.h"
#include "tformer/nn/rotary_embedding.h"

namespace tformer::models {

struct LlamaConfig {
  int64_t vocab_size = 32000, hidden_size = 4096, intermediate_size = 11008, num_hidden_layers = 32;
  int64_t num_attention_heads = 32, num_key_value_heads = 32, max_position_embeddings = 2048;
  kernels::Activation hidden_act = kernels::Activation::Silu;
  float rms_norm_eps = 1e-6f;
  double rope_theta = 10000.0;
  bool tie_word_embeddings = false, attention_bias = false, mlp_bias = false;
  int32_t bos_token_id = 1, eos_token_id = 2;

  int64_t head_dim() const { return hidden_size / num_attention_heads; }
  // A missing field takes transformers' default; a wrong type, an
  // unsupported option (rope_scaling) or a value out of range is an Error naming `source`.
  static LlamaConfig from_json(const nlohmann::json& j, const std::string& source);
};

// model.layers.N: input_layernorm, self_attn (q/k/v/o_proj, rotary), post_attention_layernorm,
// mlp (gate/up/down_proj).
using LlamaDecoderLayer = nn::PreNormDecoderBlock<nn::RmsNorm, nn::GatedMlp>;
LlamaDecoderLayer load_llama_layer(const io::WeightView& vb, const LlamaConfig& cfg);

class LlamaForCausalLM : public CausalLM {
 public:
  static std::unique_ptr<LlamaForCausalLM> from_pretrained(const std::filesystem::path& dir,
                                                           const nlohmann::json& config);
  // A llama2.c model file, version 0 or 1.
  static std::unique_ptr<LlamaForCausalLM> from_llama2c(const std::filesystem::path& file);
  static std::unique_ptr<LlamaForCausalLM> load(const io::WeightSource& weights, const LlamaConfig& cfg);

  void forward(const int32_t* ids, const nn::DecodeStep& step, nn::KVCache& cache, const int64_t* logit_rows,
               int64_t n_logit_rows, float* logits) override;
  void set_weight_format(kernels::GemmFormat format) override;
  int64_t weight_bytes_per_token() const override;
  const LlamaConfig& config() const { return cfg_; }

 private:
  LlamaConfig cfg_;
  nn::Embedding embed_tokens_;
  std::unique_ptr<nn::RotaryEmbedding> rotary_;  // shared by the layers, which point at it
  DecoderStack<LlamaDecoderLayer, nn::RmsNorm> stack_;  // layers.*, norm, lm_head (or embed_tokens, tied)
  DecoderBuffers buffers_;
};

}  // namespace tformer::models
