#include "tformer/kernels/attention.h"

#include "tformer/core/thread_pool.h"
#include "tformer/kernels/attention_heads.h"
#include "tformer/kernels/softmax.h"

namespace tformer::kernels {

namespace {
using detail::head_gemm;
using detail::head_ptr;

// Head (b, h): probs[Sq, Sk] = softmax(masked scale · Q · Kᵀ), out = probs · V.
void attend_head(const AttentionShape& s, const HeadsView& q, const HeadsView& k,
                 const HeadsView& v, const HeadsView& out, float scale, const AttentionMask& mask,
                 int64_t b, int64_t h, float* probs) {
  const int64_t sq = s.q_len, sk = s.kv_len, d = s.head_dim;
  head_gemm(false, true, sq, sk, d, scale, head_ptr(q, b, h), q.row_stride, head_ptr(k, b, h),
            k.row_stride, probs, sk);
  for (int64_t i = 0; i < sq; ++i) {
    float* row = probs + i * sk;
    detail::mask_row(mask, s, b, h, i, row, mask.fill);
    softmax_row(row, sk);
  }
  head_gemm(false, false, sq, d, sk, 1.0f, probs, sk, head_ptr(v, b, h), v.row_stride,
            head_ptr(out, b, h), out.row_stride);
}
}  // namespace

void attention(const AttentionShape& s, const HeadsView& q, const HeadsView& k, const HeadsView& v,
               const HeadsView& out, float scale, const AttentionMask& mask) {
  parallel_for(s.batch * s.heads, 1, [&](int64_t p0, int64_t p1) {
    float* probs = detail::thread_scratch(s.q_len * s.kv_len);
    for (int64_t p = p0; p < p1; ++p)
      attend_head(s, q, k, v, out, scale, mask, p / s.heads, p % s.heads, probs);
  });
}

void attention_train(const AttentionShape& s, const HeadsView& q, const HeadsView& k,
                     const HeadsView& v, const HeadsView& out, float scale,
                     const AttentionMask& mask, float* probs) {
  const int64_t head_size = s.q_len * s.kv_len;
  parallel_for(s.batch * s.heads, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p)
      attend_head(s, q, k, v, out, scale, mask, p / s.heads, p % s.heads, probs + p * head_size);
  });
}

}  // namespace tformer::kernels
