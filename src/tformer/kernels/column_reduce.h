// Reductions over the rows of a [rows, cols] matrix into one value per column,
// as parameter gradients need (a bias gradient is the column sums of dy).
//
// Work is split over blocks of columns: each thread owns whole columns and
// walks the rows in order, so every column is summed in the same order for any
// thread count and the result is bit-identical whether 1 or N threads ran it.
#pragma once
#include <algorithm>
#include <cstdint>

#include "tformer/core/cpu.h"
#include "tformer/core/thread_pool.h"

namespace tformer::kernels {

// Columns per block: wide enough for contiguous vector loads from each row.
inline constexpr int64_t kColumnBlock = 64;

// Calls fn(c0, c1) for consecutive column blocks of at most kColumnBlock
// columns covering [0, cols), blocks spread over the thread pool.
template <class F>
void parallel_for_column_blocks(int64_t cols, F&& fn) {
  const int64_t blocks = (cols + kColumnBlock - 1) / kColumnBlock;
  parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t blk = b0; blk < b1; ++blk)
      fn(blk * kColumnBlock, std::min(cols, (blk + 1) * kColumnBlock));
  });
}

// out[c] += Σ_{r < rows} term(r, c) for the columns [c0, c1) of one block (at
// most kColumnBlock), each sum taken in double, rows in ascending order. The
// block's sums stay in registers while the rows stream past. Always inlined,
// so that each multiversioned caller's copy vectorises it for its own ISA (a
// function of its own would be compiled for the baseline only).
template <class Term>
[[gnu::always_inline]] inline void add_block_column_sums(int64_t rows, int64_t c0, int64_t c1, float* out, Term term) {
  double acc[kColumnBlock] = {};
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = c0; c < c1; ++c) acc[c - c0] += term(r, c);
  for (int64_t c = c0; c < c1; ++c) out[c] += static_cast<float>(acc[c - c0]);
}

// out[c] += Σ_{r < rows} x[r·stride + c] for c in [0, cols), each sum taken
// in double, rows in ascending order (a bias gradient: the column sums of dy).
void add_column_sums(const float* x, int64_t stride, int64_t rows, int64_t cols, float* out,
                     Isa isa = active_isa());

}  // namespace tformer::kernels
