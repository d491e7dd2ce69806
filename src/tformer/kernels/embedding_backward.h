// Backward of an embedding lookup out[i] = table[ids[i]] (i < n, rows of dim):
//   dtable[ids[i]] += dy[i]      scatter-add into table [num_embeddings, dim]
// Repeated ids accumulate, rows in ascending i. Work is split over column
// blocks (every thread walks all n rows for its own columns), so there are no
// races and the sums are bit-identical for any thread count. An id outside
// [0, num_embeddings) is an Error, raised before anything is written.
// Positions and token types use the same call with ids = position / type index.
#pragma once
#include <cstdint>

namespace tformer::kernels {

void embedding_backward(const int32_t* ids, int64_t n, const float* dy, int64_t dim,
                        float* dtable, int64_t num_embeddings);

}  // namespace tformer::kernels
