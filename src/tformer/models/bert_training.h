// What BERT's training forward keeps for its backward pass, as llm.c keeps
// its activations: every buffer is owned here, sized on the first step of a
// given batch × length and reused after, so a training step allocates nothing.
#pragma once
#include <cstdint>
#include <vector>

#include "tformer/core/tensor.h"

namespace tformer::models {

// One dropout site of a step: keep decisions are a pure function of
// (seed, offset + element), so a step is reproducible and thread-count free.
struct DropoutSite {
  float p = 0.0f;
  uint64_t seed = 0;
  uint64_t offset = 0;
};

// The dropout sites of one encoder layer.
struct BertLayerDropout {
  DropoutSite probs;      // attention probabilities (attention_probs_dropout_prob)
  DropoutSite attention;  // attention.output.dense's output (hidden_dropout_prob)
  DropoutSite output;     // output.dense's output (hidden_dropout_prob)
};

struct BertTrainingOptions {
  float hidden_dropout = 0.1f;     // config.hidden_dropout_prob; 0 for a deterministic step
  float attention_dropout = 0.1f;  // config.attention_probs_dropout_prob
  uint64_t seed = 0;               // dropout seed for this step
};

struct BertEmbeddingsCache {
  Tensor summed;          // word + position + type [T, H]: LayerNorm's input
  Tensor mean, rstd;      // [T]
  Tensor dropout_mask;    // U8 [T, H]
  Tensor position_ids;    // I32 [T]
};

struct BertLayerCache {
  Tensor qkv;                   // [T, 3H]
  Tensor probs;                 // [B, heads, S, S]
  Tensor dropped_probs;         // [B, heads, S, S] after dropout (unused without it)
  Tensor context;               // [T, H]
  Tensor attention_out;         // attention.output.dense, after dropout [T, H]
  Tensor attention_drop_mask;   // U8 [T, H]
  Tensor attention_norm_out;    // [T, H]
  Tensor attention_mean, attention_rstd;
  Tensor intermediate_pre;      // [T, I] before the activation
  Tensor intermediate_act;      // [T, I] after it
  Tensor output_out;            // output.dense, after dropout [T, H]
  Tensor output_drop_mask;      // U8 [T, H]
  Tensor output_mean, output_rstd;
};

// Gradient scratch shared by the layers' backward passes.
struct BertGradScratch {
  Tensor d_out, d_in;  // [T, H]: gradient w.r.t. a layer's output / input (ping-pong)
  Tensor d_norm;       // [T, H]
  Tensor d_tmp;        // [T, H]
  Tensor d_context;    // [T, H]
  Tensor d_qkv;        // [T, 3H]
  Tensor d_inter;      // [T, I]
};

struct BertTrainingCache {
  BertEmbeddingsCache embeddings;
  std::vector<Tensor> hidden;  // hidden[l]: input of layer l; hidden[L]: last_hidden_state
  std::vector<BertLayerCache> layers;
  Tensor key_mask;             // [B, S] floats, 1 = attend
  Tensor pooled;               // tanh output [B, H]
  Tensor pooled_dropped;       // [B, H]
  Tensor pooled_drop_mask;     // U8 [B, H]
  Tensor logits, d_logits;     // [B, labels]
  Tensor d_pooled;             // [B, H]
  BertGradScratch grads;
};

}  // namespace tformer::models
