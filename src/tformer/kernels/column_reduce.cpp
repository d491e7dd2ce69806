#include "tformer/kernels/column_reduce.h"

#include "tformer/kernels/multiversion.h"

namespace tformer::kernels {

namespace {
// Columns [c0, c1) (at most kColumnBlock) of add_column_sums: the block's
// sums stay in registers while the rows stream past, once per ISA so that
// the float-to-double conversions and adds run 8 lanes wide.
TF_MULTIVERSION(void, column_block_sums,
                (const float* x, int64_t stride, int64_t rows, int64_t c0, int64_t c1, float* out), {
                  double acc[kColumnBlock] = {};
                  const int64_t width = c1 - c0;
                  for (int64_t r = 0; r < rows; ++r) {
                    const float* row = x + r * stride + c0;
                    for (int64_t c = 0; c < width; ++c) acc[c] += row[c];
                  }
                  for (int64_t c = 0; c < width; ++c) out[c0 + c] += static_cast<float>(acc[c]);
                })
}  // namespace

void add_column_sums(const float* x, int64_t stride, int64_t rows, int64_t cols, float* out, Isa isa) {
  const auto block_sums = TF_SELECT(column_block_sums, isa);
  parallel_for_column_blocks(cols, [&](int64_t c0, int64_t c1) { block_sums(x, stride, rows, c0, c1, out); });
}

}  // namespace tformer::kernels
