#include "tformer/kernels/attention_backward.h"

#include "tformer/core/thread_pool.h"
#include "tformer/kernels/attention_heads.h"

namespace tformer::kernels {

namespace {
using detail::head_gemm;
using detail::head_ptr;

// In place over one head: dP'[Sq, Sk] becomes scale · dS, with
// dS = P' ⊙ dP' − P · rowsum(P' ⊙ dP'), 0 where masked (see the header).
// Without dropout P' = P, and the same rounding as P ⊙ (dP − rowsum(P ⊙ dP))
// is kept. The score scale is applied here once rather than as the alpha of
// the two GEMMs that use dS, which would each copy dS to scale it.
void softmax_backward_rows(const AttentionShape& s, const AttentionMask& mask, int64_t b,
                           int64_t h, const float* probs, const float* dropped, float scale, float* grad) {
  const int64_t sk = s.kv_len;
  for (int64_t i = 0; i < s.q_len; ++i) {
    const float* p = probs + i * sk;
    const float* pd = dropped + i * sk;
    float* g = grad + i * sk;
    double dot = 0.0;
    for (int64_t j = 0; j < sk; ++j) dot += static_cast<double>(g[j]) * pd[j];
    const float centre = static_cast<float>(dot);
    if (pd == p)
      for (int64_t j = 0; j < sk; ++j) g[j] = p[j] * (g[j] - centre);
    else
      for (int64_t j = 0; j < sk; ++j) g[j] = pd[j] * g[j] - p[j] * centre;
    detail::mask_row(mask, s, b, h, i, g, 0.0f);
    for (int64_t j = 0; j < sk; ++j) g[j] *= scale;
  }
}
}  // namespace

void attention_backward(const AttentionShape& s, const HeadsView& q, const HeadsView& k,
                        const HeadsView& v, const float* probs, const float* dropped_probs,
                        const HeadsView& dout,
                        const HeadsView& dq, const HeadsView& dk, const HeadsView& dv, float scale,
                        const AttentionMask& mask) {
  const int64_t sq = s.q_len, sk = s.kv_len, d = s.head_dim;
  // Heads as threads come free, as attention()'s.
  parallel_for_dynamic(s.batch * s.heads, [&] { return detail::head_scratch(sq * sk); }, [&](int64_t p, float* ds) {
    const int64_t b = p / s.heads, h = p % s.heads;
    const float* ph = probs + p * sq * sk;
    const float* pdh = dropped_probs + p * sq * sk;
    const float* dout_h = head_ptr(dout, b, h);
    head_gemm(true, false, sk, d, sq, 1.0f, pdh, sk, dout_h, dout.row_stride, head_ptr(dv, b, h),
              dv.row_stride);  // dV = P'ᵀ · dO
    head_gemm(false, true, sq, sk, d, 1.0f, dout_h, dout.row_stride, head_ptr(v, b, h),
              v.row_stride, ds, sk);  // dP' = dO · Vᵀ
    softmax_backward_rows(s, mask, b, h, ph, pdh, scale, ds);
    head_gemm(false, false, sq, d, sk, 1.0f, ds, sk, head_ptr(k, b, h), k.row_stride,
              head_ptr(dq, b, h), dq.row_stride);  // dQ = (scale · dS) · K
    head_gemm(true, false, sk, d, sq, 1.0f, ds, sk, head_ptr(q, b, h), q.row_stride,
              head_ptr(dk, b, h), dk.row_stride);  // dK = (scale · dS)ᵀ · Q
  });
}

}  // namespace tformer::kernels
