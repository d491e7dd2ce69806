// layer_norm_train and layer_norm_backward against a double LayerNorm and its
// finite differences, with and without the residual; in-place dx; threads.
#include <gtest/gtest.h>

#include "backward_check.h"
#include "test_util.h"
#include "tformer/kernels/layer_norm.h"
#include "tformer/kernels/layer_norm_backward.h"

using namespace tformer::kernels;
using namespace tformer::testing;

namespace {
constexpr float kEps = 1e-5f;

std::vector<double> layer_norm_ref(const std::vector<double>& x, const std::vector<double>* residual,
                                   int64_t rows, int64_t dim, const std::vector<double>& gamma,
                                   const std::vector<double>& beta) {
  std::vector<double> y(rows * dim);
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<double> a(dim);
    double mean = 0, var = 0;
    for (int64_t i = 0; i < dim; ++i) mean += a[i] = x[r * dim + i] + (residual ? (*residual)[r * dim + i] : 0.0);
    mean /= dim;
    for (int64_t i = 0; i < dim; ++i) var += (a[i] - mean) * (a[i] - mean);
    const double rstd = 1 / std::sqrt(var / dim + kEps);
    for (int64_t i = 0; i < dim; ++i) y[r * dim + i] = (a[i] - mean) * rstd * gamma[i] + beta[i];
  }
  return y;
}

struct LayerNormCase {
  int64_t rows, dim;
  bool with_residual;
  std::vector<float> x, residual, gamma, beta, dy, y, mean, rstd;
  LayerNormCase(int64_t rows_, int64_t dim_, bool res, uint32_t seed)
      : rows(rows_), dim(dim_), with_residual(res), x(random_floats(rows * dim, seed, -2, 2)),
        residual(random_floats(rows * dim, seed + 1)), gamma(random_floats(dim, seed + 2, 0.5, 1.5)),
        beta(random_floats(dim, seed + 3)), dy(random_floats(rows * dim, seed + 4)), y(rows * dim),
        mean(rows), rstd(rows) {
    layer_norm_train(x.data(), res_ptr(), rows, dim, gamma.data(), beta.data(), kEps, y.data(), mean.data(), rstd.data());
  }
  const float* res_ptr() const { return with_residual ? residual.data() : nullptr; }

  void backward(float* dx, float* dgamma, float* dbeta, tformer::Isa isa = tformer::active_isa()) const {
    layer_norm_backward(dy.data(), x.data(), res_ptr(), mean.data(), rstd.data(), rows, dim, gamma.data(), dx, dgamma,
                        dbeta, isa);
  }
  // Σ dy·LN(...) with one argument replaced by `v`: 0 = x, 1 = residual, 2 = gamma, 3 = beta.
  std::vector<double> numeric(int which) const {
    const std::vector<float>* args[] = {&x, &residual, &gamma, &beta};
    return numeric_gradient(
        [&](const std::vector<double>& v) {
          auto arg = [&](int i) { return i == which ? v : to_double(*args[i]); };
          const std::vector<double> r = arg(1);
          return weighted_sum(to_double(dy), layer_norm_ref(arg(0), with_residual ? &r : nullptr, rows, dim, arg(2), arg(3)));
        },
        to_double(*args[which]));
  }
};
}  // namespace

TEST(BackwardLayerNorm, TrainingForwardMatchesInferenceAndStoresRowStatistics) {
  const LayerNormCase c(4, 9, true, 1);
  std::vector<float> y(c.rows * c.dim);
  layer_norm(c.x.data(), c.residual.data(), c.rows, c.dim, c.gamma.data(), c.beta.data(), kEps, y.data());
  EXPECT_EQ(c.y, y);
  for (int64_t r = 0; r < c.rows; ++r) {
    double mean = 0, var = 0;
    for (int64_t i = 0; i < c.dim; ++i) mean += c.x[r * c.dim + i] + c.residual[r * c.dim + i];
    mean /= c.dim;
    for (int64_t i = 0; i < c.dim; ++i) var += std::pow(c.x[r * c.dim + i] + c.residual[r * c.dim + i] - mean, 2);
    EXPECT_NEAR(c.mean[r], mean, 1e-6);
    EXPECT_NEAR(c.rstd[r], 1 / std::sqrt(var / c.dim + kEps), 1e-5);
  }
}

TEST(BackwardLayerNorm, MatchesFiniteDifferencesWithAndWithoutResidual) {
  // dim 70: a full column block (64) and a partial one, 8 full lanes of a
  // row's sums and a tail; dim 7: a tail only.
  for (int64_t dim : {7, 70})
    for (bool res : {true, false}) {
      const LayerNormCase c(5, dim, res, 2);
      const std::vector<double> numeric[] = {c.numeric(0), c.numeric(1), c.numeric(2), c.numeric(3)};
      for (tformer::Isa isa : supported_isas()) {
        const std::string tag = std::string(res ? " (residual, " : " (no residual, ") + "dim " + std::to_string(dim) +
                                ", " + std::string(tformer::isa_name(isa)) + ")";
        std::vector<float> dx(c.rows * c.dim, NAN);
        const auto dgamma0 = random_floats(c.dim, 30), dbeta0 = random_floats(c.dim, 31);
        auto dgamma = dgamma0, dbeta = dbeta0;
        c.backward(dx.data(), dgamma.data(), dbeta.data(), isa);
        expect_gradient(dx, numeric[0], 2e-6, "dx" + tag);
        if (res) expect_gradient(dx, numeric[1], 2e-6, "dresidual" + tag);
        expect_gradient(minus(dgamma, dgamma0), numeric[2], 2e-6, "dgamma" + tag);
        expect_gradient(minus(dbeta, dbeta0), numeric[3], 2e-6, "dbeta" + tag);
      }
    }
}

TEST(BackwardLayerNorm, DxMayOverwriteDy) {
  LayerNormCase c(3, 11, true, 3);
  std::vector<float> dx(c.rows * c.dim), dgamma(c.dim, 0.0f), dbeta(c.dim, 0.0f);
  c.backward(dx.data(), dgamma.data(), dbeta.data());
  std::vector<float> dgamma2(c.dim, 0.0f), dbeta2(c.dim, 0.0f);
  layer_norm_backward(c.dy.data(), c.x.data(), c.residual.data(), c.mean.data(), c.rstd.data(), c.rows,
                      c.dim, c.gamma.data(), c.dy.data(), dgamma2.data(), dbeta2.data());
  EXPECT_EQ(c.dy, dx);
  EXPECT_EQ(dgamma, dgamma2);
  EXPECT_EQ(dbeta, dbeta2);
}

TEST(BackwardLayerNorm, BitIdenticalForOneAndTwoThreads) {
  expect_thread_invariant(
      [] {
        const LayerNormCase c(67, 200, true, 4);
        std::vector<float> dx(c.rows * c.dim), dgamma(c.dim, 0.5f), dbeta(c.dim, 0.5f);
        c.backward(dx.data(), dgamma.data(), dbeta.data());
        return std::vector<std::vector<float>>{c.y, c.mean, c.rstd, dx, dgamma, dbeta};
      },
      "layer_norm train/backward");
}
