// GPT-2 (Radford et al., 2019) as Hugging Face's GPT2LMHeadModel:
//
//   ids ─▶ wte + wpe (learned positions)
//       ─▶ block × N  (ln_1 ─▶ causal self-attention ─▶ + ;  ln_2 ─▶ MLP (gelu_new) ─▶ +)
//       ─▶ ln_f ─▶ logits = h · wteᵀ (the LM head is tied to the token embeddings)
//
// Weights under transformers' names (transformer.h.3.attn.c_attn.weight,
// ...), Conv1D matrices stored [in, out].
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
#include "tformer/nn/layer_norm.h"
#include "tformer/nn/linear.h"
#include "tformer/nn/mlp.h"

namespace tformer::models {

struct Gpt2Config {
  int64_t vocab_size = 50257, n_positions = 1024, n_embd = 768, n_layer = 12, n_head = 12;
  int64_t n_inner = 0;  // 0: 4 · n_embd
  kernels::Activation activation = kernels::Activation::GeluTanh;
  float layer_norm_epsilon = 1e-5f;
  int32_t bos_token_id = 50256, eos_token_id = 50256;

  int64_t inner() const { return n_inner > 0 ? n_inner : 4 * n_embd; }
  // A missing field takes transformers' default; a wrong type, an
  // unsupported option or a value out of range is an Error naming `source`.
  static Gpt2Config from_json(const nlohmann::json& j, const std::string& source);
};

// transformer.h.N: ln_1, attn (c_attn, c_proj), ln_2, mlp (c_fc, c_proj).
using Gpt2Block = nn::PreNormDecoderBlock<nn::LayerNorm, nn::Mlp>;
Gpt2Block load_gpt2_block(const io::WeightView& vb, const Gpt2Config& cfg);

class Gpt2LMHeadModel : public CausalLM {
 public:
  static std::unique_ptr<Gpt2LMHeadModel> from_pretrained(const std::filesystem::path& dir,
                                                          const nlohmann::json& config);
  static std::unique_ptr<Gpt2LMHeadModel> load(const io::WeightSource& weights, const Gpt2Config& cfg);

  void forward(const int32_t* ids, const nn::DecodeStep& step, nn::KVCache& cache, const int64_t* logit_rows,
               int64_t n_logit_rows, float* logits) override;
  void set_weight_format(kernels::GemmFormat format) override;
  int64_t weight_bytes_per_token() const override;
  const Gpt2Config& config() const { return cfg_; }

 private:
  Gpt2Config cfg_;
  nn::Embedding wte_, wpe_;
  DecoderStack<Gpt2Block, nn::LayerNorm> stack_;  // h.*, ln_f, and wte's weights packed as the LM head
  DecoderBuffers buffers_;
};

}  // namespace tformer::models
