// The sizes of a multi-head attention layer, and the per-forward buffers
// that its fused projection and its context need; shared by the decoders'
// causal attention and the encoders' bidirectional one.
#pragma once
#include <cstdint>

#include "tformer/core/tensor.h"
#include "tformer/io/weight_source.h"
#include "tformer/nn/linear.h"

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

// The query, key and value projections stored as three Linears under `vb`
// (named q, k and v there), fused into one [q_dim + 2·kv_dim, hidden] Linear
// so that one GEMM computes all three.
Linear load_fused_qkv(const io::WeightView& vb, const char* q, const char* k, const char* v, const AttentionDims& dims,
                      bool bias);

}  // namespace tformer::nn
