#include "tformer/kernels/embedding_backward.h"

#include "tformer/core/error.h"
#include "tformer/kernels/column_reduce.h"

namespace tformer::kernels {

void embedding_backward(const int32_t* ids, int64_t n, const float* dy, int64_t dim,
                        float* dtable, int64_t num_embeddings) {
  for (int64_t i = 0; i < n; ++i)
    TF_CHECK(ids[i] >= 0 && ids[i] < num_embeddings,
             "embedding_backward: id " << ids[i] << " at position " << i
                                       << " is outside the table of " << num_embeddings << " entries");
  parallel_for_column_blocks(dim, [&](int64_t c0, int64_t c1) {
    for (int64_t i = 0; i < n; ++i) {
      const float* src = dy + i * dim;
      float* dst = dtable + ids[i] * dim;
      for (int64_t c = c0; c < c1; ++c) dst[c] += src[c];
    }
  });
}

}  // namespace tformer::kernels
