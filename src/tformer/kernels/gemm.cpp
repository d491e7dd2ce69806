#include "tformer/kernels/gemm.h"

#include <algorithm>
#include <vector>

#include "tformer/core/error.h"
#include "tformer/core/thread_pool.h"
#include "tformer/kernels/gemm_kernels.h"
#include "tformer/kernels/gemm_pack.h"

namespace tformer::kernels {

namespace {
using detail::GemmMicroKernel;
using detail::aligned_scratch;
using detail::kKc;
using detail::kMc;
using detail::kNc;
using detail::micro_kernel;
using detail::pack_a;
using detail::pack_a_int8;
using detail::pack_b;
using detail::packed_steps;

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
  // One tile row of A against packed weights (a decode step's GEMV): A's
  // row stays in L1 whatever its length, so the k block is all of K, and
  // each panel, then the next one beside it, streams from memory in one
  // sequential run instead of a kc-long run per panel and k block. The sums
  // are the same chains either way.
  if (packed && g.m <= uk.mr) b.kc = g.k;
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
  // Small problems are not worth waking the workers (12-38 µs), nor packing
  // all of B: 2^18 multiply-adds take ~2 µs on one core (stories260K's LM
  // head in a decode step is 2^15; at 2 threads it ran at half speed).
  const bool small = g.m * g.n * g.k < (1 << 18);
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
