// BERT's training forward and backward passes (explicit per-module backward,
// as llm.c's train_gpt2.c), for BertForSequenceClassification fine-tuning.
// The forward mirrors bert.cpp's inference path op for op, additionally
// keeping what each backward needs in a BertTrainingCache.
//
// Dropout: hidden_dropout_prob after the embeddings, after each attention
// output and feed-forward output, and on the pooled output (the classifier's
// dropout), as transformers applies it, and attention_probs_dropout_prob on
// the attention probabilities.
#include <cmath>
#include <cstring>

#include "tformer/core/thread_pool.h"
#include "tformer/kernels/activations_backward.h"
#include "tformer/kernels/attention.h"
#include "tformer/kernels/attention_backward.h"
#include "tformer/kernels/cross_entropy.h"
#include "tformer/kernels/dropout.h"
#include "tformer/kernels/gemm.h"
#include "tformer/models/bert.h"

namespace tformer::models {

namespace {
float* f32(Tensor& t) { return t.data<float>(); }
uint8_t* u8(Tensor& t) { return t.data<uint8_t>(); }

void dropout_forward(const DropoutSite& d, float* x, Tensor& mask, int64_t n) {
  ensure_capacity(mask, n, DType::U8);
  kernels::dropout(x, x, u8(mask), n, d.p, d.seed, d.offset);
}

void add_into(float* dst, const float* src, int64_t n) {
  parallel_for(n, 1 << 14, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) dst[i] += src[i];
  });
}

kernels::AttentionMask key_padding(const float* key_mask, int64_t seq) {
  kernels::AttentionMask m;
  m.data = key_mask;
  m.batch_stride = seq;
  return m;
}
}  // namespace

// ---------------------------------------------------------------- embeddings

void BertEmbeddings::forward_train(const BertInputs& in, BertEmbeddingsCache& c,
                                   const DropoutSite& dropout, float* out) const {
  const int64_t tokens = in.batch * in.seq, h = word_embeddings_.dim();
  ensure_capacity(c.summed, tokens * h);
  ensure_capacity(c.mean, tokens);
  ensure_capacity(c.rstd, tokens);
  sum_embeddings(in, f32(c.summed));
  layer_norm_.forward_train(f32(c.summed), nullptr, tokens, out, f32(c.mean), f32(c.rstd));
  dropout_forward(dropout, out, c.dropout_mask, tokens * h);
}

void BertEmbeddings::backward(const BertInputs& in, BertEmbeddingsCache& c,
                              const DropoutSite& dropout, float* d_out) {
  const int64_t tokens = in.batch * in.seq, h = word_embeddings_.dim();
  kernels::dropout_backward(d_out, u8(c.dropout_mask), d_out, tokens * h, dropout.p);
  layer_norm_.backward(d_out, f32(c.summed), nullptr, f32(c.mean), f32(c.rstd), tokens, d_out);
  word_embeddings_.backward(in.input_ids, tokens, d_out);
  ensure_capacity(c.position_ids, tokens, DType::I32);
  int32_t* positions = c.position_ids.data<int32_t>();
  for (int64_t i = 0; i < tokens; ++i) positions[i] = static_cast<int32_t>(i % in.seq);
  position_embeddings_.backward(positions, tokens, d_out);
  if (in.token_type_ids) {
    token_type_embeddings_.backward(in.token_type_ids, tokens, d_out);
  } else {
    std::memset(positions, 0, tokens * sizeof(int32_t));  // all type 0
    token_type_embeddings_.backward(positions, tokens, d_out);
  }
}

void BertEmbeddings::parameters(nn::ParameterList& out) {
  word_embeddings_.parameters(out);
  position_embeddings_.parameters(out);
  token_type_embeddings_.parameters(out);
  layer_norm_.parameters(out);
}

void BertEmbeddings::enable_grad() {
  word_embeddings_.enable_grad();
  position_embeddings_.enable_grad();
  token_type_embeddings_.enable_grad();
  layer_norm_.enable_grad();
}

// ---------------------------------------------------------------- encoder layer

