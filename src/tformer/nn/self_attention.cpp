#include "tformer/nn/self_attention.h"

#include <cmath>

#include "tformer/kernels/attention.h"

namespace tformer::nn {

SelfAttention SelfAttention::load(const io::WeightView& projections, const io::WeightView& output,
                                  const AttentionDims& dims, bool qkv_bias) {
  SelfAttention a;
  a.dims_ = dims;
  a.qkv_ = load_fused_qkv(projections, "query", "key", "value", dims, qkv_bias);
  a.output_ = Linear::load(output, dims.q_dim(), dims.hidden);
  return a;
}

void SelfAttention::set_weight_format(kernels::GemmFormat format) {
  qkv_.set_weight_format(format);
  output_.set_weight_format(format);
}

void SelfAttention::forward(const float* x, int64_t batch, int64_t seq, AttentionScratch& scratch,
                            float* residual) const {
  const int64_t rows = batch * seq, d = dims_.head_dim, row = dims_.qkv_dim(), q_dim = dims_.q_dim();
  scratch.reserve(rows, dims_);
  float* qkv = scratch.qkv.data<float>();
  float* context = scratch.context.data<float>();
  qkv_.forward(x, rows, qkv);
  // The fused projection's output read in place as [batch, seq, (q | k | v), heads, d].
  const kernels::HeadsView q{qkv, seq * row, d, row}, k{qkv + q_dim, seq * row, d, row},
      v{qkv + q_dim + dims_.kv_dim(), seq * row, d, row}, out{context, seq * q_dim, d, q_dim};
  const kernels::AttentionShape shape{batch, dims_.heads, seq, seq, d, dims_.kv_heads};
  kernels::attention(shape, q, k, v, out, 1.0f / std::sqrt(static_cast<float>(d)), kernels::AttentionMask{});
  output_.forward_add(context, rows, residual);
}

}  // namespace tformer::nn
