#include "tformer/kernels/gemm.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "tformer/core/dtype.h"
#include "tformer/core/error.h"
#include "tformer/core/thread_pool.h"
#include "tformer/kernels/gemm_kernels.h"
#include "tformer/kernels/multiversion.h"
#include "tformer/kernels/vector_math.h"

namespace tformer::kernels {

namespace {
using detail::GemmMicroKernel;

// Cache blocking (BLIS's KC, MC, NC). A KC-deep B micro-panel (KC × NR,
// 32 KB) stays in L1 while the micro-kernel walks the A micro-panels of the
// packed A block (MC × KC, 192 KB) held in L2, as BLIS's macro-kernel does;
// a B block packed per call is KC × NC (768 KB).
// MC and NC are multiples of every kernel's MR and NR.
constexpr int64_t kKc = 256, kMc = 192, kNc = 768;

// Whether bf16 operands get a bf16 kernel at this level (else PackedB rounds
// the weights to bf16 and computes in fp32).
bool has_bf16_kernel(Isa isa) {
  return isa == Isa::Amx || (isa == Isa::Avx512 && cpu_supports_avx512_bf16());
}

// Whether int8 operands get an int8 kernel at this level (else PackedB keeps
// the quantised weights' fp32 values and computes in fp32).
bool has_int8_kernel(Isa isa) { return isa >= Isa::Avx512 && cpu_supports_avx512_vnni(); }

const GemmMicroKernel& micro_kernel(Isa isa, GemmFormat format = GemmFormat::F32) {
  // Each kernel is fetched only once its ISA is known to be supported: its
  // translation unit may use that ISA's instructions anywhere.
  if (format == GemmFormat::INT8) {
    TF_CHECK(has_int8_kernel(isa), "gemm: no int8 kernel at level " << isa_name(isa));
    if (isa == Isa::Amx && cpu_supports_amx_int8()) {
      static const GemmMicroKernel k = detail::gemm_micro_kernel_amx_int8();
      return k;
    }
    static const GemmMicroKernel k = detail::gemm_micro_kernel_avx512_vnni_int8();
    return k;
  }
  if (format == GemmFormat::BF16) {
    TF_CHECK(has_bf16_kernel(isa), "gemm: no bf16 kernel at level " << isa_name(isa));
    if (isa == Isa::Amx) {
      static const GemmMicroKernel k = detail::gemm_micro_kernel_amx_bf16();
      return k;
    }
    static const GemmMicroKernel k = detail::gemm_micro_kernel_avx512_bf16();
    return k;
  }
  switch (isa) {
    case Isa::Amx:  // fp32 has no tile kernel
    case Isa::Avx512: {
      TF_CHECK(cpu_supports(Isa::Avx512), "gemm: this CPU has no AVX-512");
      static const GemmMicroKernel k = detail::gemm_micro_kernel_avx512();
      return k;
    }
    case Isa::Avx2: {
      TF_CHECK(cpu_supports(Isa::Avx2), "gemm: this CPU has no AVX2");
      static const GemmMicroKernel k = detail::gemm_micro_kernel_avx2();
      return k;
    }
    case Isa::Generic:
      break;
  }
  static const GemmMicroKernel k = detail::gemm_micro_kernel_generic();
  return k;
}

// A per-thread, 64-byte-aligned buffer of at least n words that only grows.
uint32_t* aligned_scratch(std::vector<uint32_t>& buffer, int64_t n) {
  if (static_cast<int64_t>(buffer.size()) < n + 16) buffer.resize(n + 16);
  const auto p = reinterpret_cast<uintptr_t>(buffer.data());
  return reinterpret_cast<uint32_t*>((p + 63) & ~uintptr_t(63));
}

uint32_t f32_bits(float v) {
  uint32_t u;
  std::memcpy(&u, &v, 4);
  return u;
}

// The bf16 word of the values of k and k + 1 (the second 0 past K).
uint32_t bf16_pair(float v0, float v1) {
  return uint32_t(f32_to_bf16(v0)) | uint32_t(f32_to_bf16(v1)) << 16;  // k in the low half
}

// Steps (packed words per row or column) that kc values of k take.
int64_t packed_steps(const GemmMicroKernel& uk, int64_t kc) {
  const int64_t steps = (kc + uk.k_per_step - 1) / uk.k_per_step;
  return (steps + uk.step_multiple - 1) / uk.step_multiple * uk.step_multiple;
}

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

// Packs alpha · op(A)[ic : ic+mc, pc : pc+kc] as panels of mr rows: panel p
// at dst + p·mr·steps holds `steps` words for each of mr rows, as [step][row]
// or, for kernels that want rows contiguous, [row][step]; rows past mc and
// steps past kc are zero.
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
                  const float zero = std::clamp(round_even(-lo / scale), 0.0f, 255.0f);
                  for (k = 0; k < n; ++k) {
                    const float q = round_even(alpha * row[k] / scale) + zero;
                    dst[k] = static_cast<uint8_t>(q < 0.0f ? 0.0f : q > 255.0f ? 255.0f : q);
                  }
                  *scale_out = scale;
                  *zero_out = static_cast<int32_t>(zero);
                })

