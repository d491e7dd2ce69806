// GEMM: C[M,N] = alpha · op(A)[M,K] · op(B)[K,N] + beta · C, all row-major fp32.
//   op(A) = A or Aᵀ (trans_a: A is stored [K,M]); op(B) = B or Bᵀ (trans_b: B is
//   stored [N,K], the layout of a PyTorch Linear weight [out, in]).
// `gemm` splits the work over tformer's thread pool, in blocks fixed by the
// shape so that the result is the same for any thread count; `gemm_serial`
// runs on the calling thread (for callers that already parallelise, e.g. over
// heads).
// Backed by a single-threaded OpenBLAS today; the interface is tformer's own so
// that its own packed micro-kernels can replace it.
#pragma once
#include <cstdint>
#include <string>

namespace tformer::kernels {

struct GemmArgs {
  bool trans_a = false, trans_b = false;
  int64_t m = 0, n = 0, k = 0;
  float alpha = 1.0f;
  const float* a = nullptr;
  int64_t lda = 0;
  const float* b = nullptr;
  int64_t ldb = 0;
  float beta = 0.0f;
  float* c = nullptr;
  int64_t ldc = 0;
};

void gemm(const GemmArgs& args);
// What computes GEMMs, for reports: "OpenBLAS 0.3.21 (SkylakeX kernels)".
std::string gemm_backend();
void gemm_serial(const GemmArgs& args);

// y[M,N] = x[M,K] · Wᵀ + bias, with W stored [N,K] (a Linear layer); bias may be null.
void linear(const float* x, int64_t m, int64_t k, const float* weight, const float* bias, int64_t n,
            float* y);

}  // namespace tformer::kernels
