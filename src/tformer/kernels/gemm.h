// GEMM: C[M,N] = alpha · op(A)[M,K] · op(B)[K,N] + beta · C, all row-major fp32.
//   op(A) = A or Aᵀ (trans_a: A is stored [K,M]); op(B) = B or Bᵀ (trans_b: B is
//   stored [N,K], the layout of a PyTorch Linear weight [out, in]).
//
// tformer's own blocked GEMM (the BLIS design): op(B) is packed into panels of
// NR columns and op(A) into panels of MR rows, in cache-sized blocks, and an
// MR × NR register-tile micro-kernel for the CPU's instruction set
// (gemm_kernels.h: AVX-512, AVX2 or portable, chosen at run time, see
// core/cpu.h) computes each tile. A B that is used many times (a Linear
// layer's weight) can be packed once (PackedB) so that each call packs only A,
// and the tiles prefetch the next packed panel while they compute. fp32
// kernels read a row-major A in place (alpha = 1) instead of packing it.
// A packed B may also be bf16 (GemmFormat::BF16): A is then rounded to bf16
// as it is packed and pairs of products accumulate in fp32 (vdpbf16ps), as
// PyTorch's bf16 matmuls do; on CPUs without AVX512-BF16 the weights are
// rounded to bf16 but kept as fp32, and the product runs in fp32.
//
// `gemm` splits the output's tiles over tformer's thread pool; `gemm_serial`
// runs on the calling thread (for callers that already parallelise, e.g. over
// heads). Every output element is one chain of FMAs over k in the same order
// whichever thread computes it, so the result is bit-identical for any thread
// count (it does depend on the ISA).
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "tformer/core/cpu.h"
#include "tformer/core/tensor.h"
#include "tformer/kernels/activations.h"

namespace tformer::kernels {

// INT8: dynamic quantisation as torch.ao.quantization.quantize_dynamic does
// it, with finer scales: B (the weights) s8 with one scale per column (output
// channel), A (the activations) u8 with a scale and zero point per row,
// computed at each call; products summed exactly in int32 (vpdpbusd), then
// rescaled to fp32.
enum class GemmFormat { F32, BF16, INT8 };

struct GemmArgs {
  bool trans_a = false, trans_b = false;
  int64_t m = 0, n = 0, k = 0;
  float alpha = 1.0f;
  const float* a = nullptr;
  int64_t lda = 0;
  const float* b = nullptr;
  int64_t ldb = 0;
  float beta = 0.0f;
  // Best 64-byte aligned with ldc a multiple of 16, as Tensors are: threads
  // split C by columns, and a line that two threads write in turn costs a
  // round trip between their cores each time (7-9 % at 2 threads, measured).
  float* c = nullptr;
  int64_t ldc = 0;
  // Epilogue, applied to each tile of C once its sums are complete, while it
  // is still in cache: C = activation(C + bias), bias [N] added to every row.
  const float* bias = nullptr;
  std::optional<Activation> activation;
  // The products' format when B comes as b (not as a PackedB): BF16 rounds
  // op(A) and op(B) to bf16 at each call and sums the products in fp32, as
  // PyTorch's autocast does for matmuls (mixed-precision training). F32 or
  // BF16 only.
  GemmFormat format = GemmFormat::F32;
};

// op(B) [K, N] packed for one micro-kernel: panels of NR columns, each a
// column-interleaved run of 4-byte words over k (one fp32, or a bf16 pair of
// k and k + 1), zero-padded past N and K. Packing costs a copy of B.
class PackedB {
 public:
  PackedB() = default;
  // op(B) from b, ldb and trans_b as in GemmArgs.
  static PackedB pack(const float* b, int64_t ldb, bool trans_b, int64_t k, int64_t n,
                      Isa isa = active_isa(), GemmFormat format = GemmFormat::F32);
  // The same into this one, reusing its buffer where it is large enough: a
  // GEMM whose B changes at every call (training's) packs into one scratch.
  // parallel false: on the calling thread only (gemm_serial).
  void repack(const float* b, int64_t ldb, bool trans_b, int64_t k, int64_t n, Isa isa = active_isa(),
              GemmFormat format = GemmFormat::F32, bool parallel = true);
  bool empty() const { return n_ == 0; }
  int64_t k() const { return k_; }
  int64_t n() const { return n_; }
  Isa isa() const { return isa_; }
  // The format the kernels compute in (BF16 only where the CPU has AVX512-BF16).
  GemmFormat format() const { return format_; }
  // Panel p, from its k-th value (k a multiple of the format's k per word).
  const uint32_t* panel(int64_t p, int64_t k = 0) const;
  int64_t panel_stride() const { return words_per_panel_; }  // words from one panel to the next
  // INT8: each column's scale and sum of its s8 values ([N], padded to the panels).
  const float* col_scale() const { return col_scale_.data<float>(); }
  const int32_t* col_sum() const { return col_sum_.data<int32_t>(); }

 private:
  int64_t k_ = 0, n_ = 0, words_per_panel_ = 0;
  int nr_ = 0, k_per_word_ = 1;
  Isa isa_ = Isa::Generic;
  GemmFormat format_ = GemmFormat::F32;
  Tensor data_, col_scale_, col_sum_;
};

void gemm(const GemmArgs& args);
void gemm_serial(const GemmArgs& args);
// Sizes the calling thread's scratch for fp32 GEMMs with the active ISA
// (each thread keeps its own, grown on first use). Work handed out to
// whichever thread comes free calls it on every thread that takes part, so
// that a thread's first share of some later call does not allocate.
void reserve_gemm_scratch();
// With op(B) already packed: args.b, ldb, trans_b, n and k are taken from `b`.
void gemm(const GemmArgs& args, const PackedB& b);
// The same with a given ISA's micro-kernel (tests and benchmarks compare them).
void gemm(const GemmArgs& args, Isa isa);

// What computes GEMMs, for reports: "tformer avx512 (12x32 tiles)".
std::string gemm_backend();

// y[M,N] = activation(x[M,K] · Wᵀ + bias), with W stored [N,K] (a Linear
// layer); bias may be null, activation absent; products in `format` (see
// GemmArgs::format).
void linear(const float* x, int64_t m, int64_t k, const float* weight, const float* bias, int64_t n,
            float* y, std::optional<Activation> activation = std::nullopt,
            GemmFormat format = GemmFormat::F32);
// The same with W packed (PackedB::pack(weight, k, /*trans_b=*/true, k, n)).
void linear(const float* x, int64_t m, const PackedB& weight, const float* bias, float* y,
            std::optional<Activation> activation = std::nullopt);

}  // namespace tformer::kernels