// Quantises alpha · op(A)[ic : ic+mc, 0 : K] row by row (quantize_row_u8)
// and packs it as pack_a does, four values of k per word.
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

// Packs op(B)[pc : pc+kc, jc : jc+nc] as panels of nr columns: panel p at
// dst + p·panel_stride holds `steps` words for each of nr columns, columns
// past nc zero.
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

// The epilogue on one finished tile of C: rows × cols at column j0; the
// bias only where the kernels did not start the sums from it.
void finish_tile(const GemmArgs& g, float* c, int64_t rows, int64_t cols, int64_t j0, bool bias_added = false) {
  for (int64_t i = 0; i < rows; ++i) {
    float* row = c + i * g.ldc;
    if (g.bias && !bias_added)
      for (int64_t j = 0; j < cols; ++j) row[j] += g.bias[j0 + j];
    if (g.activation) activate_serial(*g.activation, row, cols);
  }
}

// How a GEMM is cut into cache blocks for its micro-kernel and operands.
struct Blocking {
  GemmFormat format;
  bool quantized;  // int8 quantises each row of A over all of K, so its k block is all of K
  bool a_in_place;
  int64_t kc;
};

// The k block of a kernel's float GEMMs.
int64_t default_kc(const GemmMicroKernel& uk) { return uk.kc > 0 ? uk.kc : kKc; }

Blocking blocking_of(const GemmArgs& g, const GemmMicroKernel& uk, const PackedB* packed) {
  Blocking b;
  b.format = packed ? packed->format() : GemmFormat::F32;
  b.quantized = b.format == GemmFormat::INT8;
  // Kernels that can read fp32 rows of A where they lie skip packing A: its
  // rows stream through L1 as a packed panel would, and threads that split
  // the columns no longer each repeat the copy. (alpha, a transposed A or
  // another format still need the packing pass.)
  b.a_in_place = uk.reads_a_in_place && b.format == GemmFormat::F32 && !g.trans_a && g.alpha == 1.0f;
  b.kc = b.quantized ? g.k : default_kc(uk);
  return b;
}

// A packed block of A (rows ic .. ic + mc, one k block) as the tiles read
// it, with the rows' quantisation parameters for int8; data null: A is read
// in place.
struct PackedA {
  const uint32_t* data = nullptr;
  const float* row_scale = nullptr;
  const int32_t* row_zero = nullptr;
};

