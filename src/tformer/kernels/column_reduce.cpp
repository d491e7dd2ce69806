#include "tformer/kernels/column_reduce.h"

#include "tformer/kernels/multiversion.h"

namespace tformer::kernels {

namespace {
// One column block of add_column_sums, once per ISA so that the
// float-to-double conversions and adds run 8 lanes wide.
TF_MULTIVERSION(void, column_block_sums,
                (const float* x, int64_t stride, int64_t rows, int64_t c0, int64_t c1, float* out), {
                  add_block_column_sums(rows, c0, c1, out, [&](int64_t r, int64_t c) { return x[r * stride + c]; });
                })
}  // namespace

void add_column_sums(const float* x, int64_t stride, int64_t rows, int64_t cols, float* out, Isa isa) {
  const auto block_sums = TF_SELECT(column_block_sums, isa);
  parallel_for_column_blocks(cols, [&](int64_t c0, int64_t c1) { block_sums(x, stride, rows, c0, c1, out); });
}

}  // namespace tformer::kernels