void BertLayer::forward_train(BertLayerCache& c, const float* input, float* output, int64_t batch,
                              int64_t seq, const float* key_mask,
                              const BertLayerDropout& dropout) const {
  const BertConfig& cfg = *cfg_;
  const int64_t tokens = batch * seq, h = cfg.hidden_size, d = cfg.head_dim(),
                inter = cfg.intermediate_size;
  ensure_capacity(c.qkv, tokens * 3 * h);
  const int64_t probs_size = batch * cfg.num_attention_heads * seq * seq;
  ensure_capacity(c.probs, probs_size);
  if (dropout.probs.p > 0) ensure_capacity(c.dropped_probs, probs_size);
  ensure_capacity(c.context, tokens * h);
  ensure_capacity(c.attention_out, tokens * h);
  ensure_capacity(c.attention_norm_out, tokens * h);
  ensure_capacity(c.attention_mean, tokens);
  ensure_capacity(c.attention_rstd, tokens);
  ensure_capacity(c.intermediate_pre, tokens * inter);
  ensure_capacity(c.intermediate_act, tokens * inter);
  ensure_capacity(c.output_out, tokens * h);
  ensure_capacity(c.output_mean, tokens);
  ensure_capacity(c.output_rstd, tokens);

  qkv_.forward(input, tokens, f32(c.qkv));
  const int64_t row = 3 * h;
  float* qkv = f32(c.qkv);
  kernels::HeadsView q{qkv, seq * row, d, row}, k{qkv + h, seq * row, d, row},
      v{qkv + 2 * h, seq * row, d, row}, ctx{f32(c.context), seq * h, d, h};
  kernels::attention_train({batch, cfg.num_attention_heads, seq, seq, d}, q, k, v, ctx,
                           1.0f / std::sqrt(static_cast<float>(d)), key_padding(key_mask, seq),
                           f32(c.probs), {dropout.probs.p, dropout.probs.seed, dropout.probs.offset},
                           dropout.probs.p > 0 ? f32(c.dropped_probs) : nullptr);

  attention_output_.forward(f32(c.context), tokens, f32(c.attention_out));
  dropout_forward(dropout.attention, f32(c.attention_out), c.attention_drop_mask, tokens * h);
  attention_norm_.forward_train(f32(c.attention_out), input, tokens, f32(c.attention_norm_out),
                                f32(c.attention_mean), f32(c.attention_rstd));

  intermediate_.forward(f32(c.attention_norm_out), tokens, f32(c.intermediate_pre));
  kernels::activate(cfg.hidden_act, f32(c.intermediate_pre), f32(c.intermediate_act), tokens * inter);
  output_.forward(f32(c.intermediate_act), tokens, f32(c.output_out));
  dropout_forward(dropout.output, f32(c.output_out), c.output_drop_mask, tokens * h);
  output_norm_.forward_train(f32(c.output_out), f32(c.attention_norm_out), tokens, output,
                             f32(c.output_mean), f32(c.output_rstd));
}

void BertLayer::backward(BertLayerCache& c, const float* input, int64_t batch, int64_t seq,
                         const float* key_mask, const BertLayerDropout& dropout,
                         BertGradScratch& g) {
  const BertConfig& cfg = *cfg_;
  const int64_t tokens = batch * seq, h = cfg.hidden_size, d = cfg.head_dim(),
                inter = cfg.intermediate_size;
  float *d_norm = f32(g.d_norm), *d_tmp = f32(g.d_tmp), *d_inter = f32(g.d_inter);

  // Feed-forward block: output = LN(dropout(W2·act(W1·x1)) + x1).
  output_norm_.backward(f32(g.d_out), f32(c.output_out), f32(c.attention_norm_out),
                        f32(c.output_mean), f32(c.output_rstd), tokens, d_norm);
  kernels::dropout_backward(d_norm, u8(c.output_drop_mask), d_tmp, tokens * h, dropout.output.p);
  output_.backward(f32(c.intermediate_act), tokens, d_tmp, d_inter);
  kernels::activation_backward(cfg.hidden_act, f32(c.intermediate_pre), d_inter, d_inter,
                               tokens * inter);
  intermediate_.backward(f32(c.attention_norm_out), tokens, d_inter, d_tmp);
  add_into(d_norm, d_tmp, tokens * h);  // x1 feeds both the FFN and the residual

  // Attention block: x1 = LN(dropout(Wo·attention(x)) + x).
  attention_norm_.backward(d_norm, f32(c.attention_out), input, f32(c.attention_mean),
                           f32(c.attention_rstd), tokens, d_norm);
  kernels::dropout_backward(d_norm, u8(c.attention_drop_mask), d_tmp, tokens * h,
                            dropout.attention.p);
  attention_output_.backward(f32(c.context), tokens, d_tmp, f32(g.d_context));
  const int64_t row = 3 * h;
  float *qkv = f32(c.qkv), *d_qkv = f32(g.d_qkv);
  kernels::HeadsView q{qkv, seq * row, d, row}, k{qkv + h, seq * row, d, row},
      v{qkv + 2 * h, seq * row, d, row}, dout{f32(g.d_context), seq * h, d, h},
      dq{d_qkv, seq * row, d, row}, dk{d_qkv + h, seq * row, d, row},
      dv{d_qkv + 2 * h, seq * row, d, row};
  const float* dropped = dropout.probs.p > 0 ? f32(c.dropped_probs) : f32(c.probs);
  kernels::attention_backward({batch, cfg.num_attention_heads, seq, seq, d}, q, k, v, f32(c.probs),
                              dropped, dout, dq, dk, dv, 1.0f / std::sqrt(static_cast<float>(d)),
                              key_padding(key_mask, seq));
  qkv_.backward(input, tokens, d_qkv, f32(g.d_in));
  add_into(f32(g.d_in), d_norm, tokens * h);  // the residual path
}