// Packs rows [ic + r0, ic + r1) of the row block at ic (r0 a multiple of MR)
// into the block's buffers, as the block's tiles will read them.
void pack_a_rows(const GemmArgs& g, const GemmMicroKernel& uk, const Blocking& bl, int64_t pc, int64_t kc, int64_t ic,
                 int64_t r0, int64_t r1, uint32_t* block, float* row_scale, int32_t* row_zero) {
  const int64_t steps = packed_steps(uk, kc);
  if (bl.quantized)
    pack_a_int8(g, uk, ic + r0, r1 - r0, block + r0 * steps, row_scale + r0, row_zero + r0);
  else
    pack_a(g, bl.format, uk, ic + r0, r1 - r0, pc, kc, block + r0 * steps);
}

// C[ic : ic+mc, jc : jc+nc] over the k block [pc, pc + kc), A packed (or in
// place), b_block the B panel of column jc in that k block.
void compute_block(const GemmArgs& g, const GemmMicroKernel& uk, const PackedB* packed, const Blocking& bl,
                   const PackedA& a, const uint32_t* b_block, int64_t panel_stride, int64_t pc, int64_t kc,
                   int64_t ic, int64_t mc, int64_t jc, int64_t nc) {
  const int mr = uk.mr, nr = uk.nr;
  const int64_t steps = packed_steps(uk, kc);
  const bool accumulate = pc > 0 || g.beta != 0.0f;
  // The kernels start the sums from the bias when C's old values do not.
  const bool bias_in_kernel = g.bias && g.beta == 0.0f;
  const bool last = pc + kc == g.k, epilogue = last && ((g.bias && !bias_in_kernel) || g.activation);
  const int64_t tiles = (mc + mr - 1) / mr, panel_bytes = steps * nr * 4;
  for (int64_t jr = 0; jr < nc; jr += nr) {
    const uint32_t* b_panel = b_block + (jr / nr) * panel_stride;
    // A packed B comes from memory (the weights outgrow the caches):
    // this panel's tiles prefetch the next one, each its share.
    const uint32_t* next_panel = nullptr;
    if (packed && jr + nr < nc)
      next_panel = b_panel + panel_stride;
    else if (packed && pc + kc < g.k)
      next_panel = packed->panel(jc / nr, pc + kc);
    const int64_t lines_per_tile = next_panel ? (panel_bytes / 64 + tiles - 1) / tiles : 0;
    for (int64_t ir = 0; ir < mc; ir += mr) {
      detail::GemmTile t;
      t.steps = steps;
      t.a = a.data ? static_cast<const void*>(a.data + ir * steps) : g.a + (ic + ir) * g.lda + pc;
      t.lda = a.data ? 0 : g.lda;
      t.b = b_panel;
      t.c = g.c + (ic + ir) * g.ldc + jc + jr;
      t.ldc = g.ldc;
      t.rows = static_cast<int>(std::min<int64_t>(mr, mc - ir));
      t.cols = static_cast<int>(std::min<int64_t>(nr, nc - jr));
      t.accumulate = accumulate;
      if (bias_in_kernel && pc == 0) t.bias = g.bias + jc + jr;
      if (next_panel) {
        const int64_t first = ir / mr * lines_per_tile;
        t.prefetch = reinterpret_cast<const char*>(next_panel) + 64 * first;
        t.prefetch_lines = std::clamp<int64_t>(panel_bytes / 64 - first, 0, lines_per_tile);
      }
      // The next tile of this block: down the panel, else the next panel's first.
      if (ir + mr < mc)
        t.c_next = t.c + mr * g.ldc;
      else if (jr + nr < nc)
        t.c_next = g.c + ic * g.ldc + jc + jr + nr;
      if (bl.quantized)
        uk.run_quantized(t, {a.row_scale + ir, a.row_zero + ir, packed->col_scale() + jc + jr,
                             packed->col_sum() + jc + jr});
      else
        uk.run(t);
      if (epilogue) finish_tile(g, t.c, t.rows, t.cols, jc + jr, bias_in_kernel);
    }
  }
}

// Per-thread buffers for a packed A block (kMc rows) and its row parameters.
struct ABuffers {
  std::vector<uint32_t> words;
  std::vector<float> row_scale = std::vector<float>(kMc);
  std::vector<int32_t> row_zero = std::vector<int32_t>(kMc);
};

