// Kernels against straightforward reference loops, on odd sizes.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "backward_check.h"
#include "test_util.h"
#include "tformer/core/error.h"
#include "tformer/kernels/activations.h"
#include "tformer/kernels/attention.h"
#include "tformer/kernels/layer_norm.h"
#include "tformer/kernels/softmax.h"

using namespace tformer;
using namespace tformer::kernels;
using tformer::testing::expect_close;
using tformer::testing::random_floats;
using tformer::testing::supported_isas;


TEST(Kernels, SoftmaxIsStableAndNormalisedWithEveryIsa) {
  for (Isa isa : supported_isas()) {
    std::vector<float> x = {1000.0f, 1001.0f, -1e30f, 1000.0f};
    softmax(x.data(), 1, 4, isa);
    EXPECT_NEAR(x[0] + x[1] + x[2] + x[3], 1.0, 1e-6) << isa_name(isa);
    EXPECT_EQ(x[2], 0.0f);
    EXPECT_NEAR(x[1], std::exp(1.0) / (2 + std::exp(1.0)), 1e-6);
    // Rows long enough for the vector body and a tail, against double.
    const int64_t rows = 3, dim = 53;
    auto y = random_floats(rows * dim, 9);
    for (float& v : y) v *= 20.0f;
    auto want = y;
    for (int64_t r = 0; r < rows; ++r) {
      double mx = -1e300, sum = 0;
      for (int64_t j = 0; j < dim; ++j) mx = std::max(mx, double(want[r * dim + j]));
      for (int64_t j = 0; j < dim; ++j) sum += std::exp(want[r * dim + j] - mx);
      for (int64_t j = 0; j < dim; ++j) want[r * dim + j] = static_cast<float>(std::exp(want[r * dim + j] - mx) / sum);
    }
    softmax(y.data(), rows, dim, isa);
    expect_close(y, want, 1e-5, 1e-7, std::string("softmax ") + std::string(isa_name(isa)));
  }
}

TEST(Kernels, LayerNormWithResidual) {
  const int64_t rows = 3, dim = 7;
  auto x = random_floats(rows * dim, 3), r = random_floats(rows * dim, 4);
  auto gamma = random_floats(dim, 5), beta = random_floats(dim, 6);
  std::vector<float> y(rows * dim), expected(rows * dim);
  for (int64_t i = 0; i < rows; ++i) {
    double mean = 0, var = 0;
    for (int64_t j = 0; j < dim; ++j) mean += x[i * dim + j] + r[i * dim + j];
    mean /= dim;
    for (int64_t j = 0; j < dim; ++j) var += std::pow(x[i * dim + j] + r[i * dim + j] - mean, 2);
    var /= dim;
    for (int64_t j = 0; j < dim; ++j)
      expected[i * dim + j] = static_cast<float>((x[i * dim + j] + r[i * dim + j] - mean) / std::sqrt(var + 1e-5) * gamma[j] + beta[j]);
  }
  layer_norm(x.data(), r.data(), rows, dim, gamma.data(), beta.data(), 1e-5f, y.data());
  expect_close(y, expected, 1e-5, 1e-6, "layer_norm");
  layer_norm(x.data(), r.data(), rows, dim, gamma.data(), beta.data(), 1e-5f, x.data());  // in place
  expect_close(x, expected, 1e-5, 1e-6, "layer_norm in place");
}

TEST(Kernels, ActivationsMatchTheirDefinitionsWithEveryIsa) {
  std::vector<float> xs = {-6.0f, -1.5f, -0.1f, 0.0f, 0.3f, 2.0f, 7.0f};
  for (int i = 0; i < 60; ++i) xs.push_back(-9.0f + 0.3f * static_cast<float>(i));  // vector body and tail
  for (Isa isa : supported_isas()) {
    auto run = [&](Activation a) {
      auto v = xs;
      activate(a, v.data(), static_cast<int64_t>(v.size()), isa);
      // Into another buffer: the same bits, the input untouched.
      std::vector<float> y(xs.size());
      activate(a, xs.data(), y.data(), static_cast<int64_t>(xs.size()), isa);
      EXPECT_EQ(y, v) << isa_name(isa) << " out of place";
      return v;
    };
    auto gelu = run(Activation::Gelu), tanh_gelu = run(Activation::GeluTanh), relu = run(Activation::Relu),
         tanh = run(Activation::Tanh), silu = run(Activation::Silu);
    for (size_t i = 0; i < xs.size(); ++i) {
      double x = xs[i];
      EXPECT_NEAR(gelu[i], 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))), 1e-6) << isa_name(isa) << " x=" << x;
      EXPECT_NEAR(tanh_gelu[i], 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x))), 1e-6)
          << isa_name(isa);
      EXPECT_EQ(relu[i], std::max(0.0f, xs[i]));
      EXPECT_NEAR(tanh[i], std::tanh(x), 1e-6) << isa_name(isa);
      EXPECT_NEAR(silu[i], x / (1 + std::exp(-x)), 2e-6 * std::max(1.0, std::fabs(x))) << isa_name(isa);
    }
  }
  EXPECT_THROW(activation_from_name("swiglu", "config.json"), Error);
}

TEST(Kernels, AttentionMatchesNaiveWithPaddingAndCausalMasks) {
  const int64_t B = 2, H = 3, S = 5, D = 4;
  auto q = random_floats(B * S * H * D, 11), k = random_floats(B * S * H * D, 12), v = random_floats(B * S * H * D, 13);
  std::vector<float> key_mask = {1, 1, 1, 1, 1, 1, 1, 1, 0, 0};  // second item: last 2 keys are padding
  for (bool causal : {false, true}) {
    std::vector<float> out(B * S * H * D), expected(B * S * H * D);
    HeadsView qv{q.data(), S * H * D, D, H * D}, kv{k.data(), S * H * D, D, H * D},
        vv{v.data(), S * H * D, D, H * D}, ov{out.data(), S * H * D, D, H * D};
    AttentionMask mask;
    mask.data = key_mask.data();
    mask.batch_stride = S;
    mask.causal = causal;
    attention({B, H, S, S, D}, qv, kv, vv, ov, 0.5f, mask);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t i = 0; i < S; ++i) {
          std::vector<double> p(S);
          double mx = -1e300, sum = 0;
          for (int64_t j = 0; j < S; ++j) {
            double s = 0;
            for (int64_t d = 0; d < D; ++d) s += q[((b * S + i) * H + h) * D + d] * k[((b * S + j) * H + h) * D + d];
            bool keep = key_mask[b * S + j] != 0 && (!causal || j <= i);
            p[j] = keep ? 0.5 * s : -1e300;
            mx = std::max(mx, p[j]);
          }
          for (int64_t j = 0; j < S; ++j) sum += p[j] = p[j] == -1e300 ? 0 : std::exp(p[j] - mx);
          for (int64_t d = 0; d < D; ++d) {
            double o = 0;
            for (int64_t j = 0; j < S; ++j) o += p[j] / sum * v[((b * S + j) * H + h) * D + d];
            expected[((b * S + i) * H + h) * D + d] = static_cast<float>(o);
          }
        }
    expect_close(out, expected, 1e-5, 1e-6, causal ? "causal" : "padding");
  }
}

