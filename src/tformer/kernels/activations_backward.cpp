#include "tformer/kernels/activations_backward.h"

#include "tformer/core/thread_pool.h"
#include "tformer/kernels/multiversion.h"
#include "tformer/kernels/vector_math.h"

namespace tformer::kernels {

namespace {
constexpr float kInvSqrt2 = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;
constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kGeluCubic = 0.044715f;

// dx[i] = dy[i] · f'(s[i]) for a saved tensor s (the input, or tanh's
// output), one loop per activation in one copy per ISA (multiversion.h),
// with the branch-free exp/erf/tanh of vector_math.h so that each copy
// vectorises. Element by element, so dx may alias dy or s.
TF_MULTIVERSION(void, gelu_backward_span, (const float* s, const float* dy, float* dx, int64_t n), {
  for (int64_t i = 0; i < n; ++i) {
    const float v = s[i];
    const float cdf = 0.5f * (1.0f + erf_approx(v * kInvSqrt2));
    const float pdf = kInvSqrt2Pi * exp_approx(-0.5f * v * v);
    dx[i] = dy[i] * (cdf + v * pdf);
  }
})
TF_MULTIVERSION(void, gelu_tanh_backward_span, (const float* s, const float* dy, float* dx, int64_t n), {
  for (int64_t i = 0; i < n; ++i) {
    const float v = s[i];
    const float t = tanh_approx(kSqrt2OverPi * (v + kGeluCubic * v * v * v));
    const float du = kSqrt2OverPi * (1.0f + 3.0f * kGeluCubic * v * v);
    dx[i] = dy[i] * (0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * du);
  }
})
TF_MULTIVERSION(void, relu_backward_span, (const float* s, const float* dy, float* dx, int64_t n), {
  for (int64_t i = 0; i < n; ++i) dx[i] = s[i] > 0.0f ? dy[i] : 0.0f;
})
TF_MULTIVERSION(void, tanh_backward_span, (const float* s, const float* dy, float* dx, int64_t n), {
  for (int64_t i = 0; i < n; ++i) {
    const float t = tanh_approx(s[i]);
    dx[i] = dy[i] * (1.0f - t * t);
  }
})
TF_MULTIVERSION(void, silu_backward_span, (const float* s, const float* dy, float* dx, int64_t n), {
  for (int64_t i = 0; i < n; ++i) {
    const float v = s[i];
    const float sig = 1.0f / (1.0f + exp_approx(-v));
    dx[i] = dy[i] * (sig * (1.0f + v * (1.0f - sig)));
  }
})
TF_MULTIVERSION(void, tanh_from_output_backward_span, (const float* y, const float* dy, float* dx, int64_t n), {
  for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
})

using BackwardSpanFn = void (*)(const float*, const float*, float*, int64_t);

BackwardSpanFn span_of(Activation act, Isa isa) {
  switch (act) {
    case Activation::Gelu: return TF_SELECT(gelu_backward_span, isa);
    case Activation::GeluTanh: return TF_SELECT(gelu_tanh_backward_span, isa);
    case Activation::Relu: return TF_SELECT(relu_backward_span, isa);
    case Activation::Tanh: return TF_SELECT(tanh_backward_span, isa);
    case Activation::Silu: return TF_SELECT(silu_backward_span, isa);
  }
  return nullptr;
}

void chain(BackwardSpanFn span, const float* s, const float* dy, float* dx, int64_t n) {
  parallel_for_vectors(n, 4096, [&](int64_t b, int64_t e) { span(s + b, dy + b, dx + b, e - b); });
}
}  // namespace

void activation_backward(Activation act, const float* x, const float* dy, float* dx, int64_t n, Isa isa) {
  chain(span_of(act, isa), x, dy, dx, n);
}

void tanh_backward_from_output(const float* y, const float* dy, float* dx, int64_t n, Isa isa) {
  chain(TF_SELECT(tanh_from_output_backward_span, isa), y, dy, dx, n);
}

}  // namespace tformer::kernels