// gemm_range's buffers on the calling thread: a block of A and, for an
// unpacked B, a block of B.
struct RangeBuffers {
  ABuffers a;
  std::vector<uint32_t> b;
  // Blocks for a k block of kc values with the kernel uk: kMc rows of A, kNc columns of B.
  uint32_t* a_block(const GemmMicroKernel& uk, int64_t kc) {
    return aligned_scratch(a.words, kMc * packed_steps(uk, kc));
  }
  uint32_t* b_block(const GemmMicroKernel& uk, int64_t kc) { return aligned_scratch(b, packed_steps(uk, kc) * kNc); }
};
RangeBuffers& range_buffers() {
  thread_local RangeBuffers buffers;
  return buffers;
}

// C[m0 : m1, n0 : n1] of the GEMM on the calling thread, which packs its
// own A; n0 is a multiple of the kernel's NR. With `packed`, op(B) comes
// from it instead of g.b.
void gemm_range(const GemmArgs& g, const GemmMicroKernel& uk, const PackedB* packed, int64_t m0, int64_t m1,
                int64_t n0, int64_t n1) {
  RangeBuffers& buffers = range_buffers();
  ABuffers& a_buffers = buffers.a;
  const int nr = uk.nr;
  const Blocking bl = blocking_of(g, uk, packed);
  uint32_t* a_block = buffers.a_block(uk, bl.kc);
  uint32_t* b_scratch = packed ? nullptr : buffers.b_block(uk, bl.kc);
  const PackedA a{bl.a_in_place ? nullptr : a_block, a_buffers.row_scale.data(), a_buffers.row_zero.data()};
  // A B packed ahead needs no NC blocking of its own: A is then packed once per k block.
  const int64_t nc_block = packed ? n1 - n0 : kNc;
  for (int64_t jc = n0; jc < n1; jc += nc_block) {
    const int64_t nc = std::min(nc_block, n1 - jc);
    for (int64_t pc = 0; pc < g.k; pc += bl.kc) {  // the k block is a multiple of every k_per_step
      const int64_t kc = std::min(bl.kc, g.k - pc), steps = packed_steps(uk, kc);
      const uint32_t* b_block;
      int64_t panel_stride;
      if (packed) {
        b_block = packed->panel(jc / nr, pc);
        panel_stride = packed->panel_stride();
      } else {
        pack_b(g.b, g.ldb, g.trans_b, bl.format, uk, steps, pc, kc, jc, nc, steps * nr, b_scratch);
        b_block = b_scratch;
        panel_stride = steps * nr;
      }
      for (int64_t ic = m0; ic < m1; ic += kMc) {
        const int64_t mc = std::min(kMc, m1 - ic);
        if (!bl.a_in_place)
          pack_a_rows(g, uk, bl, pc, kc, ic, 0, mc, a_block, a_buffers.row_scale.data(), a_buffers.row_zero.data());
        compute_block(g, uk, packed, bl, a, b_block, panel_stride, pc, kc, ic, mc, jc, nc);
      }
    }
  }
}

// Column shares enough for about four blocks of m rows per thread, so that
// a slowed thread's blocks can go to the other; at least one per thread,
// none narrower than a panel. (BERT-base at 2 threads, interleaved
// in-process: median forward fp32 -10..14 % at batch 1 and 8, bf16 and
// int8 at batch 8 -4..16 %; in the host's quiet phases from equal to 4 %
// slower, the cost of the finer blocks when nothing needs rebalancing.)
int64_t balancing_shares(int64_t m, int64_t n_panels, int threads) {
  if (threads == 1) return 1;
  const int64_t row_blocks = (m + kMc - 1) / kMc;
  return std::min<int64_t>(n_panels, std::max<int64_t>(threads, (4 * threads + row_blocks - 1) / row_blocks));
}

