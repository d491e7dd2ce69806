// oneDNN's fp32 matmul on a Linear layer's shape, timed the way `tformer bench
// --gemm` times tformer's: C[M,N] = A[M,K]·Wᵀ with W [N,K] reordered once into
// the layout oneDNN picks for it (format_tag::any, as tformer packs W once),
// one call on each of ≥ 256 MB of distinct weight copies per timed pass, the
// time per call the pass's mean. scripts/bench_gemm.sh runs it as an anchor
// next to tformer: the issue asks for oneDNN or tformer's own kernels,
// "whichever measures faster". Not part of the library; needs libdnnl-dev.
//
//   g++ -O2 -fopenmp tools/onednn_gemm_bench.cpp -ldnnl -o onednn_gemm_bench
//   ./onednn_gemm_bench MxNxK THREADS RUNS WARMUP     prints one JSON line
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include <dnnl.hpp>

int main(int argc, char** argv) {
  long long m = 0, n = 0, k = 0;
  if (argc != 5 || std::sscanf(argv[1], "%lldx%lldx%lld", &m, &n, &k) != 3 || m <= 0 || n <= 0 || k <= 0) {
    std::fprintf(stderr, "usage: %s MxNxK THREADS RUNS WARMUP\n", argv[0]);
    return 2;
  }
  const int threads = std::atoi(argv[2]), runs = std::max(1, std::atoi(argv[3])), warmup = std::atoi(argv[4]);
  omp_set_num_threads(threads);

  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  const dnnl::memory::desc a_md({m, k}, dt::f32, tag::ab), c_md({m, n}, dt::f32, tag::ab);
  const dnnl::matmul::primitive_desc pd(
      dnnl::matmul::desc(a_md, dnnl::memory::desc({k, n}, dt::f32, tag::any), c_md), engine);
  const dnnl::matmul matmul(pd);

  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> w(n * k), a(m * k), c(m * n);
  for (float& v : w) v = dist(rng);
  for (float& v : a) v = dist(rng);
  // W [N,K] row-major is the [K,N] matrix of the matmul stored column-major (ba).
  dnnl::memory w_user({{k, n}, dt::f32, tag::ba}, engine, w.data());
  const long long copies = std::clamp((256ll << 20) / (4 * n * k) + 1, 1ll, 4096ll);
  std::vector<dnnl::memory> weights;
  for (long long i = 0; i < copies; ++i) {
    weights.emplace_back(pd.weights_desc(), engine);
    dnnl::reorder(w_user, weights.back()).execute(stream, w_user, weights.back());
  }
  dnnl::memory a_mem(a_md, engine, a.data()), c_mem(c_md, engine, c.data());

  using Clock = std::chrono::steady_clock;
  auto pass = [&] {
    const auto t0 = Clock::now();
    for (const dnnl::memory& wm : weights)
      matmul.execute(stream, {{DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DST, c_mem}});
    stream.wait();
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / static_cast<double>(copies);
  };
  for (int i = 0; i < warmup; ++i) pass();
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) times.push_back(pass());
  std::sort(times.begin(), times.end());
  const double med = runs % 2 ? times[runs / 2] : 0.5 * (times[runs / 2 - 1] + times[runs / 2]);
  const dnnl_version_t* v = dnnl_version();
  std::printf(
      "{\"m\":%lld,\"n\":%lld,\"k\":%lld,\"threads\":%d,\"median_ms\":%.6f,\"min_ms\":%.6f,\"gflops\":%.3f,"
      "\"weight_copies\":%lld,\"runs\":%d,\"impl\":\"%s\",\"version\":\"%d.%d.%d\"}\n",
      m, n, k, threads, med, times.front(), 2.0 * m * n * k / (med * 1e6), copies, runs, pd.impl_info_str(),
      v->major, v->minor, v->patch);
  return 0;
}
