#include "tformer/kernels/dropout.h"

#include "tformer/core/error.h"
#include "tformer/core/thread_pool.h"

namespace tformer::kernels {

namespace {
// SplitMix64's output function (Steele, Lea & Flood 2014): a bijective mix
// whose output bits are close to independent even for consecutive inputs.
uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;  // SplitMix64's counter increment

// Kept elements scale by 1 / (1 − p); with p = 1 nothing is kept and the scale is unused.
float keep_scale(float p) {
  TF_CHECK(p >= 0.0f && p <= 1.0f, "dropout: probability " << p << " is outside [0, 1]");
  return p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
}

// out[i] = in[i] · scale where keep(i), else 0.
template <class Keep>
void masked_scale(const float* in, float* out, int64_t n, float scale, Keep keep) {
  parallel_for(n, 4096, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) out[i] = keep(i) ? in[i] * scale : 0.0f;
  });
}
}  // namespace

void dropout(const float* x, float* y, uint8_t* mask, int64_t n, float p, uint64_t seed,
             uint64_t offset) {
  const float scale = keep_scale(p);
  // Keep iff the hash's top 32 bits ≥ p·2³², so p = 0 keeps all and p = 1 none.
  const uint64_t threshold = static_cast<uint64_t>(static_cast<double>(p) * 4294967296.0);
  const uint64_t key = mix64(seed);
  masked_scale(x, y, n, scale, [&](int64_t i) {
    const uint64_t bits = mix64(key + (offset + static_cast<uint64_t>(i)) * kGolden);
    const bool keep = (bits >> 32) >= threshold;
    if (mask) mask[i] = keep;
    return keep;
  });
}

void dropout_backward(const float* dy, const uint8_t* mask, float* dx, int64_t n, float p) {
  masked_scale(dy, dx, n, keep_scale(p), [mask](int64_t i) { return mask[i] != 0; });
}

}  // namespace tformer::kernels
