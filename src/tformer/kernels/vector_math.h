// Branch-free fp32 exp and erf that compilers vectorise (no libm calls in the
// loop), for the element-wise kernels' hot loops.
//
//   exp_approx: Cephes' expf — range reduction x = n·ln2 + r, a degree-6
//               polynomial in r, 2^n by exponent bits; ~1 ulp on
//               [−87.3, 88.7]; 0 below (as expf underflows), +inf-free above.
//   erf_approx: a rational minimax approximation, x·P(x²)/Q(x²) on [−4, 4]
//               (the coefficients Eigen's fast float erf uses), |error| ≤ 5e-7;
//               half the instructions of Abramowitz & Stegun 7.1.26 with an
//               exp, which made GELU a tenth of a bf16 forward.
//   tanh_approx: 1 − 2/(e^{2v} + 1) with exp_approx.
#pragma once
#include <cstdint>
#include <cstring>

namespace tformer::kernels {

// Round to nearest, ties to even, for |x| < 2^22, by adding and removing
// 1.5 · 2^23: unlike __builtin_roundevenf (or std::nearbyint, a libm call),
// GCC vectorises this for every ISA.
inline float round_even(float x) {
  constexpr float kMagic = 12582912.0f;  // 1.5 · 2^23
  return (x + kMagic) - kMagic;
}

inline float exp_approx(float x) {
  // NaN fails both comparisons and is clamped too (converting NaN to an
  // integer below would be undefined); the result is NaN again at the end.
  const float clamped = x > -87.33f ? (x < 88.72f ? x : 88.72f) : -87.33f;
  const float n = round_even(clamped * 1.44269504088896341f);  // |x·log2 e| < 2^22
  float r = clamped - n * 0.693359375f;  // ln2 split in two for an exact product
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, 4);
  // Both sides computed, then selected: a multiply inside the condition
  // would keep GCC (-ftrapping-math) from if-converting, and so from
  // vectorising, every loop that calls this.
  const float result = p * scale;
  return x < -87.33f ? 0.0f : (x == x ? result : x);
}

inline float erf_approx(float x) {
  const float c = x < -4.0f ? -4.0f : (x > 4.0f ? 4.0f : x);  // |erf| rounds to 1 beyond
  const float x2 = c * c;
  float p = -2.72614225801306e-10f;
  p = p * x2 + 2.77068142495902e-08f;
  p = p * x2 - 2.10102402082508e-06f;
  p = p * x2 - 5.69250639462346e-05f;
  p = p * x2 - 7.34990630326855e-04f;
  p = p * x2 - 2.95459980854025e-03f;
  p = p * x2 - 1.60960333262415e-02f;
  float q = -1.45660718464996e-05f;
  q = q * x2 - 2.13374055278905e-04f;
  q = q * x2 - 1.68282697438203e-03f;
  q = q * x2 - 7.37332916720468e-03f;
  q = q * x2 - 1.42647390514189e-02f;
  return c * p / q;
}

// 16 floats as one GCC vector, for loops that keep 16 partial sums or
// extremes (multiversion.h): each ISA's copy lowers it to its own registers
// (one zmm, two ymm, four xmm), where a scalar reduction would not vectorise.
typedef float Float16 __attribute__((vector_size(64)));

// Helpers take vectors by reference: a Float16 passed by value would have a
// different calling convention in each ISA's copy.
inline void load16(Float16& v, const float* p) { std::memcpy(&v, p, sizeof(v)); }
inline void store16(float* p, const Float16& v) { std::memcpy(p, &v, sizeof(v)); }

// The sum of a Float16's lanes, in double, in lane order.
inline double sum_lanes(const Float16& v) {
  double s = 0.0;
  for (int j = 0; j < 16; ++j) s += v[j];
  return s;
}

// Calls f(i, i mod kLanes) for i in [0, n) in order, kLanes at a time, for
// loops that keep kLanes partial sums (lane j adding the elements ≡ j): the
// lanes' adds are independent, so they vectorise where one running sum
// would wait on the adder's latency at every element. Always inlined, so
// that it is compiled for the ISA of the multiversioned copy that calls it.
template <int kLanes, class F>
[[gnu::always_inline]] inline void for_each_in_lanes(int64_t n, F&& f) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) f(i + j, j);
  for (; i < n; ++i) f(i, static_cast<int>(i % kLanes));
}

// Exact limits ±1 and no overflow (exp_approx saturates).
inline float tanh_approx(float v) { return 1.0f - 2.0f / (exp_approx(2.0f * v) + 1.0f); }

}  // namespace tformer::kernels
