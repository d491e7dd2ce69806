#include "tformer/kernels/activations_backward.h"

#include <cmath>

#include "tformer/core/thread_pool.h"

namespace tformer::kernels {

namespace {
// dx[i] = dy[i] · deriv(s[i]) for a saved tensor s (the input, or tanh's output).
template <class Deriv>
void chain(const float* s, const float* dy, float* dx, int64_t n, Deriv deriv) {
  parallel_for(n, 4096, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) dx[i] = dy[i] * deriv(s[i]);
  });
}

constexpr float kInvSqrt2 = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;
constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kGeluCubic = 0.044715f;
}  // namespace

void activation_backward(Activation act, const float* x, const float* dy, float* dx, int64_t n) {
  switch (act) {
    case Activation::Gelu:
      return chain(x, dy, dx, n, [](float v) {
        const float cdf = 0.5f * (1.0f + std::erf(v * kInvSqrt2));
        const float pdf = kInvSqrt2Pi * std::exp(-0.5f * v * v);
        return cdf + v * pdf;
      });
    case Activation::GeluTanh:
      return chain(x, dy, dx, n, [](float v) {
        const float t = std::tanh(kSqrt2OverPi * (v + kGeluCubic * v * v * v));
        const float du = kSqrt2OverPi * (1.0f + 3.0f * kGeluCubic * v * v);
        return 0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * du;
      });
    case Activation::Relu:
      return chain(x, dy, dx, n, [](float v) { return v > 0.0f ? 1.0f : 0.0f; });
    case Activation::Tanh:
      return chain(x, dy, dx, n, [](float v) {
        const float t = std::tanh(v);
        return 1.0f - t * t;
      });
    case Activation::Silu:
      return chain(x, dy, dx, n, [](float v) {
        const float s = 1.0f / (1.0f + std::exp(-v));
        return s * (1.0f + v * (1.0f - s));
      });
  }
}

void tanh_backward_from_output(const float* y, const float* dy, float* dx, int64_t n) {
  chain(y, dy, dx, n, [](float t) { return 1.0f - t * t; });
}

}  // namespace tformer::kernels
