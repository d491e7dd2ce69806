#include "tformer/nn/causal_self_attention.h"

#include <cmath>
#include <cstring>

#include "tformer/core/error.h"
#include "tformer/kernels/attention.h"

namespace tformer::nn {

CausalSelfAttention CausalSelfAttention::load_separate(const io::WeightView& vb, const AttentionDims& dims,
                                                       bool bias) {
  CausalSelfAttention a;
  a.dims_ = dims;
  a.qkv_ = load_fused_qkv(vb, "q_proj", "k_proj", "v_proj", dims, bias);
  a.output_ = Linear::load(vb.pp("o_proj"), dims.q_dim(), dims.hidden, bias);
  return a;
}

CausalSelfAttention CausalSelfAttention::load_conv1d(const io::WeightView& vb, const AttentionDims& dims) {
  CausalSelfAttention a;
  a.dims_ = dims;
  a.qkv_ = Linear::load_conv1d(vb.pp("c_attn"), dims.hidden, dims.qkv_dim());
  a.output_ = Linear::load_conv1d(vb.pp("c_proj"), dims.q_dim(), dims.hidden);
  return a;
}

void CausalSelfAttention::set_weight_format(kernels::GemmFormat format) {
  qkv_.set_weight_format(format);
  output_.set_weight_format(format);
}

void CausalSelfAttention::forward(const float* x, const DecodeStep& step, KVCache& cache, int64_t layer,
                                  AttentionScratch& scratch, float* residual) const {
  const int64_t rows = step.rows(), d = dims_.head_dim, row = dims_.qkv_dim();
  const int64_t q_dim = dims_.q_dim(), kv_dim = dims_.kv_dim();
  float* qkv = scratch.qkv.data<float>();
  qkv_.forward(x, rows, qkv);
  if (rotary_) {
    rotary_->apply(qkv, rows, row, dims_.heads, step.positions);
    rotary_->apply(qkv + q_dim, rows, row, dims_.kv_heads, step.positions);
  }

  // This step's keys and values into their slots, in a cache of this
  // model's shape (one reserved for another model or a smaller batch would be overrun).
  TF_CHECK(layer < cache.layers() && step.batch <= cache.batch() && cache.kv_dim() == kv_dim,
           "attention: layer " << layer << " of a batch of " << step.batch << " with " << kv_dim
                               << " key values a token does not fit a KV cache of " << cache.layers() << " layers, "
                               << cache.batch() << " sequences and " << cache.kv_dim() << " key values");
  for (int64_t b = 0; b < step.batch; ++b) {
    TF_CHECK(step.start[b] >= 0 && step.start[b] + step.tokens <= cache.capacity(),
             "attention: slots " << step.start[b] << " to " << step.start[b] + step.tokens
                                 << " are past the KV cache's " << cache.capacity() << " positions");
    float* keys = cache.keys(layer, b) + step.start[b] * kv_dim;
    float* values = cache.values(layer, b) + step.start[b] * kv_dim;
    for (int64_t t = 0; t < step.tokens; ++t) {
      const float* src = qkv + (b * step.tokens + t) * row;
      std::memcpy(keys + t * kv_dim, src + q_dim, kv_dim * sizeof(float));
      std::memcpy(values + t * kv_dim, src + q_dim + kv_dim, kv_dim * sizeof(float));
    }
  }

  // Each query attends to the valid cached slots up to its own position: the
  // key mask drops padding and unwritten slots, the causal rule (for a
  // prefill, whose sequences all start at the same slot) later tokens.
  float* context = scratch.context.data<float>();
  const int64_t seq_stride = cache.sequence_stride();
  kernels::HeadsView q{qkv, step.tokens * row, d, row};
  kernels::HeadsView k{cache.keys(layer, 0), seq_stride, d, kv_dim};
  kernels::HeadsView v{cache.values(layer, 0), seq_stride, d, kv_dim};
  kernels::HeadsView out{context, step.tokens * q_dim, d, q_dim};
  kernels::AttentionMask mask;
  mask.data = step.key_mask;
  mask.batch_stride = step.key_mask_stride;
  mask.causal = step.tokens > 1;
  const kernels::AttentionShape shape{step.batch, dims_.heads, step.tokens, step.kv_len, d, dims_.kv_heads};
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  if (step.tokens == 1) kernels::attention_single_query(shape, q, k, v, out, scale, mask);
  else kernels::attention(shape, q, k, v, out, scale, mask);

  output_.forward_add(context, rows, residual);
}

}  // namespace tformer::nn