void BertLayer::parameters(nn::ParameterList& out) {
  query_.parameters(out);
  key_.parameters(out);
  value_.parameters(out);
  attention_output_.parameters(out);
  attention_norm_.parameters(out);
  intermediate_.parameters(out);
  output_.parameters(out);
  output_norm_.parameters(out);
}

void BertLayer::enable_grad() {
  qkv_.enable_grad();
  const int64_t h = cfg_->hidden_size;
  query_.share_grad_rows(qkv_, 0);
  key_.share_grad_rows(qkv_, h);
  value_.share_grad_rows(qkv_, 2 * h);
  attention_output_.enable_grad();
  attention_norm_.enable_grad();
  intermediate_.enable_grad();
  output_.enable_grad();
  output_norm_.enable_grad();
}

// ---------------------------------------------------------------- pooler

void BertPooler::backward(const float* hidden, const float* out, int64_t batch, int64_t seq,
                          float* d_out, float* d_hidden) {
  const int64_t h = dense_.out_features();
  kernels::tanh_backward_from_output(out, d_out, d_out, batch * h);
  dense_.backward_strided(hidden, seq * h, batch, d_out, d_hidden, seq * h);
}

// ---------------------------------------------------------------- model

DropoutSite BertModel::dropout_site(const BertTrainingOptions& opt, int k) const {
  // Sites are 2^40 elements apart in the counter space: far more than any
  // activation tensor, so no two sites share keep decisions.
  return {opt.hidden_dropout, opt.seed, static_cast<uint64_t>(k) << 40};
}

BertLayerDropout BertModel::layer_dropout(const BertTrainingOptions& opt, int layer) const {
  const int layers = static_cast<int>(layers_.size());
  DropoutSite probs = dropout_site(opt, 2 + 2 * layers + layer);
  probs.p = opt.attention_dropout;
  return {probs, dropout_site(opt, 1 + 2 * layer), dropout_site(opt, 2 + 2 * layer)};
}

void BertModel::forward_train(const BertInputs& in, BertTrainingCache& c,
                              const BertTrainingOptions& opt) const {
  TF_CHECK(in.batch > 0 && in.seq > 0 && in.input_ids,
           "BERT training step: empty batch (" << in.batch << " × " << in.seq << ")");
  const BertConfig& cfg = *cfg_;
  const int64_t tokens = in.batch * in.seq, h = cfg.hidden_size;
  const size_t layers = layers_.size();
  c.hidden.resize(layers + 1);
  c.layers.resize(layers);
  for (Tensor& t : c.hidden) ensure_capacity(t, tokens * h);
  ensure_capacity(c.key_mask, tokens);
  float* key_mask = f32(c.key_mask);
  for (int64_t i = 0; i < tokens; ++i)
    key_mask[i] = in.attention_mask ? static_cast<float>(in.attention_mask[i] != 0) : 1.0f;

  embeddings_.forward_train(in, c.embeddings, dropout_site(opt, 0), f32(c.hidden[0]));
  for (size_t l = 0; l < layers; ++l)
    layers_[l].forward_train(c.layers[l], f32(c.hidden[l]), f32(c.hidden[l + 1]), in.batch, in.seq,
                             key_mask, layer_dropout(opt, static_cast<int>(l)));
}