// The GEMM over `threads` threads with a packed B and an A that needs
// packing (bf16, int8): each block of A is packed once, its rows shared out
// between the threads, and then the threads split the block's columns. Each
// thread thus converts only its share of A and streams only its share of
// the weights (splitting columns alone made every thread convert all of A;
// splitting rows alone made every thread stream all of the weights).
void gemm_shared_a(const GemmArgs& g, const GemmMicroKernel& uk, const PackedB& packed, int threads) {
  thread_local ABuffers shared;
  const Blocking bl = blocking_of(g, uk, &packed);
  const int mr = uk.mr, nr = uk.nr;
  // The workers reach the calling thread's buffers through these pointers
  // (in a worker, `shared` would name that worker's own, unconstructed copy).
  uint32_t* a_block = aligned_scratch(shared.words, kMc * packed_steps(uk, bl.kc));
  float* row_scale = shared.row_scale.data();
  int32_t* row_zero = shared.row_zero.data();
  const PackedA a{a_block, row_scale, row_zero};
  const int64_t n_panels = (g.n + nr - 1) / nr;
  for (int64_t pc = 0; pc < g.k; pc += bl.kc) {
    const int64_t kc = std::min(bl.kc, g.k - pc);
    for (int64_t ic = 0; ic < g.m; ic += kMc) {
      const int64_t mc = std::min(kMc, g.m - ic), m_panels = (mc + mr - 1) / mr;
      parallel_for(m_panels, 1, [&](int64_t p0, int64_t p1) {
        pack_a_rows(g, uk, bl, pc, kc, ic, p0 * mr, std::min(mc, p1 * mr), a_block, row_scale, row_zero);
      });
      // The column shares go to threads as they come free, as gemm_blocks's blocks do.
      const int64_t parts = balancing_shares(mc, n_panels, threads);
      parallel_for_dynamic(parts, [&](int64_t t) {
        const int64_t jc = n_panels * t / parts * nr, jc_end = std::min(g.n, n_panels * (t + 1) / parts * nr);
        compute_block(g, uk, &packed, bl, a, packed.panel(jc / nr, pc), packed.panel_stride(), pc, kc, ic, mc, jc,
                      jc_end - jc);
      });
    }
  }
}

// C as blocks of a row block (kMc rows) by one of `shares` shares of the
// columns, each computed by gemm_range; block u is row block u / shares,
// share u % shares, so that the threads work on the same rows of A at the
// same time. With several threads the blocks are handed out as threads come
// free (parallel_for_dynamic): a static split waited at each GEMM for
// whichever core the host had slowed (on this project's 2-vCPU machine one
// thread's share of a GEMM took up to 1.5-1.8 × as long as the other's, for
// seconds at a time).
void gemm_blocks(const GemmArgs& g, const GemmMicroKernel& uk, const PackedB* packed, int threads, int64_t shares) {
  const int64_t n_panels = (g.n + uk.nr - 1) / uk.nr, row_blocks = (g.m + kMc - 1) / kMc;
  auto block = [&](int64_t u) {
    const int64_t ib = u / shares, j = u % shares;
    gemm_range(g, uk, packed, ib * kMc, std::min(g.m, (ib + 1) * kMc), n_panels * j / shares * uk.nr,
               std::min(g.n, n_panels * (j + 1) / shares * uk.nr));
  };
  const int64_t blocks = row_blocks * shares;
  if (threads == 1) {  // gemm_serial: on the calling thread only
    for (int64_t u = 0; u < blocks; ++u) block(u);
  } else {
    parallel_for_dynamic(blocks, reserve_gemm_scratch, block);
  }
}

