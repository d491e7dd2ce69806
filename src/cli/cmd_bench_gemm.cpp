// tformer bench --gemm MxNxK: times the GEMM of a Linear layer in inference,
// C[M, N] = A[M, K] · Wᵀ with W [N, K] packed once (kernels::PackedB), and
// reports GFLOP/s (2·M·N·K per call) and the weight bytes streamed per second.
//
// The weights cycle through enough distinct matrices to fill at least 256 MB,
// more than any last-level cache, as a model's layers do: a skinny M (decode,
// M = 1..8) is then bound by memory bandwidth, as in a real forward, rather
// than by a cache that one small matrix would fit in. scripts/bench_gemm.sh
// compares both figures with ../shared/anchors' peak.cpp and triad.cpp.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cmd_bench.h"
#include "cli/common.h"
#include "tformer/core/cpu.h"
#include "tformer/core/error.h"
#include "tformer/core/tensor.h"
#include "tformer/core/thread_pool.h"
#include "tformer/kernels/gemm.h"

namespace tformer::cli::bench {

namespace {
struct GemmShape {
  int64_t m = 0, n = 0, k = 0;
};

GemmShape parse_shape(const std::string& text) {
  GemmShape s;
  char x1 = 0, x2 = 0;
  int used = 0;
  long long m = 0, n = 0, k = 0;
  const int got = std::sscanf(text.c_str(), "%lld%c%lld%c%lld%n", &m, &x1, &n, &x2, &k, &used);
  TF_CHECK(got == 5 && x1 == 'x' && x2 == 'x' && used == static_cast<int>(text.size()) && m > 0 && n > 0 &&
               k > 0 && m * n * k <= (1ll << 40),
           "--gemm '" << text << "': expected MxNxK with positive sizes, e.g. 128x768x3072");
  s.m = m;
  s.n = n;
  s.k = k;
  return s;
}
}  // namespace

void run_bench_gemm(const BenchArgs& a) {
  const GemmShape s = parse_shape(a.gemm);
  if (a.threads > 0) ThreadPool::set_num_threads(a.threads);
  const int threads = ThreadPool::global().num_threads();
  const kernels::GemmFormat format = parse_dtype(a.dtype);
  const std::string dtype = a.dtype.empty() ? "fp32" : a.dtype;

  const int64_t weight_bytes =
      s.n * s.k * (format == kernels::GemmFormat::INT8 ? 1 : format == kernels::GemmFormat::BF16 ? 2 : 4);
  const int64_t copies = std::clamp<int64_t>((256ll << 20) / weight_bytes + 1, 1, 4096);
  std::mt19937 rng(static_cast<uint32_t>(a.seed));
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> w(s.n * s.k);
  for (float& v : w) v = dist(rng);
  // Activations as the model holds them: Tensors, 64-byte aligned (a
  // std::vector's block starts 16 bytes into a line, and two threads' column
  // shares of C then share a line at every boundary: 7-9 % slower at 2 threads).
  Tensor x_tensor = Tensor::empty({s.m, s.k}), y_tensor = Tensor::empty({s.m, s.n});
  float *x = x_tensor.data<float>(), *y = y_tensor.data<float>();
  for (int64_t i = 0; i < s.m * s.k; ++i) x[i] = dist(rng);
  std::vector<kernels::PackedB> weights;
  weights.reserve(static_cast<size_t>(copies));
  for (int64_t i = 0; i < copies; ++i)
    weights.push_back(kernels::PackedB::pack(w.data(), s.k, /*trans_b=*/true, s.k, s.n, active_isa(), format));
  std::vector<float>().swap(w);

  // Each timed run is one pass over all copies; per-call time is its mean.
  auto pass = [&] {
    const auto t0 = Clock::now();
    for (const kernels::PackedB& wp : weights) kernels::linear(x, s.m, wp, nullptr, y);
    return ms_since(t0) / static_cast<double>(copies);
  };
  for (int i = 0; i < a.warmup; ++i) pass();
  std::vector<double> times;
  for (int i = 0; i < a.runs; ++i) times.push_back(pass());
  const double med = median(times), best = *std::min_element(times.begin(), times.end());
  const double gflops = 2.0 * s.m * s.n * s.k / (med * 1e6);
  const double gbps = static_cast<double>(weight_bytes) / (med * 1e6);
  const std::string isa(isa_name(active_isa()));

  if (a.json) {
    nlohmann::json j = {{"mode", "gemm"},     {"m", s.m},         {"n", s.n},
                        {"k", s.k},           {"threads", threads}, {"dtype", dtype},
                        {"isa", isa},         {"gemm", kernels::gemm_backend()},
                        {"median_ms", med},   {"min_ms", best},   {"gflops", gflops},
                        {"weight_gbps", gbps}, {"weight_copies", copies}, {"runs", a.runs}};
    std::cout << j.dump() << '\n';
  } else {
    std::printf("gemm        C[%lld,%lld] = A[%lld,%lld] . W^T, W packed, %s, %d thread%s, %s\n",
                static_cast<long long>(s.m), static_cast<long long>(s.n), static_cast<long long>(s.m),
                static_cast<long long>(s.k), dtype.c_str(), threads, threads == 1 ? "" : "s",
                kernels::gemm_backend().c_str());
    std::printf("latency     median %.4f ms, min %.4f ms per call (%d passes over %lld weight copies)\n", med,
                best, a.runs, static_cast<long long>(copies));
    std::printf("throughput  %.1f GFLOP/s, weights streamed at %.1f GB/s\n", gflops, gbps);
  }
}

}  // namespace tformer::cli::bench
