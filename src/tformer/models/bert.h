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
#include "tformer/models/bert_training.h"
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
  float hidden_dropout_prob = 0.1f;
  float attention_probs_dropout_prob = 0.1f;
  float initializer_range = 0.02f;
  std::vector<std::string> id2label = {"LABEL_0", "LABEL_1"};  // size = num_labels
  std::string source = "config.json";                          // for messages

  int64_t num_labels() const { return static_cast<int64_t>(id2label.size()); }
  int64_t head_dim() const { return hidden_size / num_attention_heads; }

  // Reads the fields that matter; a missing field takes transformers' default,
  // a wrong type or an unsupported value is an Error naming `source` and the field.
  static BertConfig from_json(const nlohmann::json& j, const std::string& source);
  static BertConfig from_file(const std::filesystem::path& config_json);
  // config.json as transformers writes it for BertForSequenceClassification.
  nlohmann::json to_json() const;
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
  void forward_train(const BertInputs& in, BertEmbeddingsCache& cache, const DropoutSite& dropout,
                     float* out) const;
  // d_out [T, H] is consumed (overwritten).
  void backward(const BertInputs& in, BertEmbeddingsCache& cache, const DropoutSite& dropout,
                float* d_out);
  void parameters(nn::ParameterList& out);
  void enable_grad();

 private:
  void sum_embeddings(const BertInputs& in, float* out) const;
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
  // Updates act.hidden [batch·seq, hidden] in place. cls_only: the [CLS]
  // rows only (a classifier's last layer: nothing else reaches the pooler);
  // keys and values still come from every token, and act.hidden becomes
  // [batch, hidden], row b = sequence b's [CLS].
  void forward(BertActivations& act, int64_t batch, int64_t seq, bool cls_only = false) const;
  void set_weight_format(kernels::GemmFormat format);
  // Training: input and output [T, H] are distinct; `cache` keeps what
  // backward needs. key_mask [B, S].
  void forward_train(BertLayerCache& cache, const float* input, float* output, int64_t batch,
                     int64_t seq, const float* key_mask, const BertLayerDropout& dropout) const;
  // From g.d_out (gradient w.r.t. the output, consumed) writes g.d_in
  // (gradient w.r.t. the input); parameter gradients accumulate.
  void backward(BertLayerCache& cache, const float* input, int64_t batch, int64_t seq,
                const float* key_mask, const BertLayerDropout& dropout, BertGradScratch& g);
  void parameters(nn::ParameterList& out);
  void enable_grad();

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
  // Given d_out [B, H] (gradient w.r.t. the tanh output, consumed) and the
  // forward's output `out`, adds the gradient into the [CLS] rows of d_hidden.
  void backward(const float* hidden, const float* out, int64_t batch, int64_t seq, float* d_out,
                float* d_hidden);
  void parameters(nn::ParameterList& out) { dense_.parameters(out); }
  void enable_grad() { dense_.enable_grad(); }

 private:
  nn::Linear dense_;
};

struct BertOutput {
  Tensor last_hidden_state;  // [batch, seq, hidden] ([batch, 1, hidden] with cls_only), valid until the next forward
  Tensor pooler_output;      // [batch, hidden]
};

class BertModel {
 public:
  static BertModel load(const io::WeightView& vb, const BertConfig& cfg);
  // cls_only: the last layer computes the [CLS] rows only, which is all the
  // pooler reads (sequence classification); last_hidden_state is then those rows.
  BertOutput forward(const BertInputs& in, bool cls_only = false) const;
  // The encoder layers' Linears compute in `format` (BF16: bf16 weights and
  // products with fp32 sums; the embeddings, pooler and classifier, under
  // 1 % of the FLOPs, stay fp32). After enable_grad, BF16 is mixed-precision
  // training: the fp32 weights are rounded at each GEMM (nn::Linear); INT8
  // is inference only.
  void set_weight_format(kernels::GemmFormat format);
  const BertConfig& config() const { return *cfg_; }

  // Training forward: fills cache.hidden (the last is last_hidden_state).
  void forward_train(const BertInputs& in, BertTrainingCache& cache,
                     const BertTrainingOptions& opt) const;
  // From cache.grads.d_out (gradient w.r.t. last_hidden_state, consumed).
  void backward(const BertInputs& in, BertTrainingCache& cache, const BertTrainingOptions& opt);
  void parameters(nn::ParameterList& out);
  void enable_grad();
  BertPooler& pooler() { return pooler_; }
  // Hidden dropout site k of a step (embeddings 0, layer l: 1 + 2l and 2 + 2l,
  // pooler 1 + 2L); layer l's attention probabilities are site 2 + 2L + l.
  DropoutSite dropout_site(const BertTrainingOptions& opt, int k) const;
  BertLayerDropout layer_dropout(const BertTrainingOptions& opt, int layer) const;

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
  BertForSequenceClassification(BertModel bert, nn::Linear classifier)
      : bert_(std::move(bert)), classifier_(std::move(classifier)) {}
  // A Hugging Face model directory: config.json plus model.safetensors,
  // pytorch_model.bin or their sharded indexes.
  static BertForSequenceClassification from_pretrained(const std::filesystem::path& dir);
  static BertForSequenceClassification load(const io::Checkpoint& ckpt, const BertConfig& cfg);
  // Fresh weights initialised as transformers does (for training from scratch).
  static BertForSequenceClassification from_config(const BertConfig& cfg, uint64_t seed);
  // Writes config.json and model.safetensors (transformers' layout and names)
  // into `dir`, each atomically; tokenizer files are the caller's.
  void save_pretrained(const std::filesystem::path& dir);

  // logits [batch, num_labels], valid until the next forward (a view of a
  // buffer the model keeps, so that a forward allocates nothing); `hidden`
  // receives BertModel's output if given (without it, the last layer runs
  // for the [CLS] rows only).
  Tensor forward(const BertInputs& in, BertOutput* hidden = nullptr) const;
  const BertConfig& config() const { return bert_.config(); }
  // See BertModel::set_weight_format.
  void set_weight_format(kernels::GemmFormat format) { bert_.set_weight_format(format); }

  // Training. enable_grad allocates a zeroed gradient for every parameter.
  void enable_grad();
  // Every parameter under its Hugging Face name, in a fixed order.
  nn::ParameterList parameters();
  // One forward and backward pass on a batch with labels [batch]: the
  // gradients of (mean cross-entropy × grad_scale) accumulate into each
  // parameter's grad. Returns the mean loss. logits() holds the batch's logits after.
  float train_step(const BertInputs& in, const int32_t* labels, float grad_scale,
                   const BertTrainingOptions& opt);
  const Tensor& logits() const { return cache_.logits; }

 private:
  mutable Tensor logits_;
  BertTrainingCache cache_;
  BertModel bert_;
  nn::Linear classifier_;
};

}  // namespace tformer::models
