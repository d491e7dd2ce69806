// linear_backward against finite differences of a double Linear, strided rows,
// accumulation semantics and thread-count invariance.
#include <gtest/gtest.h>

#include "backward_check.h"
#include "tformer/kernels/linear_backward.h"

using namespace tformer::kernels;
using namespace tformer::testing;

namespace {
// y[M,N] = x[M,K] · Wᵀ + b in double; x rows x_stride apart.
std::vector<double> linear_ref(const std::vector<double>& x, int64_t x_stride, int64_t m, int64_t k,
                               const std::vector<double>& w, const std::vector<double>& b, int64_t n) {
  std::vector<double> y(m * n);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = b[j];
      for (int64_t p = 0; p < k; ++p) s += x[i * x_stride + p] * w[j * k + p];
      y[i * n + j] = s;
    }
  return y;
}

struct LinearCase {
  int64_t m, k, n, x_stride;
  std::vector<float> x, w, b, dy;
  LinearCase(int64_t m_, int64_t k_, int64_t n_, int64_t stride, uint32_t seed)
      : m(m_), k(k_), n(n_), x_stride(stride), x(random_floats((m - 1) * stride + k, seed)),
        w(random_floats(n * k, seed + 1)), b(random_floats(n, seed + 2)),
        dy(random_floats(m * n, seed + 3)) {}

  // Numeric gradients of Σ dy·y with respect to x, W and b.
  std::vector<double> numeric_dx() const {
    return numeric_gradient([&](const std::vector<double>& xd) { return loss(xd, to_double(w), to_double(b)); }, to_double(x));
  }
  std::vector<double> numeric_dw() const {
    return numeric_gradient([&](const std::vector<double>& wd) { return loss(to_double(x), wd, to_double(b)); }, to_double(w));
  }
  std::vector<double> numeric_db() const {
    return numeric_gradient([&](const std::vector<double>& bd) { return loss(to_double(x), to_double(w), bd); }, to_double(b));
  }
  double loss(const std::vector<double>& xd, const std::vector<double>& wd, const std::vector<double>& bd) const {
    return weighted_sum(to_double(dy), linear_ref(xd, x_stride, m, k, wd, bd, n));
  }
};
}  // namespace

TEST(BackwardLinear, MatchesFiniteDifferencesAndAccumulatesParameterGradients) {
  const LinearCase c(5, 7, 3, 7, 1);
  std::vector<float> dx(c.m * c.k, NAN);  // written: the NaNs must all be replaced
  const auto dw0 = random_floats(c.n * c.k, 10), db0 = random_floats(c.n, 11);
  auto dw = dw0, db = db0;
  linear_backward(c.x.data(), c.m, c.k, c.w.data(), c.n, c.dy.data(), dx.data(), dw.data(), db.data());
  expect_gradient(dx, c.numeric_dx(), 2e-6, "dx");
  expect_gradient(minus(dw, dw0), c.numeric_dw(), 2e-6, "dW");
  expect_gradient(minus(db, db0), c.numeric_db(), 2e-6, "db");
}

TEST(BackwardLinear, StridedRowsAccumulateIntoTheirRowsOnly) {
  // The pooler's shape: 3 [CLS] rows of 9 features, 4 tokens apart.
  const int64_t seq = 4;
  const LinearCase c(3, 9, 5, seq * 9, 2);
  const auto dx0 = random_floats(c.x.size(), 20);
  auto dx = dx0;
  std::vector<float> dw(c.n * c.k, 0.0f);
  LinearBackwardArgs a;
  a.m = c.m;
  a.k = c.k;
  a.n = c.n;
  a.x = c.x.data();
  a.x_stride = c.x_stride;
  a.weight = c.w.data();
  a.dy = c.dy.data();
  a.dx = dx.data();
  a.dx_stride = c.x_stride;
  a.accumulate_dx = true;
  a.dweight = dw.data();
  linear_backward(a);
  // Rows between the [CLS] rows have zero numeric gradient and must stay as they were.
  expect_gradient(minus(dx, dx0), c.numeric_dx(), 2e-6, "strided dx");
  expect_gradient(dw, c.numeric_dw(), 2e-6, "strided dW");
}

TEST(BackwardLinear, NullGradientsAreSkipped) {
  const LinearCase c(4, 3, 2, 3, 3);
  std::vector<float> db(c.n, 0.0f);
  linear_backward(c.x.data(), c.m, c.k, c.w.data(), c.n, c.dy.data(), nullptr, nullptr, db.data());
  expect_gradient(db, c.numeric_db(), 2e-6, "db alone");
}

TEST(BackwardLinear, BitIdenticalForOneAndTwoThreads) {
  // Large enough that gemm splits across threads and the bias sums span several column blocks.
  const LinearCase c(96, 130, 257, 130, 4);
  expect_thread_invariant(
      [&] {
        std::vector<float> dx(c.m * c.k), dw(c.n * c.k, 0.5f), db(c.n, 0.25f);
        linear_backward(c.x.data(), c.m, c.k, c.w.data(), c.n, c.dy.data(), dx.data(), dw.data(), db.data());
        return std::vector<std::vector<float>>{dx, dw, db};
      },
      "linear_backward");
}
