#include "tformer/nn/kv_cache.h"

#include "tformer/core/checked_size.h"

namespace tformer::nn {

void KVCache::reserve(int64_t layers, int64_t batch, int64_t capacity, int64_t kv_dim) {
  const int64_t dims[] = {layers, batch, capacity, kv_dim};
  const int64_t floats = checked_numel(dims, "KV cache");
  ensure_capacity(keys_, floats);
  ensure_capacity(values_, floats);
  layers_ = layers;
  batch_ = batch;
  capacity_ = capacity;
  kv_dim_ = kv_dim;
}

}  // namespace tformer::nn
