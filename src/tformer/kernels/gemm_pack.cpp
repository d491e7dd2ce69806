// Operand packing for the blocked GEMM (gemm_pack.h).
#include "tformer/kernels/gemm_pack.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "tformer/core/dtype.h"
#include "tformer/core/error.h"
#include "tformer/core/thread_pool.h"
#include "tformer/kernels/multiversion.h"
#include "tformer/kernels/vector_math.h"

namespace tformer::kernels {
namespace detail {

bool has_bf16_kernel(Isa isa) {
  return isa == Isa::Amx || (isa == Isa::Avx512 && cpu_supports_avx512_bf16());
}

bool has_int8_kernel(Isa isa) { return isa >= Isa::Avx512 && cpu_supports_avx512_vnni(); }

const GemmMicroKernel& micro_kernel(Isa isa, GemmFormat format) {
  // Each kernel is fetched only once its ISA is known to be supported: its
  // translation unit may use that ISA's instructions anywhere.
  if (format == GemmFormat::INT8) {
    TF_CHECK(has_int8_kernel(isa), "gemm: no int8 kernel at level " << isa_name(isa));
    if (isa == Isa::Amx && cpu_supports_amx_int8()) {
      static const GemmMicroKernel k = gemm_micro_kernel_amx_int8();
      return k;
    }
    static const GemmMicroKernel k = gemm_micro_kernel_avx512_vnni_int8();
    return k;
  }
  if (format == GemmFormat::BF16) {
    TF_CHECK(has_bf16_kernel(isa), "gemm: no bf16 kernel at level " << isa_name(isa));
    if (isa == Isa::Amx) {
      static const GemmMicroKernel k = gemm_micro_kernel_amx_bf16();
      return k;
    }
    static const GemmMicroKernel k = gemm_micro_kernel_avx512_bf16();
    return k;
  }
  switch (isa) {
    case Isa::Amx:  // fp32 has no tile kernel
    case Isa::Avx512: {
      TF_CHECK(cpu_supports(Isa::Avx512), "gemm: this CPU has no AVX-512");
      static const GemmMicroKernel k = gemm_micro_kernel_avx512();
      return k;
    }
    case Isa::Avx2: {
      TF_CHECK(cpu_supports(Isa::Avx2), "gemm: this CPU has no AVX2");
      static const GemmMicroKernel k = gemm_micro_kernel_avx2();
      return k;
    }
    case Isa::Generic:
      break;
  }
  static const GemmMicroKernel k = gemm_micro_kernel_generic();
  return k;
}

uint32_t* aligned_scratch(std::vector<uint32_t>& buffer, int64_t n) {
  if (static_cast<int64_t>(buffer.size()) < n + 16) buffer.resize(n + 16);
  const auto p = reinterpret_cast<uintptr_t>(buffer.data());
  return reinterpret_cast<uint32_t*>((p + 63) & ~uintptr_t(63));
}

namespace {
uint32_t f32_bits(float v) {
  uint32_t u;
  std::memcpy(&u, &v, 4);
  return u;
}

// The bf16 word of the values of k and k + 1 (the second 0 past K).
uint32_t bf16_pair(float v0, float v1) {
  return uint32_t(f32_to_bf16(v0)) | uint32_t(f32_to_bf16(v1)) << 16;  // k in the low half
}
}  // namespace

int64_t packed_steps(const GemmMicroKernel& uk, int64_t kc) {
  const int64_t steps = (kc + uk.k_per_step - 1) / uk.k_per_step;
  return (steps + uk.step_multiple - 1) / uk.step_multiple * uk.step_multiple;
}

namespace {
// dst[i] = bf16(alpha · src[i]): a row of A for a kernel that wants its
// rows contiguous, whose packed words are then the row's bf16 values in order.
TF_MULTIVERSION(void, convert_row_bf16, (const float* src, int64_t n, float alpha, uint16_t* dst), {
  for (int64_t i = 0; i < n; ++i) dst[i] = f32_to_bf16(alpha * src[i]);
})

// dst[i] = the bf16 word of a pair of k, bf16(alpha · lo[i]) in the low half
// and bf16(alpha · hi[i]) in the high one (hi null: past K, zero).
TF_MULTIVERSION(void, pair_words, (const float* lo, const float* hi, int64_t n, float alpha, uint32_t* dst), {
  if (hi)
    for (int64_t i = 0; i < n; ++i)
      dst[i] = uint32_t(f32_to_bf16(alpha * lo[i])) | uint32_t(f32_to_bf16(alpha * hi[i])) << 16;
  else
    for (int64_t i = 0; i < n; ++i) dst[i] = f32_to_bf16(alpha * lo[i]);
})

// dst[j · dst_stride + i] = src[i · src_stride + j] for i < rows, j < cols:
// bf16 words made in one order (along the source's contiguous runs) and
// stored in the packed layout's.
void transpose_words(const uint32_t* src, int64_t rows, int64_t cols, int64_t src_stride, uint32_t* dst,
                     int64_t dst_stride) {
  if (active_isa() >= Isa::Avx512) return transpose_words_avx512(src, rows, cols, src_stride, dst, dst_stride);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) dst[j * dst_stride + i] = src[i * src_stride + j];
}

// Words are made and transposed this many steps at a time.
constexpr int64_t kStepChunk = 16;
constexpr int kMaxTile = 32;  // the largest NR that the bf16 kernels use

// pack_a for bf16 pairs from A stored [K, M] (dW = dyᵀ·x in mixed-precision
// training): a pair of A's rows, read along their length, gives the words
// of all mc rows at one step, which then go to each panel (through a
// transpose where the kernel wants rows contiguous), 16 steps at a time.
// (Reading a panel's few rows at each k instead strode across pages.)
void pack_a_transposed_bf16(const GemmArgs& g, const GemmMicroKernel& uk, int64_t ic, int64_t mc, int64_t pc,
                            int64_t kc, uint32_t* dst) {
  TF_CHECK(uk.k_per_step == 2 && mc <= kMc, "pack_a: a transposed A packs as fp32 or bf16 pairs");
  const int mr = uk.mr;
  const int64_t steps = packed_steps(uk, kc), data_steps = (kc + 1) / 2;
  const int64_t step_stride = uk.a_rows_contiguous ? 1 : mr, row_stride = uk.a_rows_contiguous ? steps : 1;
  const int64_t panels = (mc + mr - 1) / mr;
  if (mc % mr || steps > data_steps) std::memset(dst, 0, sizeof(uint32_t) * panels * mr * steps);
  alignas(64) uint32_t chunk[kStepChunk * kMc];
  for (int64_t s0 = 0; s0 < data_steps; s0 += kStepChunk) {
    const int64_t n_steps = std::min(kStepChunk, data_steps - s0);
    for (int64_t s = 0; s < n_steps; ++s) {
      const float* lo = g.a + (pc + 2 * (s0 + s)) * g.lda + ic;
      TF_SELECT(pair_words, active_isa())(lo, 2 * (s0 + s) + 1 < kc ? lo + g.lda : nullptr, mc, g.alpha,
                                          chunk + s * mc);
    }
    for (int64_t p0 = 0; p0 < mc; p0 += mr) {
      const int64_t rows = std::min<int64_t>(mr, mc - p0);
      uint32_t* d = dst + p0 * steps;
      if (row_stride == 1)
        for (int64_t s = 0; s < n_steps; ++s)
          std::memcpy(d + (s0 + s) * step_stride, chunk + s * mc + p0, sizeof(uint32_t) * rows);
      else
        transpose_words(chunk + p0, n_steps, rows, mc, d + s0, row_stride);
    }
  }
}
}  // namespace

void pack_a(const GemmArgs& g, GemmFormat format, const GemmMicroKernel& uk, int64_t ic, int64_t mc, int64_t pc,
            int64_t kc, uint32_t* dst) {
  if (g.trans_a && format != GemmFormat::F32) return pack_a_transposed_bf16(g, uk, ic, mc, pc, kc, dst);
  const int mr = uk.mr, kpw = uk.k_per_step;
  const int64_t steps = packed_steps(uk, kc);
  const int64_t step_stride = uk.a_rows_contiguous ? 1 : mr, row_stride = uk.a_rows_contiguous ? steps : 1;
  for (int64_t p0 = 0; p0 < mc; p0 += mr) {
    const int64_t rows = std::min<int64_t>(mr, mc - p0);
    uint32_t* d = dst + p0 * steps;
    if (rows < mr || steps * kpw > kc) std::memset(d, 0, sizeof(uint32_t) * steps * mr);
    if (!g.trans_a) {  // the common cases, rows of A contiguous, without per-element checks
      for (int64_t r = 0; r < rows; ++r) {
        const float* src = g.a + (ic + p0 + r) * g.lda + pc;
        uint32_t* dr = d + r * row_stride;
        if (format == GemmFormat::F32) {
          for (int64_t k = 0; k < kc; ++k) dr[k * step_stride] = f32_bits(g.alpha * src[k]);
        } else if (uk.a_rows_contiguous) {
          TF_SELECT(convert_row_bf16, active_isa())(src, kc, g.alpha, reinterpret_cast<uint16_t*>(dr));
        } else {
          for (int64_t s = 0; s < kc / 2; ++s)
            dr[s * step_stride] = bf16_pair(g.alpha * src[2 * s], g.alpha * src[2 * s + 1]);
          if (kc % 2) dr[(kc / 2) * step_stride] = bf16_pair(g.alpha * src[kc - 1], 0.0f);
        }
      }
      continue;
    }
    // A stored [K, M], fp32 (bf16 pairs went to pack_a_transposed_bf16): each k reads `rows` consecutive floats.
    for (int64_t k = 0; k < kc; ++k) {
      const float* src = g.a + (pc + k) * g.lda + ic + p0;
      if (g.alpha == 1.0f && row_stride == 1) {  // a step's words are the rows' values in order
        // (a loop, not memcpy: `rows` floats are too few to repay a call)
        uint32_t* dk = d + k * step_stride;
        for (int64_t r = 0; r < rows; ++r) dk[r] = f32_bits(src[r]);
        continue;
      }
      for (int64_t r = 0; r < rows; ++r) d[k * step_stride + r * row_stride] = f32_bits(g.alpha * src[r]);
    }
  }
}

namespace {
// Quantises alpha · row[0 : n] to u8 with a scale and zero point from the
// row's range widened to include 0 (so that 0 is exact). The range is kept
// in 16 lanes, which vectorise (min and max are exact, so the lanes give
// the same result as one running min).
TF_MULTIVERSION(void, quantize_row_u8,
                (const float* row, int64_t n, float alpha, uint8_t* dst, float* scale_out, int32_t* zero_out), {
                  Float16 lo16 = {}, hi16 = {};
                  int64_t k = 0;
                  for (; k + 16 <= n; k += 16) {
                    Float16 v;
                    load16(v, row + k);
                    v *= alpha;
                    lo16 = v < lo16 ? v : lo16;
                    hi16 = v > hi16 ? v : hi16;
                  }
                  float lo = 0.0f, hi = 0.0f;
                  for (int j = 0; j < 16; ++j) lo = std::min(lo, lo16[j]), hi = std::max(hi, hi16[j]);
                  for (; k < n; ++k) lo = std::min(lo, alpha * row[k]), hi = std::max(hi, alpha * row[k]);
                  const float scale = hi > lo ? (hi - lo) / 255.0f : 1.0f;
                  // Clamps written so that NaN (from a corrupt checkpoint's
                  // weights) lands on 0: converting NaN to an integer is undefined.
                  const float z = round_even(-lo / scale);
                  const float zero = z > 0.0f ? (z < 255.0f ? z : 255.0f) : 0.0f;
                  for (k = 0; k < n; ++k) {
                    const float q = round_even(alpha * row[k] / scale) + zero;
                    dst[k] = static_cast<uint8_t>(q > 0.0f ? (q < 255.0f ? q : 255.0f) : 0.0f);
                  }
                  *scale_out = scale;
                  *zero_out = static_cast<int32_t>(zero);
                })
}  // namespace

// Each row through quantize_row_u8.
void pack_a_int8(const GemmArgs& g, const GemmMicroKernel& uk, int64_t ic, int64_t mc, uint32_t* dst,
                 float* row_scale, int32_t* row_zero) {
  thread_local std::vector<float> column;     // a row of a transposed A, gathered
  thread_local std::vector<uint32_t> quads;  // a quantised row, four u8 a word, zero-padded
  const int mr = uk.mr;
  const int64_t steps = packed_steps(uk, g.k);
  quads.assign(steps, 0);
  const auto quantize = TF_SELECT(quantize_row_u8, active_isa());
  for (int64_t p0 = 0; p0 < mc; p0 += mr) {
    const int64_t rows = std::min<int64_t>(mr, mc - p0);
    uint32_t* d = dst + p0 * steps;  // word (s, r) at d[s·mr + r], or (r, s) at d[r·steps + s]
    if (rows < mr) std::memset(d, 0, sizeof(uint32_t) * steps * mr);
    for (int64_t r = 0; r < mr; ++r) {
      if (r >= rows) {
        row_scale[p0 + r] = 0.0f;
        row_zero[p0 + r] = 0;
        continue;
      }
      const int64_t i = ic + p0 + r;
      const float* row = g.a + i * g.lda;
      if (g.trans_a) {
        column.resize(g.k);
        for (int64_t k = 0; k < g.k; ++k) column[k] = g.a[k * g.lda + i];
        row = column.data();
      }
      quantize(row, g.k, g.alpha, reinterpret_cast<uint8_t*>(quads.data()), &row_scale[p0 + r], &row_zero[p0 + r]);
      if (uk.a_rows_contiguous)  // word (r, s) at d[r·steps + s]: the row's quads in order
        std::memcpy(d + r * steps, quads.data(), sizeof(uint32_t) * steps);
      else
        for (int64_t s = 0; s < steps; ++s) d[s * mr + r] = quads[s];
    }
  }
}

namespace {
// pack_b for bf16 pairs from B stored [K, N] (dx = dy·W in mixed-precision
// training): step s of every panel comes from one pair of B's rows, read
// along their length. (Filling one panel at a time instead read 128 bytes
// of each row in turn, striding across pages.)
void pack_b_bf16_rows(const float* b, int64_t ldb, const GemmMicroKernel& uk, int64_t steps, int64_t pc, int64_t kc,
                      int64_t jc, int64_t nc, int64_t panel_stride, uint32_t* dst) {
  const int nr = uk.nr;
  const int64_t data_steps = (kc + 1) / 2;
  for (int64_t p0 = 0; p0 < nc; p0 += nr) {  // zeros: a partial panel's missing columns, the steps past kc
    uint32_t* d = dst + (p0 / nr) * panel_stride;
    if (nc - p0 < nr)
      std::memset(d, 0, sizeof(uint32_t) * steps * nr);
    else
      std::memset(d + data_steps * nr, 0, sizeof(uint32_t) * (steps - data_steps) * nr);
  }
  for (int64_t s = 0; s < data_steps; ++s) {
    const float* lo = b + (pc + 2 * s) * ldb + jc;
    const float* hi = 2 * s + 1 < kc ? lo + ldb : nullptr;
    for (int64_t p0 = 0; p0 < nc; p0 += nr)
      TF_SELECT(pair_words, active_isa())(lo + p0, hi ? hi + p0 : nullptr, std::min<int64_t>(nr, nc - p0), 1.0f,
                                          dst + (p0 / nr) * panel_stride + s * nr);
  }
}
}  // namespace

void pack_b(const float* b, int64_t ldb, bool trans_b, GemmFormat format, const GemmMicroKernel& uk, int64_t steps,
            int64_t pc, int64_t kc, int64_t jc, int64_t nc, int64_t panel_stride, uint32_t* dst) {
  if (format != GemmFormat::F32 && !trans_b)
    return pack_b_bf16_rows(b, ldb, uk, steps, pc, kc, jc, nc, panel_stride, dst);
  const int kpw = uk.k_per_step, nr = uk.nr;
  for (int64_t p0 = 0; p0 < nc; p0 += nr) {
    const int64_t cols = std::min<int64_t>(nr, nc - p0);
    uint32_t* d = dst + (p0 / nr) * panel_stride;
    if (cols < nr) std::memset(d, 0, sizeof(uint32_t) * steps * nr);
    if (format == GemmFormat::F32 && !trans_b && steps == kc) {  // rows of B are contiguous runs of a panel's columns
      for (int64_t k = 0; k < kc; ++k) {  // (a loop: `cols` floats are too few to repay a memcpy call)
        const float* src = b + (pc + k) * ldb + jc + p0;
        uint32_t* dk = d + k * nr;
        for (int64_t c = 0; c < cols; ++c) dk[c] = f32_bits(src[c]);
      }
      continue;
    }
    if (format == GemmFormat::F32 && trans_b && steps == kc) {  // B stored [N, K]: each column a run of k
      if (uk.pack_b_transposed) {
        uk.pack_b_transposed(b + (jc + p0) * ldb + pc, ldb, kc, static_cast<int>(cols), d);
        continue;
      }
      for (int64_t c = 0; c < cols; ++c) {
        const float* src = b + (jc + p0 + c) * ldb + pc;
        for (int64_t k = 0; k < kc; ++k) d[k * nr + c] = f32_bits(src[k]);
      }
      continue;
    }
    // bf16 pairs from B stored [N, K] (fp32 panels have steps == kc, above;
    // B stored [K, N] went to pack_b_bf16_rows): a column's run of k, as
    // bf16, is its words in order, transposed into the panel 16 steps at a
    // time; the words past kc zero.
    TF_CHECK(kpw == 2 && trans_b && nr <= kMaxTile, "pack_b: B packs as fp32 or bf16 pairs");
    const int64_t data_steps = (kc + 1) / 2;
    alignas(64) uint32_t chunk[kMaxTile * kStepChunk];
    for (int64_t s0 = 0; s0 < data_steps; s0 += kStepChunk) {
      const int64_t n_steps = std::min(kStepChunk, data_steps - s0), values = std::min(2 * n_steps, kc - 2 * s0);
      for (int64_t c = 0; c < cols; ++c) {
        auto* half_words = reinterpret_cast<uint16_t*>(chunk + c * kStepChunk);
        TF_SELECT(convert_row_bf16, active_isa())(b + (jc + p0 + c) * ldb + pc + 2 * s0, values, 1.0f, half_words);
        if (values % 2) half_words[values] = 0;  // the last pair's absent second k
      }
      transpose_words(chunk, cols, n_steps, kStepChunk, d + s0 * nr, nr);
    }
    if (cols == nr) std::memset(d + data_steps * nr, 0, sizeof(uint32_t) * (steps - data_steps) * nr);
  }
}

namespace {
// v[0 : n] quantised to s8 with one scale, max |v| / 127 (returned), into
// dst. The maximum is kept in 16 lanes so that each ISA's copy vectorises it.
TF_MULTIVERSION(float, quantize_row_s8, (const float* v, int64_t n, int8_t* dst), {
  Float16 amax16 = {};
  int64_t k = 0;
  for (; k + 16 <= n; k += 16) {
    Float16 x;
    load16(x, v + k);
    x = x < 0.0f ? -x : x;
    amax16 = x > amax16 ? x : amax16;
  }
  float amax = 0.0f;
  for (int j = 0; j < 16; ++j) amax = std::max(amax, amax16[j]);
  for (; k < n; ++k) amax = std::max(amax, std::fabs(v[k]));
  const float scale = amax > 0.0f ? amax / 127.0f : 1.0f;
  for (k = 0; k < n; ++k) {
    const float r = round_even(v[k] / scale);
    const float q = r == r ? r : 0.0f;  // NaN weights to 0: converting NaN to an integer is undefined
    dst[k] = static_cast<int8_t>(q < -127.0f ? -127.0f : q > 127.0f ? 127.0f : q);
  }
  return scale;
})

// Column j of op(B) quantised to s8 with its own scale (max |value| / 127):
// the values through `quantized` (k of them), the scale returned.
float quantize_column(const float* b, int64_t ldb, bool trans_b, int64_t k, int64_t j, int8_t* quantized) {
  thread_local std::vector<float> gathered;
  const float* column = b + j * ldb;  // a Linear weight's row: contiguous
  if (!trans_b) {
    gathered.resize(k);
    for (int64_t kk = 0; kk < k; ++kk) gathered[kk] = b[kk * ldb + j];
    column = gathered.data();
  }
  return TF_SELECT(quantize_row_s8, active_isa())(column, k, quantized);
}

// op(B) as the values the kernels would see in `format`, as a dense [K, N]
// for CPUs without that format's kernel: bf16-rounded, or int8-quantised
// and scaled back.
// Into `out`, reused: mixed-precision training repacks at every GEMM.
void emulated_values(const float* b, int64_t ldb, bool trans_b, int64_t k, int64_t n, GemmFormat format,
                     std::vector<float>& out) {
  out.resize(k * n);
  std::vector<int8_t> column(format == GemmFormat::INT8 ? k : 0);
  for (int64_t j = 0; j < n; ++j) {
    const float scale = format == GemmFormat::INT8 ? quantize_column(b, ldb, trans_b, k, j, column.data()) : 0.0f;
    for (int64_t kk = 0; kk < k; ++kk) {
      const float v = trans_b ? b[j * ldb + kk] : b[kk * ldb + j];
      out[kk * n + j] = format == GemmFormat::INT8 ? scale * column[kk] : bf16_to_f32(f32_to_bf16(v));
    }
  }
}
}  // namespace

}  // namespace detail

