// The AMX tile configuration shared by the bf16 and int8 tile kernels
// (gemm_bf16_amx.cpp, gemm_int8_amx.cpp): eight tile registers of 16 rows ×
// 64 bytes. C takes tmm0-3 (a 32 × 32 block of fp32 or int32 sums, 2 × 2
// tiles), A tmm4-5 (16 rows each), B tmm6-7 (16 columns each).
//
// Included only by AMX translation units; internal linkage, so that neither
// copy stands in for the other at link time.
#pragma once
#include <immintrin.h>

#include <cstdint>

namespace tformer::kernels::detail {
namespace {

constexpr int kAmxMr = 32, kAmxNr = 32, kAmxStepsPerTile = 16;  // a tile row: 16 words of 4 bytes

// The configuration is per thread; set once on each thread that runs a kernel.
void configure_amx_tiles() {
  thread_local bool configured = false;
  if (configured) return;
  struct alignas(64) {
    uint8_t palette = 1, start_row = 0, reserved[14] = {};
    uint16_t bytes_per_row[16] = {};
    uint8_t rows[16] = {};
  } config;
  for (int t = 0; t < 8; ++t) {
    config.bytes_per_row[t] = 64;
    config.rows[t] = 16;
  }
  _tile_loadconfig(&config);
  configured = true;
}

}  // namespace
}  // namespace tformer::kernels::detail
