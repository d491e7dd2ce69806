#include "tformer/kernels/gemm.h"

#include <cblas.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>

#include "tformer/core/cpu.h"
#include "tformer/core/thread_pool.h"

namespace tformer::kernels {

namespace {
// Debian 12's OpenBLAS (0.3.21) picks its kernels by CPU model number and, on
// a CPU newer than it knows, falls back to its SSE3 "Prescott" kernels: a
// quarter of the speed on this project's AVX-512 machines. It reads
// OPENBLAS_CORETYPE while it initialises, in a constructor that runs before
// main, so tformer names the kernel family from the CPU's features in an
// earlier constructor. A value the user set is left alone.
__attribute__((constructor(101))) void choose_openblas_kernels() {
  __builtin_cpu_init();  // constructors may run before the compiler's own CPU probe
  const char* family = cpu_supports(Isa::Avx512) ? "SkylakeX" : cpu_supports(Isa::Avx2) ? "Haswell" : nullptr;
  if (family) setenv("OPENBLAS_CORETYPE", family, /*overwrite=*/0);
}

// OpenBLAS must run each call on the calling thread: tformer's pool already
// runs one call per core. Set on first use, after OpenBLAS's own start-up.
void make_blas_single_threaded() {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}
}  // namespace

void gemm_serial(const GemmArgs& g) {
  if (g.m == 0 || g.n == 0) return;
  make_blas_single_threaded();
  cblas_sgemm(CblasRowMajor, g.trans_a ? CblasTrans : CblasNoTrans,
              g.trans_b ? CblasTrans : CblasNoTrans, static_cast<blasint>(g.m),
              static_cast<blasint>(g.n), static_cast<blasint>(g.k), g.alpha, g.a,
              static_cast<blasint>(g.lda), g.b, static_cast<blasint>(g.ldb), g.beta, g.c,
              static_cast<blasint>(g.ldc));
}

std::string gemm_backend() {
  // openblas_get_config(): "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64"
  std::string config = openblas_get_config();
  const size_t name_end = config.find(' ', config.find(' ') + 1);
  return config.substr(0, name_end) + " (" + openblas_get_corename() + " kernels)";
}

void gemm(const GemmArgs& g) {
  // Small problems are not worth waking the workers.
  if (g.m * g.n * g.k < (1 << 15)) return gemm_serial(g);
  // Split the output into fixed blocks that depend on the shape only, never on
  // the thread count: each block is one serial GEMM, whichever thread runs
  // it, so the result is bit-identical for any number of threads (OpenBLAS's
  // summation order depends on the sizes it is given). Columns are preferred:
  // a column block packs only its own slice of B.
  constexpr int64_t kColBlock = 128, kRowBlock = 64;
  const bool split_cols = g.n >= 2 * kColBlock || g.n >= g.m;
  const int64_t extent = split_cols ? g.n : g.m, block = split_cols ? kColBlock : kRowBlock;
  const int64_t blocks = (extent + block - 1) / block;
  if (blocks == 1) return gemm_serial(g);
  parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t lo = b * block, len = std::min(extent, lo + block) - lo;
      GemmArgs part = g;
      if (split_cols) {
        part.n = len;
        part.b = g.trans_b ? g.b + lo * g.ldb : g.b + lo;
        part.c = g.c + lo;
      } else {
        part.m = len;
        part.a = g.trans_a ? g.a + lo : g.a + lo * g.lda;
        part.c = g.c + lo * g.ldc;
      }
      gemm_serial(part);
    }
  });
}

void linear(const float* x, int64_t m, int64_t k, const float* weight, const float* bias, int64_t n,
            float* y) {
  GemmArgs g;
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
  if (bias) {
    for (int64_t i = 0; i < m; ++i) std::copy(bias, bias + n, y + i * n);
    g.beta = 1.0f;
  }
  gemm(g);
}

}  // namespace tformer::kernels