using detail::GemmMicroKernel;
using detail::emulated_values;
using detail::has_bf16_kernel;
using detail::has_int8_kernel;
using detail::micro_kernel;
using detail::pack_b;
using detail::packed_steps;
using detail::quantize_column;

namespace {
// repack's buffer for emulated values, one per thread: kept between the
// repacks of training's GEMMs, given back after a load's one-off packs.
std::vector<float>& emulated_values_scratch() {
  thread_local std::vector<float> values;
  return values;
}
}  // namespace

PackedB PackedB::pack(const float* b, int64_t ldb, bool trans_b, int64_t k, int64_t n, Isa isa,
                      GemmFormat format) {
  PackedB p;
  p.repack(b, ldb, trans_b, k, n, isa, format);
  std::vector<float>().swap(emulated_values_scratch());
  return p;
}

void PackedB::repack(const float* b, int64_t ldb, bool trans_b, int64_t k, int64_t n, Isa isa, GemmFormat format,
                     bool parallel) {
  TF_CHECK(k > 0 && n > 0, "PackedB: empty matrix (" << k << " × " << n << ")");
  // Without the format's kernel, its values are computed in fp32.
  const bool emulated = (format == GemmFormat::BF16 && !has_bf16_kernel(isa)) ||
                        (format == GemmFormat::INT8 && !has_int8_kernel(isa));
  const GemmFormat packed_format = emulated ? GemmFormat::F32 : format;
  const GemmMicroKernel& uk = micro_kernel(isa, packed_format);
  PackedB& p = *this;
  p.k_ = k;
  p.n_ = n;
  p.nr_ = uk.nr;
  p.k_per_word_ = uk.k_per_step;
  p.isa_ = isa;
  p.format_ = packed_format;
  const int64_t panels = (n + uk.nr - 1) / uk.nr, steps = packed_steps(uk, k);
  p.words_per_panel_ = steps * uk.nr;
  // pack_b writes every word of a panel, padding included; int8's columns
  // are placed one by one, so its padding must start as zeros.
  const int64_t words = panels * p.words_per_panel_;
  if (p.data_.numel() < words) p.data_ = Tensor::empty({words}, DType::I32);
  uint32_t* dst = p.data_.data<uint32_t>();
  if (packed_format == GemmFormat::INT8) {
    std::memset(dst, 0, sizeof(uint32_t) * words);
    // Word (s, c) of a panel: the s8 values of k = 4s .. 4s + 3 of its column c.
    p.col_scale_ = Tensor::zeros({panels * uk.nr});
    p.col_sum_ = Tensor::zeros({panels * uk.nr}, DType::I32);
    auto quantize_columns = [&](int64_t j0, int64_t j1) {
      std::vector<uint32_t> quads(steps, 0);  // the column's s8 values, four a word, zero-padded
      auto* column = reinterpret_cast<int8_t*>(quads.data());
      for (int64_t j = j0; j < j1; ++j) {
        p.col_scale_.data<float>()[j] = quantize_column(b, ldb, trans_b, k, j, column);
        int32_t sum = 0;
        for (int64_t kk = 0; kk < k; ++kk) sum += column[kk];
        p.col_sum_.data<int32_t>()[j] = sum;
        uint32_t* panel = dst + (j / uk.nr) * p.words_per_panel_ + j % uk.nr;
        for (int64_t s = 0; s < steps; ++s) panel[s * uk.nr] = quads[s];
      }
    };
    if (parallel)
      parallel_for(n, 16, quantize_columns);
    else
      quantize_columns(0, n);
    return;
  }
  std::vector<float>& values = emulated_values_scratch();
  if (emulated) {
    emulated_values(b, ldb, trans_b, k, n, format, values);
    b = values.data();
    ldb = n;
    trans_b = false;
  }
  auto pack_panels = [&](int64_t p0, int64_t p1) {
    const int64_t cols = std::min(n, p1 * uk.nr) - p0 * uk.nr;
    pack_b(b, ldb, trans_b, packed_format, uk, steps, 0, k, p0 * uk.nr, cols,
           p.words_per_panel_, dst + p0 * p.words_per_panel_);
  };
  if (parallel)
    parallel_for(panels, 1, pack_panels);
  else
    pack_panels(0, panels);
}

const uint32_t* PackedB::panel(int64_t p, int64_t k) const {
  return data_.data<uint32_t>() + p * words_per_panel_ + k / k_per_word_ * nr_;
}

}  // namespace tformer::kernels
