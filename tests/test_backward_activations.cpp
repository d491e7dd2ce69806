// activation_backward against finite differences of each activation in double.
#include <gtest/gtest.h>

#include "backward_check.h"
#include "test_util.h"
#include "tformer/kernels/activations_backward.h"

using namespace tformer::kernels;
using namespace tformer::testing;

namespace {
double activation_ref(Activation act, double x) {
  switch (act) {
    case Activation::Gelu: return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
    case Activation::GeluTanh: return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
    case Activation::Relu: return x > 0 ? x : 0;
    case Activation::Tanh: return std::tanh(x);
    case Activation::Silu: return x / (1 + std::exp(-x));
  }
  return NAN;
}

// dy·f'(x) with f' by central differences of the double activation.
std::vector<double> numeric_dx(Activation act, const std::vector<float>& x, const std::vector<float>& dy) {
  std::vector<double> g(x.size());
  const double h = 1e-6;
  for (size_t i = 0; i < x.size(); ++i)
    g[i] = dy[i] * (activation_ref(act, x[i] + h) - activation_ref(act, x[i] - h)) / (2 * h);
  return g;
}

const std::pair<Activation, const char*> kActivations[] = {
    {Activation::Gelu, "gelu"}, {Activation::GeluTanh, "gelu_tanh"}, {Activation::Relu, "relu"},
    {Activation::Tanh, "tanh"}, {Activation::Silu, "silu"}};
}  // namespace

TEST(BackwardActivations, MatchFiniteDifferences) {
  // Wide enough to reach the tails (|x| up to 6), and no x within h of relu's kink.
  auto x = random_floats(101, 1, -6.0f, 6.0f);
  const auto dy = random_floats(x.size(), 2);
  for (tformer::Isa isa : supported_isas())
    for (auto [act, name] : kActivations) {
      std::vector<float> dx(x.size());
      activation_backward(act, x.data(), dy.data(), dx.data(), static_cast<int64_t>(x.size()), isa);
      expect_gradient(dx, numeric_dx(act, x, dy), 2e-6, std::string(name) + " " + std::string(tformer::isa_name(isa)));
    }
}

TEST(BackwardActivations, InPlaceEqualsOutOfPlace) {
  // The training backward passes dx == dy.
  const auto x = random_floats(1000, 7, -5.0f, 5.0f), dy = random_floats(1000, 8);
  for (auto [act, name] : kActivations) {
    std::vector<float> out(x.size()), in_place = dy;
    activation_backward(act, x.data(), dy.data(), out.data(), static_cast<int64_t>(x.size()));
    activation_backward(act, x.data(), in_place.data(), in_place.data(), static_cast<int64_t>(x.size()));
    EXPECT_EQ(out, in_place) << name;
  }
}

TEST(BackwardActivations, ReluGradientAtZeroIsZeroAsInTorch) {
  const float x = 0.0f, dy = 1.0f;
  float dx = NAN;
  activation_backward(Activation::Relu, &x, &dy, &dx, 1);
  EXPECT_EQ(dx, 0.0f);
}

TEST(BackwardActivations, TanhFromOutputEqualsTanhFromInput) {
  const auto x = random_floats(33, 3, -3.0f, 3.0f), dy = random_floats(33, 4);
  std::vector<float> y(x.size()), from_input(x.size()), from_output(x.size());
  y = x;
  activate(Activation::Tanh, y.data(), 33);  // the pooler's forward, whose output the backward keeps
  activation_backward(Activation::Tanh, x.data(), dy.data(), from_input.data(), 33);
  tanh_backward_from_output(y.data(), dy.data(), from_output.data(), 33);
  EXPECT_EQ(from_input, from_output);  // both compute 1 − t² from the same float tanh t
}

TEST(BackwardActivations, BitIdenticalForOneAndTwoThreads) {
  const auto x = random_floats(100003, 5, -4.0f, 4.0f), dy = random_floats(100003, 6);
  for (auto [act, name] : kActivations)
    expect_thread_invariant(
        [&, act = act] {
          std::vector<float> dx(x.size());
          activation_backward(act, x.data(), dy.data(), dx.data(), static_cast<int64_t>(x.size()));
          return dx;
        },
        name);
}
