// embedding_backward: scatter-add with repeated ids, bad ids, thread invariance.
#include <gtest/gtest.h>

#include "backward_check.h"
#include "tformer/core/error.h"
#include "tformer/kernels/embedding_backward.h"

using namespace tformer::kernels;
using namespace tformer::testing;

TEST(BackwardEmbedding, ScatterAddsRowsWithRepeatedIds) {
  // dim 67 spans two column blocks.
  const int64_t vocab = 7, dim = 67;
  const std::vector<int32_t> ids = {3, 0, 3, 6, 3, 1, 0, 5, 2};
  const int64_t n = static_cast<int64_t>(ids.size());
  const auto dy = random_floats(n * dim, 1);
  const auto table0 = random_floats(vocab * dim, 2);
  std::vector<double> expected(vocab * dim, 0.0);  // the gradient of Σ dy·table[ids]
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < dim; ++c) expected[ids[i] * dim + c] += dy[i * dim + c];
  auto table = table0;
  embedding_backward(ids.data(), n, dy.data(), dim, table.data(), vocab);
  expect_gradient(minus(table, table0), expected, 2e-6, "dtable");
  for (int64_t c = 0; c < dim; ++c) EXPECT_EQ(table[4 * dim + c], table0[4 * dim + c]) << "unused row 4";
}

TEST(BackwardEmbedding, IdOutsideTheTableIsAnErrorBeforeWriting) {
  const std::vector<int32_t> ids = {0, 4};
  const std::vector<float> dy(6, 1.0f);
  std::vector<float> table(12, 0.0f);
  EXPECT_THROW(embedding_backward(ids.data(), 2, dy.data(), 3, table.data(), 4), tformer::Error);
  EXPECT_EQ(table, std::vector<float>(12, 0.0f));
}

TEST(BackwardEmbedding, BitIdenticalForOneAndTwoThreads) {
  const int64_t vocab = 50, dim = 300, n = 1000;
  std::vector<int32_t> ids(n);
  for (int64_t i = 0; i < n; ++i) ids[i] = static_cast<int32_t>((i * i) % vocab);
  const auto dy = random_floats(n * dim, 3);
  expect_thread_invariant(
      [&] {
        std::vector<float> table(vocab * dim, 0.5f);
        embedding_backward(ids.data(), n, dy.data(), dim, table.data(), vocab);
        return table;
      },
      "embedding_backward");
}
