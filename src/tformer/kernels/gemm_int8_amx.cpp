// AMX int8 GEMM micro-kernel (gemm_kernels.h) for dynamically quantised
// Linear layers, on tiles: the quantisation of gemm_int8_avx512vnni.cpp (u8
// activations with a per-row scale and zero point, s8 weights with a
// per-column scale), with the products summed by TDPBUSD: a 32 × 32 block of
// int32 sums in tmm0-3, fed per 64 values of k by two A tiles (16 rows × 16
// quads of u8) and two B tiles (16 quad-steps × 16 columns of s8). The sums
// are exact, as in the VNNI kernel, and rescaled the same way:
//
//   C[r][c] (+)= row_scale[r] · col_scale[c] · (acc[r][c] − row_zero[r] · col_sum[c])
//
// so both kernels give the same bits. Packing: B as for the VNNI kernel
// (each step 32 column words, so a B tile is 16 rows 128 bytes apart); A
// row-major within its panel and steps padded to a multiple of 16 with zeros.
// Compiled with -mamx-tile -mamx-int8 (plus AVX-512), run only where
// cpu_supports_amx_int8().
// GCC 12's avx512fintrin.h trips -Wuninitialized inside _mm512_cvtepi32_ps (GCC PR 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstdint>

#include "tformer/kernels/gemm_amx_tiles.h"
#include "tformer/kernels/gemm_kernels.h"

namespace tformer::kernels::detail {

namespace {
constexpr int kMr = kAmxMr, kNr = kAmxNr, kStepsPerTile = kAmxStepsPerTile;

__mmask16 lane_mask(int n) { return n >= 16 ? __mmask16(0xFFFF) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1); }

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

  const __mmask16 m0 = lane_mask(t.cols), m1 = lane_mask(t.cols - 16);
  const __m512 col_scale0 = _mm512_maskz_loadu_ps(m0, q.col_scale), col_scale1 = _mm512_maskz_loadu_ps(m1, q.col_scale + 16);
  const __m512i col_sum0 = _mm512_maskz_loadu_epi32(m0, q.col_sum), col_sum1 = _mm512_maskz_loadu_epi32(m1, q.col_sum + 16);
  const __m512 bias0 = t.bias ? _mm512_maskz_loadu_ps(m0, t.bias) : _mm512_setzero_ps();
  const __m512 bias1 = t.bias ? _mm512_maskz_loadu_ps(m1, t.bias + 16) : _mm512_setzero_ps();
  for (int i = 0; i < t.rows; ++i) {
    const __m512i acc0 = _mm512_load_si512(sums + i * kNr), acc1 = _mm512_load_si512(sums + i * kNr + 16);
    const __m512i zero = _mm512_set1_epi32(q.row_zero[i]);
    const __m512 scale = _mm512_set1_ps(q.row_scale[i]);
    __m512 y0 = _mm512_mul_ps(_mm512_mul_ps(scale, col_scale0),
                              _mm512_cvtepi32_ps(_mm512_sub_epi32(acc0, _mm512_mullo_epi32(zero, col_sum0))));
    __m512 y1 = _mm512_mul_ps(_mm512_mul_ps(scale, col_scale1),
                              _mm512_cvtepi32_ps(_mm512_sub_epi32(acc1, _mm512_mullo_epi32(zero, col_sum1))));
    float* c = t.c + i * t.ldc;
    if (t.bias) {
      y0 = _mm512_add_ps(y0, bias0);
      y1 = _mm512_add_ps(y1, bias1);
    }
    if (t.accumulate) {
      y0 = _mm512_add_ps(y0, _mm512_maskz_loadu_ps(m0, c));
      y1 = _mm512_add_ps(y1, _mm512_maskz_loadu_ps(m1, c + 16));
    }
    _mm512_mask_storeu_ps(c, m0, y0);
    _mm512_mask_storeu_ps(c + 16, m1, y1);
  }
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
