#include "tformer/kernels/dropout.h"

#include "tformer/core/error.h"
#include "tformer/core/thread_pool.h"
#include "tformer/kernels/multiversion.h"

namespace tformer::kernels {

namespace {
// SplitMix64's output function (Steele, Lea & Flood 2014): a bijective mix
// whose output bits are close to independent even for consecutive inputs.
inline uint64_t mix64(uint64_t z) {
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

// y[i] = x[i] · scale where element offset + i is kept, else 0, for i in
// [begin, end); mask (if any) records which were kept. One copy per ISA
// (multiversion.h): the 64-bit hash vectorises with AVX-512DQ's vpmullq.
TF_MULTIVERSION(void, dropout_span,
                (const float* x, float* y, uint8_t* mask, int64_t begin, int64_t end, float scale, uint64_t key,
                 uint64_t offset, uint64_t threshold),
                {
                  auto keep = [&](int64_t i) {
                    // Keep iff the hash's top 32 bits ≥ p·2³², so p = 0 keeps all and p = 1 none.
                    return (mix64(key + (offset + static_cast<uint64_t>(i)) * kGolden) >> 32) >= threshold;
                  };
                  if (mask) {
                    for (int64_t i = begin; i < end; ++i) {
                      const bool k = keep(i);
                      mask[i] = k;
                      y[i] = k ? x[i] * scale : 0.0f;
                    }
                  } else {
                    for (int64_t i = begin; i < end; ++i) y[i] = keep(i) ? x[i] * scale : 0.0f;
                  }
                })

// dx[i] = dy[i] · scale where mask[i] kept it, else 0, for i in [begin, end).
TF_MULTIVERSION(void, dropout_backward_span,
                (const float* dy, const uint8_t* mask, float* dx, int64_t begin, int64_t end, float scale), {
                  for (int64_t i = begin; i < end; ++i) dx[i] = mask[i] != 0 ? dy[i] * scale : 0.0f;
                })
}  // namespace

void dropout(const float* x, float* y, uint8_t* mask, int64_t n, float p, uint64_t seed,
             uint64_t offset, Isa isa) {
  const float scale = keep_scale(p);
  const uint64_t threshold = static_cast<uint64_t>(static_cast<double>(p) * 4294967296.0);
  const uint64_t key = mix64(seed);
  const auto span = TF_SELECT(dropout_span, isa);
  parallel_for(n, 4096, [&](int64_t b, int64_t e) { span(x, y, mask, b, e, scale, key, offset, threshold); });
}

void dropout_backward(const float* dy, const uint8_t* mask, float* dx, int64_t n, float p, Isa isa) {
  const float scale = keep_scale(p);
  const auto span = TF_SELECT(dropout_backward_span, isa);
  parallel_for(n, 4096, [&](int64_t b, int64_t e) { span(dy, mask, dx, b, e, scale); });
}

}  // namespace tformer::kernels
