// BERT (Devlin et al., 2019) as Hugging Face's BertModel and
// BertForSequenceClassification, inference in fp32:
//
//   ids, token types ─▶ BertEmbeddings (word + position + type, LayerNorm)
//                    ─▶ BertLayer × N  (self-attention ─▶ Add & Norm
//                                       ─▶ feed-forward ─▶ Add & Norm)
//                    ─▶ last_hidden_state ─▶ BertPooler ([CLS] ─▶ dense ─▶ tanh)
//                    ─▶ classifier ─▶ logits
//
// Weights load through a WeightView under Hugging Face's names
// (bert.encoder.layer.3.attention.self.query.weight, ...). A model owns its
// activation buffers: after the first call for a given batch × length, a
// forward allocates nothing. Not re-entrant: one forward at a time per model.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tformer/core/tensor.h"
#include "tformer/io/checkpoint.h"
#include "tformer/kernels/activations.h"
#include "tformer/nn/embedding.h"
#include "tformer/nn/layer_norm.h"
#include "tformer/nn/linear.h"

namespace tformer::models {

struct BertConfig {
  int64_t vocab_size = 30522;
  int64_t hidden_size = 768;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  int64_t intermediate_size = 3072;
  std::string hidden_act_name = "gelu";
  kernels::Activation hidden_act = kernels::Activation::Gelu;
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 2;
  float layer_norm_eps = 1e-12f;
  int32_t pad_token_id = 0;
  std::vector<std::string> id2label = {"LABEL_0", "LABEL_1"};  // size = num_labels
  std::string source = "config.json";                          // for messages

  int64_t num_labels() const { return static_cast<int64_t>(id2label.size()); }
  int64_t head_dim() const { return hidden_size / num_attention_heads; }

  // Reads the fields that matter; a missing field takes transformers' default,
  // a wrong type or an unsupported value is an Error naming `source` and the field.
  static BertConfig from_json(const nlohmann::json& j, const std::string& source);
  static BertConfig from_file(const std::filesystem::path& config_json);
};

// A padded batch of token ids, row-major [batch, seq]. token_type_ids and
// attention_mask may be null (all zeros / all ones).
struct BertInputs {
  int64_t batch = 0, seq = 0;
  const int32_t* input_ids = nullptr;
  const int32_t* token_type_ids = nullptr;
  const int32_t* attention_mask = nullptr;
};

class BertEmbeddings {
 public:
  static BertEmbeddings load(const io::WeightView& vb, const BertConfig& cfg);
  void forward(const BertInputs& in, float* out) const;  // out [batch·seq, hidden]

 private:
  nn::Embedding word_embeddings_, position_embeddings_, token_type_embeddings_;
  nn::LayerNorm layer_norm_;
};

// Scratch shared by the layers of one forward, owned by BertModel.
struct BertActivations {
  Tensor hidden, qkv, context, projected, intermediate, key_mask;
  void reserve(int64_t tokens, int64_t batch, int64_t seq, const BertConfig& cfg);
};

class BertLayer {
 public:
  static BertLayer load(const io::WeightView& vb, const BertConfig& cfg);
  // Updates act.hidden [batch·seq, hidden] in place.
  void forward(BertActivations& act, int64_t batch, int64_t seq) const;

 private:
  const BertConfig* cfg_ = nullptr;
  nn::Linear query_, key_, value_;  // attention.self.*: views into qkv_
  nn::Linear qkv_;                  // the three fused, computed by one GEMM
  nn::Linear attention_output_; // attention.output.dense
  nn::LayerNorm attention_norm_;
  nn::Linear intermediate_;     // intermediate.dense
  nn::Linear output_;           // output.dense
  nn::LayerNorm output_norm_;
};

class BertPooler {
 public:
  static BertPooler load(const io::WeightView& vb, const BertConfig& cfg);
  // out[b] = tanh(dense(hidden[b, 0])) for each sequence's first ([CLS]) token.
  void forward(const float* hidden, int64_t batch, int64_t seq, float* out) const;

 private:
  nn::Linear dense_;
};

struct BertOutput {
  Tensor last_hidden_state;  // [batch, seq, hidden], valid until the next forward
  Tensor pooler_output;      // [batch, hidden]
};

class BertModel {
 public:
  static BertModel load(const io::WeightView& vb, const BertConfig& cfg);
  BertOutput forward(const BertInputs& in) const;
  const BertConfig& config() const { return *cfg_; }

 private:
  std::shared_ptr<const BertConfig> cfg_;
  BertEmbeddings embeddings_;
  std::vector<BertLayer> layers_;
  BertPooler pooler_;
  mutable BertActivations act_;
  mutable Tensor pooled_;
};

class BertForSequenceClassification {
 public:
  // A Hugging Face model directory: config.json plus model.safetensors,
  // pytorch_model.bin or their sharded indexes.
  static BertForSequenceClassification from_pretrained(const std::filesystem::path& dir);
  static BertForSequenceClassification load(const io::Checkpoint& ckpt, const BertConfig& cfg);

  // logits [batch, num_labels] (a fresh tensor); `hidden` receives BertModel's output if given.
  Tensor forward(const BertInputs& in, BertOutput* hidden = nullptr) const;
  const BertConfig& config() const { return bert_.config(); }

 private:
  BertModel bert_;
  nn::Linear classifier_;
};

}  // namespace tformer::models
