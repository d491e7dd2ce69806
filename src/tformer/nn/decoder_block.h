// The pre-norm transformer decoder block (GPT-2's Block, Llama's
// LlamaDecoderLayer), generic in its norm and its feed-forward network:
//
//   h = h + attention(attention_norm(h))     causal, over the KV cache
//   h = h + mlp(mlp_norm(h))
//
// GPT-2: LayerNorm and Mlp (gelu_new); Llama: RmsNorm and GatedMlp (SwiGLU).
#pragma once
#include <cstdint>

#include "tformer/core/tensor.h"
#include "tformer/kernels/gemm.h"
#include "tformer/nn/causal_self_attention.h"
#include "tformer/nn/kv_cache.h"

namespace tformer::nn {

// A step's buffers, shared by the blocks of a model.
struct DecoderBlockScratch {
  Tensor normed, mlp;
  AttentionScratch attention;
};

template <class Norm, class FeedForward>
struct PreNormDecoderBlock {
  Norm attention_norm;
  CausalSelfAttention attention;
  Norm mlp_norm;
  FeedForward mlp;

  // hidden [step.rows(), width], updated in place; this block's keys and
  // values go into `cache` at `layer`. scratch.normed holds [rows, width].
  void forward(float* hidden, const DecodeStep& step, KVCache& cache, int64_t layer,
               DecoderBlockScratch& scratch) const {
    float* normed = scratch.normed.template data<float>();
    attention_norm.forward(hidden, step.rows(), normed);
    attention.forward(normed, step, cache, layer, scratch.attention, hidden);
    mlp_norm.forward(hidden, step.rows(), normed);
    mlp.forward(normed, step.rows(), scratch.mlp, hidden);
  }
  void set_weight_format(kernels::GemmFormat format) {
    attention.set_weight_format(format);
    mlp.set_weight_format(format);
  }
  int64_t weight_bytes() const { return attention.weight_bytes() + mlp.weight_bytes(); }
};

}  // namespace tformer::nn
