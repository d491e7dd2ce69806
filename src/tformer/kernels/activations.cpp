#include "tformer/kernels/activations.h"

#include <cmath>

#include "tformer/core/error.h"
#include "tformer/core/thread_pool.h"

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
template <class F>
void apply(float* x, int64_t n, F f) {
  parallel_for(n, 4096, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) x[i] = f(x[i]);
  });
}
}  // namespace

void activate(Activation act, float* x, int64_t n) {
  switch (act) {
    case Activation::Gelu:
      return apply(x, n, [](float v) { return 0.5f * v * (1.0f + std::erf(v * 0.70710678118654752f)); });
    case Activation::GeluTanh:
      return apply(x, n, [](float v) {
        return 0.5f * v * (1.0f + std::tanh(0.7978845608028654f * (v + 0.044715f * v * v * v)));
      });
    case Activation::Relu:
      return apply(x, n, [](float v) { return v > 0.0f ? v : 0.0f; });
    case Activation::Tanh:
      return apply(x, n, [](float v) { return std::tanh(v); });
    case Activation::Silu:
      return apply(x, n, [](float v) { return v / (1.0f + std::exp(-v)); });
  }
}

}  // namespace tformer::kernels
