#include "tformer/kernels/attention.h"

#include "tformer/core/thread_pool.h"
#include "tformer/core/error.h"
#include "tformer/kernels/attention_heads.h"
#include "tformer/kernels/dropout.h"
#include "tformer/kernels/softmax.h"

namespace tformer::kernels {

namespace {
using detail::head_gemm;
using detail::head_ptr;

// Head (b, h): probs[Sq, Sk] = softmax(masked scale · Q · Kᵀ), out = weights · V,
// where weights is probs itself or, in training with dropout, dropout(probs).
// `head` is the head's index b·H + h (its place in a [B, H, Sq, Sk] tensor).
void attend_head(const AttentionShape& s, const HeadsView& q, const HeadsView& k,
                 const HeadsView& v, const HeadsView& out, float scale, const AttentionMask& mask,
                 int64_t head, float* probs, const ProbsDropout& dropout = {},
                 float* dropped = nullptr) {
  const int64_t b = head / s.heads, h = head % s.heads, hk = s.kv_head(h);
  const int64_t sq = s.q_len, sk = s.kv_len, d = s.head_dim;
  // The scale is applied to the scores, not folded into the GEMM's alpha:
  // with alpha = 1 the GEMM reads Q where it lies instead of packing it.
  head_gemm(false, true, sq, sk, d, 1.0f, head_ptr(q, b, h), q.row_stride, head_ptr(k, b, hk),
            k.row_stride, probs, sk);
  for (int64_t i = 0; i < sq; ++i) {
    float* row = probs + i * sk;
    for (int64_t j = 0; j < sk; ++j) row[j] *= scale;
    detail::mask_row(mask, s, b, h, i, row, mask.fill);
    softmax_row(row, sk);
  }
  const float* weights = probs;
  if (dropout.p > 0.0f) {
    kernels::dropout(probs, dropped, nullptr, sq * sk, dropout.p, dropout.seed,
                     dropout.offset + static_cast<uint64_t>(head * sq * sk));
    weights = dropped;
  }
  head_gemm(false, false, sq, d, sk, 1.0f, weights, sk, head_ptr(v, b, hk), v.row_stride,
            head_ptr(out, b, h), out.row_stride);
}
}  // namespace

void attention(const AttentionShape& s, const HeadsView& q, const HeadsView& k, const HeadsView& v,
               const HeadsView& out, float scale, const AttentionMask& mask) {
  // Heads go to threads as they come free: the host slows one vCPU at a
  // time, and a static split would wait for it (BERT-base at 2 threads,
  // interleaved in-process: median forward -3..14 %).
  parallel_for_dynamic(s.batch * s.heads, [&] { return detail::head_scratch(s.q_len * s.kv_len); },
                       [&](int64_t p, float* scores) { attend_head(s, q, k, v, out, scale, mask, p, scores); });
}

void attention_train(const AttentionShape& s, const HeadsView& q, const HeadsView& k,
                     const HeadsView& v, const HeadsView& out, float scale,
                     const AttentionMask& mask, float* probs, const ProbsDropout& dropout,
                     float* dropped_probs) {
  TF_CHECK(dropout.p == 0.0f || dropped_probs,
           "attention_train: dropout " << dropout.p << " needs a dropped_probs buffer");
  const int64_t head_size = s.q_len * s.kv_len;
  // The heads' GEMMs run on whichever thread takes them: each sizes its scratch first, as attention()'s do.
  parallel_for_dynamic(s.batch * s.heads, reserve_gemm_scratch, [&](int64_t p) {
    attend_head(s, q, k, v, out, scale, mask, p, probs + p * head_size, dropout,
                dropped_probs ? dropped_probs + p * head_size : nullptr);
  });
}

}  // namespace tformer::kernels
