// A weight source that invents weights, for training from scratch: modules
// load through it exactly as from a checkpoint. Values follow transformers'
// BERT _init_weights: Linear and Embedding weights ~ N(0, std), biases 0,
// LayerNorm weight 1 and bias 0, and an embedding's padding row 0. Each
// tensor's values depend only on the seed and its name, not on load order.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "tformer/io/weight_source.h"

namespace tformer::nn {

class RandomInit : public io::WeightSource {
 public:
  // zero_rows: tensor name → row to zero (an Embedding's padding_idx).
  RandomInit(uint64_t seed, float std, std::map<std::string, int64_t> zero_rows = {});

  bool contains(const std::string& name) const override { return true; }
  Tensor get_f32(const std::string& name, const Shape& expected) const override;
  std::string source() const override;

 private:
  uint64_t seed_;
  float std_;
  std::map<std::string, int64_t> zero_rows_;
};

}  // namespace tformer::nn
