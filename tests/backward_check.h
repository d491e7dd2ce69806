// Helpers for the backward-kernel tests: random inputs, central finite
// differences of a double-precision reference forward, gradient comparison,
// and running a kernel at 1 and 2 threads for bit-exact comparison.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <iomanip>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "tformer/core/thread_pool.h"

namespace tformer::testing {

inline std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

inline std::vector<double> to_double(const std::vector<float>& v) { return {v.begin(), v.end()}; }

// Σ w·y: the scalar loss whose gradient with respect to y is w.
inline double weighted_sum(const std::vector<double>& w, const std::vector<double>& y) {
  double s = 0;
  for (size_t i = 0; i < y.size(); ++i) s += w[i] * y[i];
  return s;
}

// ∂loss/∂x[i] by central differences, x[i] ± h, all in double.
inline std::vector<double> numeric_gradient(const std::function<double(const std::vector<double>&)>& loss,
                                            std::vector<double> x, double h = 1e-6) {
  std::vector<double> g(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double saved = x[i];
    x[i] = saved + h;
    const double up = loss(x);
    x[i] = saved - h;
    const double down = loss(x);
    x[i] = saved;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

// Checks max_i |analytic − expected| ≤ tol · max_i |expected| (errors measured
// against the gradient's scale, since single entries may be near zero) and
// records the ratio reached as a test property "<what>_err" (see the XML output).
inline void expect_gradient(const std::vector<float>& analytic, const std::vector<double>& expected,
                            double tol, const std::string& what) {
  ASSERT_EQ(analytic.size(), expected.size()) << what;
  double scale = 0, worst = 0;
  size_t worst_i = 0;
  for (size_t i = 0; i < expected.size(); ++i) scale = std::max(scale, std::fabs(expected[i]));
  for (size_t i = 0; i < expected.size(); ++i) {
    const double err = std::fabs(analytic[i] - expected[i]);
    if (!(err <= worst)) {  // NaN counts as worst
      worst = std::isnan(err) ? INFINITY : err;
      worst_i = i;
    }
  }
  ASSERT_GT(scale, 0.0) << what << ": the expected gradient is all zero; the check would be vacuous";
  std::ostringstream ratio;
  ratio << std::scientific << std::setprecision(2) << worst / scale;
  ::testing::Test::RecordProperty(what + "_err", ratio.str());
  EXPECT_LE(worst / scale, tol) << what << ": element " << worst_i << " is " << analytic[worst_i]
                                << ", expected " << expected[worst_i] << " (gradient scale " << scale
                                << ")";
}

// a − b elementwise, for gradients accumulated onto a non-zero start.
inline std::vector<float> minus(const std::vector<float>& a, const std::vector<float>& b) {
  std::vector<float> d(a.size());
  for (size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
  return d;
}

// Runs `run` (returning its outputs) with 1 and then 2 pool threads and
// expects identical results; restores the default pool size.
template <class Run>
void expect_thread_invariant(Run run, const std::string& what) {
  ThreadPool::set_num_threads(1);
  const auto serial = run();
  ThreadPool::set_num_threads(2);
  const auto threaded = run();
  ThreadPool::set_num_threads(ThreadPool::default_num_threads());
  EXPECT_TRUE(serial == threaded) << what << " differs between 1 and 2 threads";
}

}  // namespace tformer::testing
