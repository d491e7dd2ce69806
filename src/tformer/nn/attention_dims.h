// The sizes of a multi-head attention layer, and the per-forward buffers
// that its fused projection and its context need; shared by the decoders'
// causal attention and the encoders' bidirectional one.
#pragma once
#include <cstdint>

#include "tformer/core/tensor.h"

namespace tformer::nn {

struct AttentionDims {
  int64_t hidden = 0, heads = 0, kv_heads = 0, head_dim = 0;
  int64_t q_dim() const { return heads * head_dim; }
  int64_t kv_dim() const { return kv_heads * head_dim; }
  int64_t qkv_dim() const { return q_dim() + 2 * kv_dim(); }
};

// Per-step buffers, owned by the model and shared by its layers.
struct AttentionScratch {
  Tensor qkv, context;
  void reserve(int64_t rows, const AttentionDims& dims);
};

}  // namespace tformer::nn
