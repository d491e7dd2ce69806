// AMX bf16 GEMM micro-kernel (gemm_kernels.h): a 32 × 32 tile of C in four
// 16 × 16 fp32 tile registers (tmm0-3), fed per 32 values of k by two A tiles
// (tmm4-5: 16 rows × 16 bf16 pairs) and two B tiles (tmm6-7: 16 pair-steps ×
// 16 columns) through TDPBF16PS, 32 768 multiply-adds per step of 16 pairs.
//
// Packing: B as for the AVX-512 bf16 kernel (each step 32 column words, so a
// B tile is 16 rows 128 bytes apart); A row-major within its panel (row r's
// pairs contiguous) and steps padded to a multiple of 16 with zeros.
// Compiled with -mamx-tile -mamx-bf16 (plus AVX-512), run only where
// cpu_supports(Isa::Amx), which also obtained the kernel's permission.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "tformer/kernels/gemm_amx_tiles.h"
#include "tformer/kernels/gemm_kernels.h"

namespace tformer::kernels::detail {

namespace {
constexpr int kMr = kAmxMr, kNr = kAmxNr, kStepsPerTile = kAmxStepsPerTile;

void micro_kernel(const GemmTile& t) {
  configure_amx_tiles();
  const auto* a = static_cast<const uint32_t*>(t.a);
  const auto* b = static_cast<const uint32_t*>(t.b);
  const int64_t steps = t.steps;
  const int rows = t.rows, cols = t.cols;
  // A partial tile goes through a full 32 × 32 buffer.
  alignas(64) float buffer[kMr * kNr];
  const bool full = rows == kMr && cols == kNr;
  float* out = full ? t.c : buffer;
  const int64_t ld = full ? t.ldc : kNr, stride = ld * 4;
  if (t.accumulate) {
    if (!full) {
      std::memset(buffer, 0, sizeof(buffer));
      for (int i = 0; i < rows; ++i) std::memcpy(buffer + i * kNr, t.c + i * t.ldc, cols * sizeof(float));
    }
    _tile_loadd(0, out, stride);
    _tile_loadd(1, out + 16, stride);
    _tile_loadd(2, out + 16 * ld, stride);
    _tile_loadd(3, out + 16 * ld + 16, stride);
  } else if (t.bias) {  // every row of the sums starts as the bias: tile loads with a row stride of 0
    alignas(64) float start[kNr] = {};
    std::memcpy(start, t.bias, cols * sizeof(float));
    _tile_loadd(0, start, 0);
    _tile_loadd(1, start + 16, 0);
    _tile_loadd(2, start, 0);
    _tile_loadd(3, start + 16, 0);
  } else {
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
  }
  // The next tile's C rows, pulled in for writing while this tile computes:
  // C outgrows L2 at batch 8, and each tile store would otherwise wait on 64
  // lines from memory (BERT-base bf16, batch 8: -22 % median time per forward).
  prefetch_next_c(t, t.rows, kNr);
  // The prefetches are spread over the 16-step tile loads, as the other kernels spread them over steps.
  GemmTile per_load = t;
  per_load.steps = steps / kStepsPerTile;
  TilePrefetcher prefetch(per_load);
  const int64_t a_stride = steps * 4;
  for (int64_t s = 0; s < steps; s += kStepsPerTile) {
    prefetch.step();
    _tile_loadd(4, a + s, a_stride);               // rows 0-15
    _tile_loadd(5, a + 16 * steps + s, a_stride);  // rows 16-31
    _tile_loadd(6, b + s * kNr, kNr * 4);          // columns 0-15
    _tile_loadd(7, b + s * kNr + 16, kNr * 4);     // columns 16-31
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  _tile_stored(0, out, stride);
  _tile_stored(1, out + 16, stride);
  _tile_stored(2, out + 16 * ld, stride);
  _tile_stored(3, out + 16 * ld + 16, stride);
  if (!full)
    for (int i = 0; i < rows; ++i) std::memcpy(t.c + i * t.ldc, buffer + i * kNr, cols * sizeof(float));
}
}  // namespace

GemmMicroKernel gemm_micro_kernel_amx_bf16() {
  GemmMicroKernel k;
  k.mr = kMr;
  k.nr = kNr;
  k.k_per_step = 2;
  k.step_multiple = kStepsPerTile;
  // Deeper k blocks than the fp32 kernels': each C tile is then loaded and
  // stored less often, which the tile products are fast enough to notice
  // (BERT-base bf16 at batch 8: ~10 % faster than with 256).
  k.kc = 1024;
  k.a_rows_contiguous = true;
  k.run = micro_kernel;
  return k;
}

}  // namespace tformer::kernels::detail
