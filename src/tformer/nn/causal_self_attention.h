// Causal self-attention with a KV cache, as the decoders of GPT-2 and Llama
// share it:
//
//   x ─▶ q, k, v projections (one GEMM) ─▶ [rotary on q and k] ─▶ k, v into
//   the cache ─▶ softmax(q·kᵀ/√d, causal) · v over the cached slots
//   ─▶ output projection, added into the residual stream
//
// Grouped-query attention: kv_heads ≤ heads key/value heads, query head h
// reading kv head h / (heads / kv_heads). The projections load either as
// three Linears (Llama's q_proj, k_proj, v_proj, fused here into one) or as
// one Conv1D (GPT-2's c_attn, [in, 3·out]).
#pragma once
#include <cstdint>

#include "tformer/core/tensor.h"
#include "tformer/io/weight_source.h"
#include "tformer/kernels/gemm.h"
#include "tformer/nn/attention_dims.h"
#include "tformer/nn/kv_cache.h"
#include "tformer/nn/linear.h"
#include "tformer/nn/rotary_embedding.h"

namespace tformer::nn {

class CausalSelfAttention {
 public:
  CausalSelfAttention() = default;
  // Llama: q_proj, k_proj, v_proj and o_proj under `vb`.
  static CausalSelfAttention load_separate(const io::WeightView& vb, const AttentionDims& dims, bool bias);
  // GPT-2: c_attn and c_proj, Conv1D layout, with biases.
  static CausalSelfAttention load_conv1d(const io::WeightView& vb, const AttentionDims& dims);
  // Rotary embeddings on q and k (Llama); null: none (GPT-2's positions are learned).
  void set_rotary(const RotaryEmbedding* rotary) { rotary_ = rotary; }

  // x [step.rows(), hidden] (normalised input); the attention output is added
  // into residual [step.rows(), hidden]. Writes this step's keys and values
  // into `cache` at layer `layer`.
  void forward(const float* x, const DecodeStep& step, KVCache& cache, int64_t layer, AttentionScratch& scratch,
               float* residual) const;
  void set_weight_format(kernels::GemmFormat format);
  int64_t weight_bytes() const { return qkv_.weight_bytes() + output_.weight_bytes(); }

 private:
  AttentionDims dims_;
  Linear qkv_, output_;
  const RotaryEmbedding* rotary_ = nullptr;
};

}  // namespace tformer::nn