// op(B) of a GEMM whose B comes unpacked, packed in `format` into the
// calling thread's scratch (the threads sharing that work when parallel);
// gp becomes the GEMM with B taken from it. The workers reach the scratch
// through the returned reference. (gemm_shared_b and gemm_bf16_b share the
// one scratch: a GEMM from packed B never comes back here.)
const PackedB& pack_b_for_call(const GemmArgs& g, Isa isa, GemmFormat format, bool parallel, GemmArgs& gp) {
  thread_local PackedB scratch;
  scratch.repack(g.b, g.ldb, g.trans_b, g.k, g.n, isa, format, parallel);
  gp = g;
  gp.b = nullptr;
  gp.trans_b = false;
  gp.format = GemmFormat::F32;  // the packed B's own format is what counts from here
  return scratch;
}

// The GEMM with a B that comes unpacked (training's weights and
// activations, which change at every call), tall or split between threads:
// all of op(B) is packed once into the calling thread's scratch (the
// threads sharing that work), then its blocks are computed as from packed
// weights (gemm_blocks), whose next panel each tile prefetches. Even on
// one thread that beat packing B again for each k block and column block
// (BERT-base training shapes, T = 2048: +5..15 %, interleaved A/B).
void gemm_shared_b(const GemmArgs& g, const GemmMicroKernel& uk, Isa isa, int threads) {
  GemmArgs gp;
  const PackedB* packed = &pack_b_for_call(g, isa, GemmFormat::F32, threads > 1, gp);
  const int64_t n_panels = (g.n + uk.nr - 1) / uk.nr, row_blocks = (g.m + kMc - 1) / kMc;
  // An A that needs packing (transposed: dW = dYᵀ·X) is packed by each
  // block that reads it, so blocks then take whole rows of C, where there
  // are enough of them to share out.
  const bool whole_rows = !blocking_of(g, uk, packed).a_in_place && row_blocks >= 2 * threads;
  gemm_blocks(gp, uk, packed, threads, whole_rows ? 1 : balancing_shares(g.m, n_panels, threads));
}

// C = beta · C where the products cannot contribute (k = 0), or as the
// starting value that the kernels accumulate onto (beta ∉ {0, 1}).
void scale_c(const GemmArgs& g, float beta) {
  for (int64_t i = 0; i < g.m; ++i) {
    float* row = g.c + i * g.ldc;
    for (int64_t j = 0; j < g.n; ++j) row[j] = beta == 0.0f ? 0.0f : beta * row[j];
  }
}

void run_gemm(const GemmArgs& args, Isa isa, const PackedB* packed, bool parallel);

// A GEMM in bf16 whose B comes unpacked (mixed-precision training): op(B) is
// packed in bf16 once per call, and the GEMM runs as from packed bf16
// weights, which rounds A to bf16 as it packs it.
void gemm_bf16_b(const GemmArgs& g, Isa isa, bool parallel) {
  GemmArgs gp;
  const PackedB& packed = pack_b_for_call(g, isa, GemmFormat::BF16, parallel, gp);
  run_gemm(gp, isa, &packed, parallel);
}

