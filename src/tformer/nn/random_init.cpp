#include "tformer/nn/random_init.h"

#include <cstring>
#include <random>

namespace tformer::nn {

RandomInit::RandomInit(uint64_t seed, float std, std::map<std::string, int64_t> zero_rows)
    : seed_(seed), std_(std), zero_rows_(std::move(zero_rows)) {}

std::string RandomInit::source() const {
  return "random initialisation (seed " + std::to_string(seed_) + ")";
}

namespace {
// FNV-1a of the name, mixed with the seed: each tensor its own stream.
uint64_t stream_seed(uint64_t seed, const std::string& name) {
  uint64_t h = 1469598103934665603ull ^ (seed * 0x9e3779b97f4a7c15ull);
  for (unsigned char c : name) h = (h ^ c) * 1099511628211ull;
  return h;
}
}  // namespace

Tensor RandomInit::get_f32(const std::string& name, const Shape& expected) const {
  const bool layer_norm = name.find("LayerNorm.") != std::string::npos;
  if (name.ends_with(".bias")) return Tensor::zeros(expected);
  if (layer_norm) return Tensor::full(expected, 1.0f);
  Tensor t = Tensor::empty(expected);
  std::mt19937_64 rng(stream_seed(seed_, name));
  std::normal_distribution<float> normal(0.0f, std_);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = normal(rng);
  if (auto it = zero_rows_.find(name); it != zero_rows_.end() && expected.ndim() == 2 &&
                                        it->second >= 0 && it->second < expected[0])
    std::memset(p + it->second * expected[1], 0, expected[1] * sizeof(float));
  return t;
}

}  // namespace tformer::nn
