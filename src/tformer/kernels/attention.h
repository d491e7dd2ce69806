// Scaled dot-product attention, the reference (materialised scores) version.
//
// Shapes: batch B, heads H, query length Sq, key/value length Sk, head dim D.
// Q, K, V and Out are strided views: element (b, h, s, d) lives at
//   data[b·batch_stride + h·head_stride + s·row_stride + d]
// so the packed [B, S, H·D] output of a fused QKV projection is used in place.
//
//   scores[i, j] = scale · q_i · k_j, replaced by mask.fill where masked
//   out_i = Σ_j softmax_j(scores[i, ·]) · v_j
//
// Work is split over (b, h) pairs across the thread pool; each thread keeps a
// private Sq × Sk score buffer that only grows. attention_train writes the
// probabilities to a caller buffer instead, for attention_backward, and can
// drop some of them (attention_probs_dropout_prob): out_i = Σ_j dropout(P)_ij · v_j.
#pragma once
#include <cstdint>

namespace tformer::kernels {

struct HeadsView {
  float* data = nullptr;
  int64_t batch_stride = 0, head_stride = 0, row_stride = 0;
};

// Keep (b, h, i, j) iff data[b·batch_stride + h·head_stride + i·query_stride + j] != 0.
// A key-padding mask [B, Sk] is batch_stride = Sk and zero head/query strides.
// `causal` additionally masks j > i + (Sk − Sq).
struct AttentionMask {
  const float* data = nullptr;
  int64_t batch_stride = 0, head_stride = 0, query_stride = 0;
  bool causal = false;
  float fill = -3.4028234663852886e38f;  // torch.finfo(float32).min, as HF adds
};

// Grouped-query attention (Ainslie et al., 2023): with kv_heads < heads,
// query head h reads key/value head h / (heads / kv_heads); 0 means as many
// as the queries (multi-head attention).
struct AttentionShape {
  int64_t batch = 0, heads = 0, q_len = 0, kv_len = 0, head_dim = 0;
  int64_t kv_heads = 0;
  int64_t kv_head(int64_t h) const { return kv_heads > 0 ? h / (heads / kv_heads) : h; }
};

void attention(const AttentionShape& shape, const HeadsView& q, const HeadsView& k,
               const HeadsView& v, const HeadsView& out, float scale, const AttentionMask& mask);

// The same for one query per head (q_len 1: a decode step), computed row by
// row against the keys where they lie instead of through GEMMs that would
// pack K and V for a single product each. The results round differently
// from attention()'s (by ~1 ulp), so a caller that needs attention()'s bits
// for one query (BERT's [CLS]-only last layer) calls attention().
void attention_single_query(const AttentionShape& shape, const HeadsView& q, const HeadsView& k,
                            const HeadsView& v, const HeadsView& out, float scale, const AttentionMask& mask);

// Dropout on the attention probabilities, as kernels::dropout (dropout.h) over
// the [B, H, Sq, Sk] tensor P: element (b, h, i, j) draws counter offset + its
// index, so the keep decisions do not depend on the thread count.
struct ProbsDropout {
  float p = 0.0f;  // 0: no dropout
  uint64_t seed = 0, offset = 0;
};

// The training forward: the softmax probabilities P = softmax(masked scores)
// in probs, contiguous [B, H, Sq, Sk], and out = dropout(P) · V. With
// dropout.p > 0 the dropped probabilities go to dropped_probs (same shape);
// with p = 0 dropped_probs is unused and out matches attention() bit for bit.
void attention_train(const AttentionShape& shape, const HeadsView& q, const HeadsView& k,
                     const HeadsView& v, const HeadsView& out, float scale,
                     const AttentionMask& mask, float* probs, const ProbsDropout& dropout = {},
                     float* dropped_probs = nullptr);

}  // namespace tformer::kernels