void run_gemm(const GemmArgs& args, Isa isa, const PackedB* packed, bool parallel) {
  if (!packed && args.format != GemmFormat::F32) {
    TF_CHECK(args.format == GemmFormat::BF16, "gemm: an unpacked B computes in fp32 or bf16, not int8");
    if (args.m > 0 && args.n > 0 && args.k > 0) return gemm_bf16_b(args, isa, parallel);
  }
  const GemmMicroKernel& uk = packed ? micro_kernel(packed->isa(), packed->format()) : micro_kernel(isa);
  if (args.m == 0 || args.n == 0) return;
  GemmArgs g = args;
  if (g.k == 0) {
    scale_c(g, g.beta);
    for (int64_t i = 0; i < g.m; i += kMc) finish_tile(g, g.c + i * g.ldc, std::min(kMc, g.m - i), g.n, 0);
    return;
  }
  if (g.beta != 0.0f && g.beta != 1.0f) {
    scale_c(g, g.beta);
    g.beta = 1.0f;
  }
  // Small problems are not worth waking the workers, nor packing all of B.
  const bool small = g.m * g.n * g.k < (1 << 15);
  const int threads = parallel && !small ? ThreadPool::global().num_threads() : 1;
  const int64_t n_panels = (g.n + uk.nr - 1) / uk.nr, m_panels = (g.m + uk.mr - 1) / uk.mr;
  // Split between threads by columns (in whole NR panels) when there are
  // enough of them, else by rows. Any split gives the same result: each
  // element is computed the same way by whichever thread owns it.
  const bool split_n = n_panels >= 2 * threads || n_panels >= m_panels;
  if (!packed && !small && (g.m > kMc || (threads > 1 && split_n)))
    return gemm_shared_b(g, uk, isa, threads);
  if (threads == 1) return gemm_range(g, uk, packed, 0, g.m, 0, g.n);
  // A packed B whose A needs packing shares the packed A between the threads.
  if (packed && !blocking_of(g, uk, packed).a_in_place && n_panels >= threads)
    return gemm_shared_a(g, uk, *packed, threads);
  if (packed && split_n) return gemm_blocks(g, uk, packed, threads, balancing_shares(g.m, n_panels, threads));
  // What is left has too few column panels to share (an unpacked B that
  // splits by columns went to gemm_shared_b): the threads split the rows.
  const int64_t parts = std::min<int64_t>(threads, m_panels);
  parallel_for(parts, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t lo = m_panels * t / parts, hi = m_panels * (t + 1) / parts;
      gemm_range(g, uk, packed, lo * uk.mr, std::min(g.m, hi * uk.mr), 0, g.n);
    }
  });
}

}  // namespace

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
    const float q = round_even(v[k] / scale);
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

PackedB PackedB::pack(const float* b, int64_t ldb, bool trans_b, int64_t k, int64_t n, Isa isa,
                      GemmFormat format) {
  PackedB p;
  p.repack(b, ldb, trans_b, k, n, isa, format);
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
  thread_local std::vector<float> values;
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

void reserve_gemm_scratch() {
  const GemmMicroKernel& uk = micro_kernel(active_isa());
  RangeBuffers& buffers = range_buffers();
  buffers.a_block(uk, default_kc(uk));
  buffers.b_block(uk, default_kc(uk));
}

void gemm(const GemmArgs& g) { run_gemm(g, active_isa(), nullptr, true); }
void gemm_serial(const GemmArgs& g) { run_gemm(g, active_isa(), nullptr, false); }
void gemm(const GemmArgs& g, Isa isa) { run_gemm(g, isa, nullptr, true); }

void gemm(const GemmArgs& args, const PackedB& b) {
  GemmArgs g = args;
  g.trans_b = false;
  g.b = nullptr;
  g.k = b.k();
  g.n = b.n();
  run_gemm(g, b.isa(), &b, true);
}

std::string gemm_backend() {
  const GemmMicroKernel& uk = micro_kernel(active_isa());
  return "tformer " + std::string(isa_name(active_isa())) + " (" + std::to_string(uk.mr) + "x" +
         std::to_string(uk.nr) + " tiles)";
}

void linear(const float* x, int64_t m, int64_t k, const float* weight, const float* bias, int64_t n,
            float* y, std::optional<Activation> activation, GemmFormat format) {
  GemmArgs g;
  g.format = format;
  g.trans_b = true;
  g.m = m;
  g.n = n;
  g.k = k;
  g.a = x;
  g.lda = k;
  g.b = weight;
  g.ldb = k;
  g.c = y;
  g.ldc = n;
  g.bias = bias;
  g.activation = activation;
  gemm(g);
}

void linear(const float* x, int64_t m, const PackedB& weight, const float* bias, float* y,
            std::optional<Activation> activation) {
  GemmArgs g;
  g.m = m;
  g.a = x;
  g.lda = weight.k();
  g.c = y;
  g.ldc = weight.n();
  g.bias = bias;
  g.activation = activation;
  gemm(g, weight);
}

}  // namespace tformer::kernels
