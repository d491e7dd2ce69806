#include "tformer/kernels/attention.h"

#include <vector>

#include "tformer/core/thread_pool.h"
#include "tformer/kernels/gemm.h"
#include "tformer/kernels/softmax.h"

namespace tformer::kernels {

namespace {
float* thread_scores(int64_t n) {
  thread_local std::vector<float> buffer;
  if (static_cast<int64_t>(buffer.size()) < n) buffer.resize(n);
  return buffer.data();
}

const float* head_ptr(const HeadsView& t, int64_t b, int64_t h) {
  return t.data + b * t.batch_stride + h * t.head_stride;
}
}  // namespace

void attention(const AttentionShape& s, const HeadsView& q, const HeadsView& k, const HeadsView& v,
               const HeadsView& out, float scale, const AttentionMask& mask) {
  const int64_t sq = s.q_len, sk = s.kv_len, d = s.head_dim;
  parallel_for(s.batch * s.heads, 1, [&](int64_t p0, int64_t p1) {
    float* scores = thread_scores(sq * sk);
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t b = p / s.heads, h = p % s.heads;
      GemmArgs qk;  // scores[Sq, Sk] = scale · Q · Kᵀ
      qk.trans_b = true;
      qk.m = sq;
      qk.n = sk;
      qk.k = d;
      qk.alpha = scale;
      qk.a = head_ptr(q, b, h);
      qk.lda = q.row_stride;
      qk.b = head_ptr(k, b, h);
      qk.ldb = k.row_stride;
      qk.c = scores;
      qk.ldc = sk;
      gemm_serial(qk);
      for (int64_t i = 0; i < sq; ++i) {
        float* row = scores + i * sk;
        if (mask.data) {
          const float* m = mask.data + b * mask.batch_stride + h * mask.head_stride + i * mask.query_stride;
          for (int64_t j = 0; j < sk; ++j)
            if (m[j] == 0.0f) row[j] = mask.fill;
        }
        if (mask.causal)
          for (int64_t j = i + (sk - sq) + 1; j < sk; ++j) row[j] = mask.fill;
        softmax_row(row, sk);
      }
      GemmArgs pv;  // out[Sq, D] = P · V
      pv.m = sq;
      pv.n = d;
      pv.k = sk;
      pv.a = scores;
      pv.lda = sk;
      pv.b = head_ptr(v, b, h);
      pv.ldb = v.row_stride;
      pv.c = out.data + b * out.batch_stride + h * out.head_stride;
      pv.ldc = out.row_stride;
      gemm_serial(pv);
    }
  });
}

}  // namespace tformer::kernels
