#include "tformer/kernels/attention.h"

#include "tformer/core/thread_pool.h"
#include "tformer/core/error.h"
#include "tformer/kernels/attention_heads.h"
#include "tformer/kernels/dropout.h"
#include "tformer/kernels/multiversion.h"
#include "tformer/kernels/softmax.h"

namespace tformer::kernels {

namespace {
using detail::head_gemm;
using detail::head_ptr;

// One query row against the keys directly: a decode step's query meets each
// cached key once, so the GEMM path's packing of K and V would cost more
// than the products (stories260K decode, 1 thread: 16 % + 14 % of the time
// in packing before this path).
// Head sizes are multiples of 8 in practice (8 in stories260K, 64 in
// GPT-2): the loops go 8 floats at a time with a constant trip count, which
// every ISA's copy turns into whole vector operations (a loop over d of
// unknown length left d = 8 to the scalar epilogue of a 16-lane loop).
TF_MULTIVERSION(void, score_row,
                (const float* q, const float* k, int64_t k_stride, int64_t sk, int64_t d, float scale, float* scores),
                {
                  const int64_t body = d / 8 * 8;
                  for (int64_t j = 0; j < sk; ++j) {
                    const float* kj = k + j * k_stride;
                    float lanes[8] = {};
                    for (int64_t i0 = 0; i0 < body; i0 += 8)
                      for (int i = 0; i < 8; ++i) lanes[i] += q[i0 + i] * kj[i0 + i];
                    float dot = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) +
                                ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
                    for (int64_t i = body; i < d; ++i) dot += q[i] * kj[i];
                    scores[j] = dot * scale;
                  }
                })
TF_MULTIVERSION(void, weighted_sum_row,
                (const float* p, const float* v, int64_t v_stride, int64_t sk, int64_t d, float* out), {
                  const int64_t body = d / 8 * 8;
                  for (int64_t i = 0; i < d; ++i) out[i] = 0.0f;
                  for (int64_t j = 0; j < sk; ++j) {
                    const float* vj = v + j * v_stride;
                    const float pj = p[j];
                    for (int64_t i0 = 0; i0 < body; i0 += 8)
                      for (int i = 0; i < 8; ++i) out[i0 + i] += pj * vj[i0 + i];
                    for (int64_t i = body; i < d; ++i) out[i] += pj * vj[i];
                  }
                })

void attend_query_row(const AttentionShape& s, const HeadsView& q, const HeadsView& k, const HeadsView& v,
                      const HeadsView& out, float scale, const AttentionMask& mask, int64_t b, int64_t h,
                      float* scores) {
  const Isa isa = active_isa();
  const int64_t hk = s.kv_head(h);
  TF_SELECT(score_row, isa)(head_ptr(q, b, h), head_ptr(k, b, hk), k.row_stride, s.kv_len, s.head_dim, scale, scores);
  detail::mask_row(mask, s, b, h, 0, scores, mask.fill);
  softmax_row(scores, s.kv_len, isa);
  TF_SELECT(weighted_sum_row, isa)(scores, head_ptr(v, b, hk), v.row_stride, s.kv_len, s.head_dim, head_ptr(out, b, h));
}

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

void attention_single_query(const AttentionShape& s, const HeadsView& q, const HeadsView& k, const HeadsView& v,
                            const HeadsView& out, float scale, const AttentionMask& mask) {
  TF_CHECK(s.q_len == 1, "attention_single_query: " << s.q_len << " queries per head");
  auto run = [&](int64_t p, float* scores) {
    attend_query_row(s, q, k, v, out, scale, mask, p / s.heads, p % s.heads, scores);
  };
  const int64_t n = s.batch * s.heads;
  // A small step is not worth waking a thread for (stories260K: 8 heads of 8
  // over a few hundred slots).
  if (n * s.kv_len * s.head_dim < (int64_t(1) << 16)) {
    float* scores = detail::head_scratch(s.kv_len);
    for (int64_t p = 0; p < n; ++p) run(p, scores);
    return;
  }
  parallel_for_dynamic(n, [&] { return detail::head_scratch(s.kv_len); }, run);
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
