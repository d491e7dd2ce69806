#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <limits>

#include "tformer/core/cpu.h"
#include "tformer/core/dtype.h"
#include "tformer/core/tensor.h"
#include "tformer/core/thread_pool.h"

using namespace tformer;

TEST(DType, Bf16RoundsToNearestEven) {
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  // 1 + 2^-8 is exactly halfway between two bf16 values: ties go to even (1.0).
  EXPECT_EQ(f32_to_bf16(1.00390625f), 0x3f80);
  EXPECT_EQ(f32_to_bf16(1.01171875f), 0x3f82);  // 1 + 3·2^-8 ties up to even
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
}

TEST(DType, F16RoundTripsEveryHalf) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    uint16_t v = static_cast<uint16_t>(h);
    float f = f16_to_f32(v);
    if (std::isnan(f)) continue;
    ASSERT_EQ(f32_to_f16(f), v) << "half bits " << h;
  }
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);  // rounds to inf, as numpy does
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));
}

TEST(DType, NamesRoundTrip) {
  for (auto t : {DType::F32, DType::BF16, DType::F16, DType::I64, DType::Bool})
    EXPECT_EQ(dtype_from_name(dtype_name(t)), t);
  EXPECT_FALSE(dtype_from_name("F8").has_value());
}

TEST(Tensor, ViewsShareStorageAndCopiesDoNot) {
  Tensor t = Tensor::from_vector({0, 1, 2, 3, 4, 5}, {2, 3});
  Tensor tt = t.transpose(0, 1);
  EXPECT_FALSE(tt.is_contiguous());
  EXPECT_EQ(tt.contiguous().to_vector(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  Tensor row = t.select(0, 1);
  EXPECT_EQ(row.shape(), Shape({3}));
  row.data<float>()[0] = 9;
  EXPECT_EQ(t.to_vector()[3], 9);
  Tensor col = t.narrow(1, 1, 2);
  EXPECT_EQ(col.to_vector(), (std::vector<float>{1, 2, 4, 5}));
  EXPECT_THROW(t.narrow(1, 2, 2), Error);
  EXPECT_THROW(tt.reshape({6}), Error);
  EXPECT_THROW(t.data<uint16_t>(), Error);
}

TEST(Tensor, ConvertsFloatTypes) {
  Tensor t = Tensor::from_vector({1.5f, -2.0f, 0.1f}, {3});
  auto back = t.to(DType::BF16).to(DType::F32).to_vector();
  EXPECT_EQ(back[0], 1.5f);
  EXPECT_NEAR(back[2], 0.1f, 1e-3);
  Tensor dst = Tensor::zeros({3}, DType::F16);
  dst.copy_from(t);
  EXPECT_EQ(dst.to_vector()[1], -2.0f);
}

TEST(ThreadPool, CoversRangeExactlyOnce) {
  ThreadPool pool(3);
  for (int64_t n : {0, 1, 2, 7, 1000}) {
    std::vector<std::atomic<int>> hits(n);
    pool.parallel_for(n, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) hits[i]++;
    });
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1);
  }
}

TEST(ThreadPool, DynamicCoversRangeExactlyOnceAndNests) {
  ThreadPool pool(3);
  for (int64_t n : {0, 1, 2, 7, 1000}) {
    std::vector<std::atomic<int>> hits(n);
    pool.parallel_for_dynamic(n, [&](int64_t i) {
      if (i % 2)  // a call from inside a worker runs the whole range serially
        pool.parallel_for_dynamic(3, [&](int64_t) { hits[i]++; });
      else
        hits[i] += 3;
    });
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 3) << "n " << n << ", index " << i;
  }
}

TEST(ThreadPool, NestedCallsRunSerially) {
  ThreadPool pool(2);
  std::atomic<int> total{0};
  pool.parallel_for(4, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      pool.parallel_for(10, 1, [&](int64_t b2, int64_t e2) { total += static_cast<int>(e2 - b2); });
  });
  EXPECT_EQ(total.load(), 40);
}

TEST(Cpu, GenericAlwaysSupported) {
  EXPECT_TRUE(cpu_supports(Isa::Generic));
  EXPECT_TRUE(cpu_supports(active_isa()));
}
