#include "tformer/kernels/activations.h"

#include "tformer/core/error.h"
#include "tformer/core/thread_pool.h"
#include "tformer/kernels/multiversion.h"
#include "tformer/kernels/vector_math.h"

namespace tformer::kernels {

Activation activation_from_name(const std::string& name, const std::string& source) {
  if (name == "gelu") return Activation::Gelu;
  if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast")
    return Activation::GeluTanh;
  if (name == "relu") return Activation::Relu;
  if (name == "tanh") return Activation::Tanh;
  if (name == "silu" || name == "swish") return Activation::Silu;
  TF_FAIL(source << ": hidden_act '" << name
                 << "' is not supported (expected gelu, gelu_new, relu, tanh or silu)");
}

namespace {
// Each activation as a loop over a span, in one copy per ISA
// (multiversion.h); the element functions are branch-free so every copy
// vectorises.
TF_MULTIVERSION(void, gelu_span, (const float* x, float* y, int64_t n), {
  for (int64_t i = 0; i < n; ++i) y[i] = 0.5f * x[i] * (1.0f + erf_approx(x[i] * 0.70710678118654752f));
})
TF_MULTIVERSION(void, gelu_tanh_span, (const float* x, float* y, int64_t n), {
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    y[i] = 0.5f * v * (1.0f + tanh_approx(0.7978845608028654f * (v + 0.044715f * v * v * v)));
  }
})
TF_MULTIVERSION(void, relu_span, (const float* x, float* y, int64_t n), {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
})
TF_MULTIVERSION(void, tanh_span, (const float* x, float* y, int64_t n), {
  for (int64_t i = 0; i < n; ++i) y[i] = tanh_approx(x[i]);
})
TF_MULTIVERSION(void, silu_span, (const float* x, float* y, int64_t n), {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] / (1.0f + exp_approx(-x[i]));
})

using SpanFn = void (*)(const float*, float*, int64_t);
SpanFn span_of(Activation act, Isa isa) {
  switch (act) {
    case Activation::Gelu: return TF_SELECT(gelu_span, isa);
    case Activation::GeluTanh: return TF_SELECT(gelu_tanh_span, isa);
    case Activation::Relu: return TF_SELECT(relu_span, isa);
    case Activation::Tanh: return TF_SELECT(tanh_span, isa);
    case Activation::Silu: return TF_SELECT(silu_span, isa);
  }
  return nullptr;
}
}  // namespace

void activate(Activation act, const float* x, float* y, int64_t n, Isa isa) {
  const SpanFn span = span_of(act, isa);
  parallel_for_vectors(n, 4096, [&](int64_t b, int64_t e) { span(x + b, y + b, e - b); });
}

void activate(Activation act, float* x, int64_t n, Isa isa) { activate(act, x, x, n, isa); }

void activate_serial(Activation act, float* x, int64_t n, Isa isa) { span_of(act, isa)(x, x, n); }
}  // namespace tformer::kernels
