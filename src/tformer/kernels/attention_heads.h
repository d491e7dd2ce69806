// Helpers shared by attention's forward (attention.cpp) and backward
// (attention_backward.cpp): addressing one (batch, head) slice, the mask, and
// the per-thread Sq × Sk scratch. Internal to the kernels.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "tformer/kernels/attention.h"
#include "tformer/kernels/gemm.h"

namespace tformer::kernels::detail {

inline float* head_ptr(const HeadsView& t, int64_t b, int64_t h) {
  return t.data + b * t.batch_stride + h * t.head_stride;
}

// Sets the masked entries of score row i of head (b, h) to `value`: the
// forward writes mask.fill before the softmax, the backward zeroes the score
// gradient there (masked scores are constants, even in a row masked entirely,
// whose softmax is uniform).
inline void mask_row(const AttentionMask& mask, const AttentionShape& s, int64_t b, int64_t h,
                     int64_t i, float* row, float value) {
  if (mask.data) {
    const float* m = mask.data + b * mask.batch_stride + h * mask.head_stride + i * mask.query_stride;
    for (int64_t j = 0; j < s.kv_len; ++j)
      if (m[j] == 0.0f) row[j] = value;
  }
  if (mask.causal)
    for (int64_t j = std::max<int64_t>(0, i + (s.kv_len - s.q_len) + 1); j < s.kv_len; ++j)
      row[j] = value;
}

// C = alpha · op(A) · op(B) on the calling thread (heads run one per thread).
inline void head_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                      const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
                      int64_t ldc) {
  GemmArgs g;
  g.trans_a = trans_a;
  g.trans_b = trans_b;
  g.m = m;
  g.n = n;
  g.k = k;
  g.alpha = alpha;
  g.a = a;
  g.lda = lda;
  g.b = b;
  g.ldb = ldb;
  g.c = c;
  g.ldc = ldc;
  gemm_serial(g);
}

// A per-thread buffer of at least n floats that only grows, for one head's
// scores, with the thread's scratch for the heads' GEMMs (gemm_serial)
// sized too: called once per job by each thread that takes heads.
inline float* head_scratch(int64_t n) {
  thread_local std::vector<float> buffer;
  if (static_cast<int64_t>(buffer.size()) < n) buffer.resize(n);
  reserve_gemm_scratch();
  return buffer.data();
}

}  // namespace tformer::kernels::detail