void BertModel::backward(const BertInputs& in, BertTrainingCache& c, const BertTrainingOptions& opt) {
  const BertConfig& cfg = *cfg_;
  const int64_t tokens = in.batch * in.seq, h = cfg.hidden_size;
  BertGradScratch& g = c.grads;
  for (Tensor* t : {&g.d_in, &g.d_norm, &g.d_tmp, &g.d_context}) ensure_capacity(*t, tokens * h);
  ensure_capacity(g.d_qkv, tokens * 3 * h);
  ensure_capacity(g.d_inter, tokens * cfg.intermediate_size);
  for (size_t l = layers_.size(); l-- > 0;) {
    layers_[l].backward(c.layers[l], f32(c.hidden[l]), in.batch, in.seq, f32(c.key_mask),
                        layer_dropout(opt, static_cast<int>(l)), g);
    std::swap(g.d_out, g.d_in);  // this layer's input gradient is the next one's output gradient
  }
  embeddings_.backward(in, c.embeddings, dropout_site(opt, 0), f32(g.d_out));
}

void BertModel::parameters(nn::ParameterList& out) {
  embeddings_.parameters(out);
  for (BertLayer& l : layers_) l.parameters(out);
  pooler_.parameters(out);
}

void BertModel::enable_grad() {
  embeddings_.enable_grad();
  for (BertLayer& l : layers_) l.enable_grad();
  pooler_.enable_grad();
}

// ---------------------------------------------------------------- classifier

void BertForSequenceClassification::enable_grad() {
  bert_.enable_grad();
  classifier_.enable_grad();
}

nn::ParameterList BertForSequenceClassification::parameters() {
  nn::ParameterList out;
  bert_.parameters(out);
  classifier_.parameters(out);
  return out;
}

float BertForSequenceClassification::train_step(const BertInputs& in, const int32_t* labels,
                                                float grad_scale, const BertTrainingOptions& opt) {
  BertTrainingCache& c = cache_;
  const BertConfig& cfg = config();
  const int64_t tokens = in.batch * in.seq, h = cfg.hidden_size, n_labels = cfg.num_labels();
  bert_.forward_train(in, c, opt);
  float* last = f32(c.hidden.back());

  // Pooler → dropout → classifier → cross-entropy.
  ensure_capacity(c.pooled, in.batch * h);
  ensure_capacity(c.pooled_dropped, in.batch * h);
  ensure_capacity(c.logits, in.batch * n_labels);
  ensure_capacity(c.d_logits, in.batch * n_labels);
  ensure_capacity(c.d_pooled, in.batch * h);
  bert_.pooler().forward(last, in.batch, in.seq, f32(c.pooled));
  std::memcpy(f32(c.pooled_dropped), f32(c.pooled), in.batch * h * sizeof(float));
  const DropoutSite pooler_dropout = bert_.dropout_site(opt, 1 + 2 * static_cast<int>(cfg.num_hidden_layers));
  dropout_forward(pooler_dropout, f32(c.pooled_dropped), c.pooled_drop_mask, in.batch * h);
  classifier_.forward(f32(c.pooled_dropped), in.batch, f32(c.logits));
  const float loss = kernels::cross_entropy(f32(c.logits), labels, in.batch, n_labels, f32(c.d_logits));
  float* d_logits = f32(c.d_logits);
  for (int64_t i = 0; i < in.batch * n_labels; ++i) d_logits[i] *= grad_scale;

  // Backward, from the loss down to the embeddings.
  classifier_.backward(f32(c.pooled_dropped), in.batch, d_logits, f32(c.d_pooled));
  kernels::dropout_backward(f32(c.d_pooled), u8(c.pooled_drop_mask), f32(c.d_pooled), in.batch * h,
                            pooler_dropout.p);
  ensure_capacity(c.grads.d_out, tokens * h);
  std::memset(f32(c.grads.d_out), 0, tokens * h * sizeof(float));  // only [CLS] rows get gradient
  bert_.pooler().backward(last, f32(c.pooled), in.batch, in.seq, f32(c.d_pooled), f32(c.grads.d_out));
  bert_.backward(in, c, opt);
  return loss;
}

}  // namespace tformer::models
