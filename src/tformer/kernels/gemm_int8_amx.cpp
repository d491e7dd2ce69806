// AMX int8 GEMM micro-kernel (gemm_kernels.h) for dynamically quantised
// Linear layers, on tiles: the quantisation of gemm_int8_avx512vnni.cpp (u8
// activations with a per-row scale and zero point, s8 weights with a
// per-column scale), with the products summed by TDPBUSD: a 32 × 32 block of
// int32 sums in tmm0-3, fed per 64 values of k by two A tiles (16 rows × 16
// quads of u8) and two B tiles (16 quad-steps × 16 columns of s8). The sums
// are exact, as in the VNNI kernel, and rescaled by the same code
// (gemm_int8_rescale.h), so both kernels give the same bits. Packing: B as
// for the VNNI kernel (each step 32 column words, so a B tile is 16 rows
// 128 bytes apart); A row-major within its panel and steps padded to a
// multiple of 16 with zeros.
// Compiled with -mamx-tile -mamx-int8 (plus AVX-512), run only where
// cpu_supports_amx_int8().
// GCC 12's avx512fintrin.h trips -Wuninitialized inside _mm512_cvtepi32_ps (GCC PR 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstdint>

#include "tformer/kernels/gemm_amx_tiles.h"
#include "tformer/kernels/gemm_int8_rescale.h"
#include "tformer/kernels/gemm_kernels.h"

namespace tformer::kernels::detail {

namespace {
constexpr int kMr = kAmxMr, kNr = kAmxNr, kStepsPerTile = kAmxStepsPerTile;

void micro_kernel(const GemmTile& t, const GemmQuantTile& q) {
  configure_amx_tiles();
  const auto* a = static_cast<const uint32_t*>(t.a);
  const auto* b = static_cast<const uint32_t*>(t.b);
  const int64_t steps = t.steps, a_stride = steps * 4;
  // A tile of at most 16 rows (decoding's M = 1) needs only the upper tiles.
  const bool lower_rows = t.rows > 16;
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  prefetch_next_c(t, t.rows, kNr);  // as the bf16 tile kernel does
  GemmTile per_load = t;  // the prefetches spread over the 16-step tile loads
  per_load.steps = steps / kStepsPerTile;
  TilePrefetcher prefetch(per_load);
  for (int64_t s = 0; s < steps; s += kStepsPerTile) {
    prefetch.step();
    _tile_loadd(4, a + s, a_stride);                    // rows 0-15
    _tile_loadd(6, b + s * kNr, kNr * 4);               // columns 0-15
    _tile_loadd(7, b + s * kNr + 16, kNr * 4);          // columns 16-31
    _tile_dpbusd(0, 4, 6);
    _tile_dpbusd(1, 4, 7);
    if (lower_rows) {
      _tile_loadd(5, a + 16 * steps + s, a_stride);     // rows 16-31
      _tile_dpbusd(2, 5, 6);
      _tile_dpbusd(3, 5, 7);
    }
  }
  alignas(64) int32_t sums[kMr * kNr];
  _tile_stored(0, sums, kNr * 4);
  _tile_stored(1, sums + 16, kNr * 4);
  if (lower_rows) {
    _tile_stored(2, sums + 16 * kNr, kNr * 4);
    _tile_stored(3, sums + 16 * kNr + 16, kNr * 4);
  }

  const Int8Rescale rescale(t, q);
  for (int i = 0; i < t.rows; ++i)
    rescale.row(i, _mm512_load_si512(sums + i * kNr), _mm512_load_si512(sums + i * kNr + 16));
}
}  // namespace

GemmMicroKernel gemm_micro_kernel_amx_int8() {
  return {.mr = kMr,
          .nr = kNr,
          .k_per_step = 4,
          .step_multiple = kStepsPerTile,
          .a_rows_contiguous = true,
          .run_quantized = micro_kernel};
}

}  // namespace tformer::kernels::detail
