// dropout: keep rate, exact identity at p = 0, determinism in (seed, offset),
// thread-count invariance, and the backward's masking and scaling.
#include <gtest/gtest.h>

#include <numeric>

#include "backward_check.h"
#include "test_util.h"
#include "tformer/core/error.h"
#include "tformer/kernels/dropout.h"

using namespace tformer::kernels;
using namespace tformer::testing;

namespace {
struct Dropped {
  std::vector<float> y;
  std::vector<uint8_t> mask;
  bool operator==(const Dropped&) const = default;
};

Dropped run_dropout(const std::vector<float>& x, float p, uint64_t seed, uint64_t offset = 0) {
  Dropped d{std::vector<float>(x.size()), std::vector<uint8_t>(x.size(), 7)};
  dropout(x.data(), d.y.data(), d.mask.data(), static_cast<int64_t>(x.size()), p, seed, offset);
  return d;
}

double kept_fraction(const std::vector<uint8_t>& mask) {
  return std::accumulate(mask.begin(), mask.end(), 0.0) / static_cast<double>(mask.size());
}
}  // namespace

TEST(BackwardDropout, KeepsAboutOneMinusPAndScalesKeptElements) {
  const auto x = random_floats(100000, 1);
  for (float p : {0.1f, 0.5f, 0.9f}) {
    const Dropped d = run_dropout(x, p, 42);
    // 5 standard deviations of a binomial proportion at n = 1e5 is ≤ 0.008.
    EXPECT_NEAR(kept_fraction(d.mask), 1.0 - p, 0.008) << "p = " << p;
    const float scale = 1.0f / (1.0f - p);
    for (size_t i = 0; i < x.size(); ++i) {
      ASSERT_LE(d.mask[i], 1);
      ASSERT_EQ(d.y[i], d.mask[i] ? x[i] * scale : 0.0f) << "element " << i;
    }
  }
}

TEST(BackwardDropout, ZeroProbabilityIsExactIdentityAndOneDropsAll) {
  const auto x = random_floats(1001, 2, -1e30f, 1e30f);
  const Dropped kept = run_dropout(x, 0.0f, 3);
  EXPECT_EQ(kept.y, x);
  EXPECT_EQ(kept.mask, std::vector<uint8_t>(x.size(), 1));
  const Dropped dropped = run_dropout(x, 1.0f, 3);
  EXPECT_EQ(dropped.y, std::vector<float>(x.size(), 0.0f));
  EXPECT_THROW(run_dropout(x, 1.5f, 3), tformer::Error);
}

TEST(BackwardDropout, MaskIsAFunctionOfSeedAndElementCounter) {
  const auto x = random_floats(5000, 3);
  const Dropped a = run_dropout(x, 0.3f, 11);
  EXPECT_EQ(a, run_dropout(x, 0.3f, 11));
  EXPECT_NE(a.mask, run_dropout(x, 0.3f, 12).mask);
  // The tail of a call at offset 0 is the same as a call on the tail at its offset.
  const std::vector<float> tail(x.begin() + 1234, x.end());
  const Dropped t = run_dropout(tail, 0.3f, 11, 1234);
  EXPECT_TRUE(std::equal(t.mask.begin(), t.mask.end(), a.mask.begin() + 1234));
  // Neighbouring seeds and offsets are not correlated beyond chance.
  const Dropped b = run_dropout(x, 0.5f, 12), c = run_dropout(x, 0.5f, 11, 1);
  const Dropped a5 = run_dropout(x, 0.5f, 11);
  for (const Dropped* other : {&b, &c}) {
    size_t same = 0;
    for (size_t i = 0; i < x.size(); ++i) same += a5.mask[i] == other->mask[i];
    EXPECT_NEAR(same / 5000.0, 0.5, 0.05);  // 7 standard deviations
  }
}

TEST(BackwardDropout, EveryIsaGivesTheSameMaskAndValues) {
  const auto x = random_floats(1003, 9);
  for (bool with_mask : {false, true}) {
    std::vector<uint8_t> m0(x.size()), m1(x.size());
    std::vector<float> y0(x.size()), y1(x.size());
    dropout(x.data(), y0.data(), with_mask ? m0.data() : nullptr, 1003, 0.3f, 5, 17, tformer::Isa::Generic);
    for (tformer::Isa isa : supported_isas()) {
      dropout(x.data(), y1.data(), with_mask ? m1.data() : nullptr, 1003, 0.3f, 5, 17, isa);
      EXPECT_EQ(y0, y1) << tformer::isa_name(isa);
      EXPECT_EQ(m0, m1) << tformer::isa_name(isa);
    }
  }
  // The backward: the same values from every copy, dy · scale where kept.
  std::vector<uint8_t> mask(x.size());
  std::vector<float> y(x.size()), dx0(x.size()), dx1(x.size());
  dropout(x.data(), y.data(), mask.data(), 1003, 0.3f, 5, 17);
  dropout_backward(x.data(), mask.data(), dx0.data(), 1003, 0.3f, tformer::Isa::Generic);
  EXPECT_EQ(dx0, y);  // dy = x: the backward of the same mask is the forward's map
  for (tformer::Isa isa : supported_isas()) {
    dropout_backward(x.data(), mask.data(), dx1.data(), 1003, 0.3f, isa);
    EXPECT_EQ(dx0, dx1) << "backward " << tformer::isa_name(isa);
  }
}

TEST(BackwardDropout, BitIdenticalForOneAndTwoThreads) {
  const auto x = random_floats(100001, 4);
  expect_thread_invariant([&] { return run_dropout(x, 0.1f, 5, 99); }, "dropout");
}

TEST(BackwardDropout, BackwardMasksAndScalesLikeTheForward) {
  // Dropout is linear in x for a fixed mask, so its backward is the same map:
  // dx = dy·mask/(1 − p), and Σ dy·y = Σ dx·x.
  const auto x = random_floats(777, 5), dy = random_floats(777, 6);
  const Dropped d = run_dropout(x, 0.25f, 7);
  std::vector<float> dx(dy.size());
  dropout_backward(dy.data(), d.mask.data(), dx.data(), 777, 0.25f);
  double forward = 0, backward = 0, magnitude = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    ASSERT_EQ(dx[i], d.mask[i] ? dy[i] * (1.0f / 0.75f) : 0.0f);
    forward += double(dy[i]) * d.y[i];
    backward += double(dx[i]) * x[i];
    magnitude += std::fabs(double(dx[i]) * x[i]);
  }
  EXPECT_NEAR(forward, backward, 1e-7 * magnitude);
  // In place and at p = 0.
  auto in_place = dy;
  dropout_backward(in_place.data(), d.mask.data(), in_place.data(), 777, 0.25f);
  EXPECT_EQ(in_place, dx);
  std::vector<uint8_t> ones(777, 1);
  dropout_backward(dy.data(), ones.data(), dx.data(), 777, 0.0f);
  EXPECT_EQ(dx, dy);
}
