// AVX512-VNNI int8 GEMM micro-kernel (gemm_kernels.h) for dynamically
// quantised Linear layers: A rows as u8 with a per-row scale and zero point,
// B columns as s8 with a per-column scale. Each packed word holds four values
// of consecutive k; vpdpbusd multiplies an A quad (broadcast) by the B quads
// of 16 columns and adds the four products to int32 accumulators. At the end
//
//   C[r][c] (+)= row_scale[r] · col_scale[c] · (acc[r][c] − row_zero[r] · col_sum[c])
//
// (col_sum: the column's sum of s8 weights, so the zero point drops out).
// The sums stay exact in int32 for any K up to 2^31 / (255 · 127) ≈ 66 000.
// A 12 × 32 tile: 24 zmm accumulators. Compiled with -mavx512vnni (and AVX-512).
// GCC 12's avx512fintrin.h trips -Wuninitialized inside _mm512_cvtepi32_ps (GCC PR 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "tformer/kernels/gemm_int8_rescale.h"
#include "tformer/kernels/gemm_kernels.h"

namespace tformer::kernels::detail {

namespace {
constexpr int kMr = 12, kNr = 32;

template <int R>
void tile(const GemmTile& t, const GemmQuantTile& q) {
  const auto* a = static_cast<const uint32_t*>(t.a);
  const auto* b = static_cast<const uint32_t*>(t.b);
  __m512i acc[R][2];
#pragma GCC unroll 12
  for (int i = 0; i < R; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_si512();
  TilePrefetcher prefetch(t);
  prefetch_next_c(t, R, kNr);
  for (int64_t s = 0; s < t.steps; ++s) {
    prefetch.step();
    const __m512i b0 = _mm512_load_si512(b), b1 = _mm512_load_si512(b + 16);
#pragma GCC unroll 12
    for (int i = 0; i < R; ++i) {
      const __m512i ai = _mm512_set1_epi32(static_cast<int>(a[i]));
      acc[i][0] = _mm512_dpbusd_epi32(acc[i][0], ai, b0);
      acc[i][1] = _mm512_dpbusd_epi32(acc[i][1], ai, b1);
    }
    a += kMr;
    b += kNr;
  }
  const Int8Rescale rescale(t, q);
#pragma GCC unroll 12
  for (int i = 0; i < R; ++i) rescale.row(i, acc[i][0], acc[i][1]);
}

void micro_kernel(const GemmTile& t, const GemmQuantTile& q) {
  switch (t.rows) {
    case 1: return tile<1>(t, q);
    case 2: return tile<2>(t, q);
    case 3: return tile<3>(t, q);
    case 4: return tile<4>(t, q);
    case 5: return tile<5>(t, q);
    case 6: return tile<6>(t, q);
    case 7: return tile<7>(t, q);
    case 8: return tile<8>(t, q);
    case 9: return tile<9>(t, q);
    case 10: return tile<10>(t, q);
    case 11: return tile<11>(t, q);
    default: return tile<kMr>(t, q);
  }
}
}  // namespace

GemmMicroKernel gemm_micro_kernel_avx512_vnni_int8() {
  GemmMicroKernel k;
  k.mr = kMr;
  k.nr = kNr;
  k.k_per_step = 4;
  k.run_quantized = micro_kernel;
  return k;
}

}  // namespace tformer::kernels::detail
