// tformer's GEMM against a double-precision reference, through every
// micro-kernel this CPU can run (AVX-512, AVX2, portable): all transposes,
// alpha and beta, padded leading dimensions, shapes that leave partial tiles
// and cross the cache blocks (M > MC, K > KC, N > NC), packed B operands, and
// thread-count independence.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <thread>

#include "backward_check.h"
#include "test_util.h"
#include "tformer/core/cpu.h"
#include "tformer/core/dtype.h"
#include "tformer/core/thread_pool.h"
#include "tformer/kernels/gemm.h"

using namespace tformer;
using namespace tformer::kernels;
using tformer::testing::expect_close;
using tformer::testing::random_floats;
using tformer::testing::supported_isas;

namespace {

// One GEMM problem with leading dimensions padded by `pad`, so that strides
// differ from the logical sizes.
struct Problem {
  bool ta = false, tb = false;
  int64_t m, n, k, pad = 0;
  float alpha = 1.0f, beta = 0.0f;
  std::vector<float> a, b, c0;

  Problem(bool ta_, bool tb_, int64_t m_, int64_t n_, int64_t k_, uint32_t seed, int64_t pad_ = 0)
      : ta(ta_), tb(tb_), m(m_), n(n_), k(k_), pad(pad_),
        a(random_floats((ta ? k : m) * lda(), seed)), b(random_floats((tb ? n : k) * ldb(), seed + 1)),
        c0(random_floats(m * ldc(), seed + 2)) {}
  int64_t lda() const { return (ta ? m : k) + pad; }
  int64_t ldb() const { return (tb ? k : n) + pad; }
  int64_t ldc() const { return n + pad; }
  std::string name() const {
    return std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k) + " ta=" + std::to_string(ta) +
           " tb=" + std::to_string(tb) + " pad=" + std::to_string(pad) + " beta=" + std::to_string(beta);
  }
  GemmArgs args(float* c) const {
    GemmArgs g;
    g.trans_a = ta;
    g.trans_b = tb;
    g.m = m;
    g.n = n;
    g.k = k;
    g.alpha = alpha;
    g.a = a.data();
    g.lda = lda();
    g.b = b.data();
    g.ldb = ldb();
    g.beta = beta;
    g.c = c;
    g.ldc = ldc();
    return g;
  }
  // The logical C (padding columns dropped).
  std::vector<float> logical(const std::vector<float>& c) const {
    std::vector<float> out;
    for (int64_t i = 0; i < m; ++i) out.insert(out.end(), c.begin() + i * ldc(), c.begin() + i * ldc() + n);
    return out;
  }
  std::vector<float> reference() const {
    std::vector<float> c(m * n);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (int64_t p = 0; p < k; ++p)
          s += double(ta ? a[p * lda() + i] : a[i * lda() + p]) * (tb ? b[j * ldb() + p] : b[p * ldb() + j]);
        c[i * n + j] = static_cast<float>(alpha * s + (beta == 0.0f ? 0.0 : double(beta) * c0[i * ldc() + j]));
      }
    return c;
  }
  template <class Run>
  std::vector<float> run(Run&& gemm_call) const {
    std::vector<float> c = c0;
    gemm_call(args(c.data()));
    // Padding columns are never written.
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = n; j < ldc(); ++j) EXPECT_EQ(c[i * ldc() + j], c0[i * ldc() + j]) << name();
    return logical(c);
  }
};

// Shapes that leave partial register tiles for every kernel and cross each
// cache block: M > MC (192), K > KC (256; 1024 for the AMX kernel), N > NC (768).
const int64_t kShapes[][3] = {{1, 1, 1},      {1, 97, 33},   {37, 1, 50},    {65, 130, 17}, {200, 300, 64},
                              {8, 770, 129},  {230, 40, 600}, {13, 800, 260}, {35, 70, 1100}};

// Variant t < 4 of a shape: each transpose of A and B, with beta 0, 1 and
// -0.75, alpha 0.5 once and padded leading dimensions once.
Problem variant(const int64_t (&s)[3], int t, uint32_t seed) {
  Problem p(t & 1, t & 2, s[0], s[1], s[2], seed, /*pad=*/t == 3 ? 5 : 0);
  p.alpha = t == 2 ? 0.5f : 1.0f;
  p.beta = t == 0 ? 0.0f : t == 1 ? 1.0f : -0.75f;
  return p;
}
}  // namespace

TEST(Gemm, EveryIsaMatchesReferenceForAllTransposesAlphaBetaAndStrides) {
  uint32_t seed = 1;
  for (Isa isa : supported_isas())
    for (auto& s : kShapes)
      for (int t = 0; t < 4; ++t) {
        const Problem p = variant(s, t, seed += 3);
        expect_close(p.run([&](const GemmArgs& g) { gemm(g, isa); }), p.reference(), 1e-4, 1e-4,
                     std::string(isa_name(isa)) + " " + p.name());
      }
}

TEST(Gemm, DefaultAndSerialEntryPointsUseTheActiveIsa) {
  Problem p(false, true, 70, 90, 300, 11);
  const auto with_active = p.run([](const GemmArgs& g) { gemm(g, active_isa()); });
  EXPECT_EQ(p.run([](const GemmArgs& g) { gemm(g); }), with_active);
  EXPECT_EQ(p.run([](const GemmArgs& g) { gemm_serial(g); }), with_active);
  EXPECT_NE(gemm_backend().find(std::string(isa_name(active_isa()))), std::string::npos) << gemm_backend();
}

TEST(Gemm, EmptyInnerDimensionScalesC) {
  for (Isa isa : supported_isas()) {
    Problem p(false, false, 5, 7, 0, 3);
    p.beta = 0.5f;
    expect_close(p.run([&](const GemmArgs& g) { gemm(g, isa); }), p.reference(), 0, 0, "k = 0, beta 0.5");
    p.beta = 0.0f;
    expect_close(p.run([&](const GemmArgs& g) { gemm(g, isa); }), p.reference(), 0, 0, "k = 0, beta 0");
  }
}

TEST(Gemm, IsBitIdenticalForAnyThreadCount) {
  // Shapes of BERT training: row-split (tall) and column-split, transposed operands.
  const int64_t shapes[][3] = {{32, 32, 320}, {130, 770, 96}, {700, 48, 64}, {2048, 96, 32}};
  for (Isa isa : supported_isas())
    for (auto& s : shapes)
      for (int t = 0; t < 4; ++t) {
        Problem p(t & 1, t & 2, s[0], s[1], s[2], 7);
        auto run = [&](int threads) {
          ThreadPool::set_num_threads(threads);
          return p.run([&](const GemmArgs& g) { gemm(g, isa); });
        };
        EXPECT_EQ(run(1), run(3)) << isa_name(isa) << " " << p.name();
      }
  ThreadPool::set_num_threads(ThreadPool::default_num_threads());
}

TEST(Gemm, PackedFormatsAreBitIdenticalForAnyThreadCount) {
  // With 2 and 3 threads, blocks of A needing packing (bf16, int8, fp32
  // with alpha) are packed once and shared between the threads; an fp32 A
  // read in place (alpha 1) goes out in blocks of rows × column shares, as
  // threads come free (one row block and several, a partial one last).
  const int64_t shapes[][3] = {{8, 770, 96}, {130, 300, 1100}, {400, 64, 64}, {500, 640, 96}};
  for (Isa isa : supported_isas())
    for (GemmFormat format : {GemmFormat::F32, GemmFormat::BF16, GemmFormat::INT8})
      for (float alpha : {1.0f, 0.5f})
        for (auto& s : shapes) {
          if (format == GemmFormat::INT8 && alpha != 1.0f) continue;
          Problem p(false, true, s[0], s[1], s[2], 81);
          p.alpha = alpha;
          const std::vector<float> bias = random_floats(p.n, 82);
          const PackedB packed = PackedB::pack(p.b.data(), p.ldb(), p.tb, p.k, p.n, isa, format);
          auto run = [&](int threads) {
            ThreadPool::set_num_threads(threads);
            return p.run([&](GemmArgs g) {
              g.bias = bias.data();
              g.activation = kernels::Activation::Gelu;
              gemm(g, packed);
            });
          };
          const auto one = run(1);
          EXPECT_EQ(one, run(2)) << isa_name(isa) << " " << p.name();
          EXPECT_EQ(one, run(3)) << isa_name(isa) << " " << p.name();
        }
  ThreadPool::set_num_threads(ThreadPool::default_num_threads());
}

TEST(Gemm, PackedBGivesTheSameBitsAsPackingPerCall) {
  for (Isa isa : supported_isas())
    for (auto& s : kShapes)
      for (int tb = 0; tb < 2; ++tb) {
        Problem p(false, tb, s[0], s[1], s[2], 21, /*pad=*/3);
        p.beta = 1.0f;
        const PackedB packed = PackedB::pack(p.b.data(), p.ldb(), p.tb, p.k, p.n, isa);
        EXPECT_EQ(p.run([&](const GemmArgs& g) { gemm(g, packed); }),
                  p.run([&](const GemmArgs& g) { gemm(g, isa); }))
            << isa_name(isa) << " " << p.name();
      }
}

namespace {
std::vector<float> round_bf16(std::vector<float> v) {
  for (float& x : v) x = bf16_to_f32(f32_to_bf16(x));
  return v;
}
bool has_bf16_kernel(Isa isa) { return isa == Isa::Amx || (isa == Isa::Avx512 && cpu_supports_avx512_bf16()); }
}  // namespace

TEST(Gemm, Bf16PackedBMatchesTheProductOfRoundedOperands) {
  // With AVX512-BF16 both operands are rounded to bf16 and the products summed
  // in fp32; elsewhere the weights are rounded and A stays fp32. Odd K checks
  // the zero padding of the last bf16 pair.
  for (Isa isa : supported_isas())
    for (auto& s : kShapes)
      for (int tb = 0; tb < 2; ++tb) {
        Problem p(false, tb, s[0], s[1], s[2], 41, /*pad=*/1);
        p.alpha = 0.5f;
        p.beta = tb ? 1.0f : 0.0f;
        const PackedB packed = PackedB::pack(p.b.data(), p.ldb(), p.tb, p.k, p.n, isa, GemmFormat::BF16);
        EXPECT_EQ(packed.format(), has_bf16_kernel(isa) ? GemmFormat::BF16 : GemmFormat::F32);
        Problem rounded = p;
        rounded.b = round_bf16(p.b);
        if (has_bf16_kernel(isa)) rounded.a = round_bf16(p.a);  // alpha = 0.5 is exact in bf16
        expect_close(p.run([&](const GemmArgs& g) { gemm(g, packed); }), rounded.reference(), 1e-4, 1e-4,
                     std::string(isa_name(isa)) + " bf16 " + p.name());
      }
}

TEST(Gemm, Bf16FormatRoundsAnUnpackedBAtEachCall) {
  // GemmArgs::format = BF16, the GEMMs of mixed-precision training: B comes
  // unpacked in either layout and is packed in bf16 at the call, A rounded
  // where the ISA has a bf16 kernel, as with packed bf16 weights. A
  // transposed is dW = dyᵀ·x; beta 1 accumulates as a gradient does (alpha
  // 0.5 is exact in bf16); K over 1024 crosses the AMX kernel's k block,
  // M over 192 the row blocks.
  uint32_t seed = 300;
  for (Isa isa : supported_isas())
    for (auto& s : kShapes)
      for (int t = 0; t < 4; ++t) {
        const Problem p = variant(s, t, seed += 3);
        Problem rounded = p;
        rounded.b = round_bf16(p.b);
        if (has_bf16_kernel(isa)) rounded.a = round_bf16(p.a);
        const auto bf16_gemm = [&](GemmArgs g) {
          g.format = GemmFormat::BF16;
          gemm(g, isa);
        };
        expect_close(p.run(bf16_gemm), rounded.reference(), 1e-4, 1e-4,
                     std::string(isa_name(isa)) + " bf16 unpacked " + p.name());
      }
  Problem p(false, false, 40, 50, 60, 7);
  GemmArgs g = p.args(p.c0.data());
  g.format = GemmFormat::INT8;
  EXPECT_THROW(gemm(g), Error);
}

TEST(Gemm, Int8PackedBIsDynamicQuantisationWithExactIntegerSums) {
  // The specification, written out: weights s8 per column (scale max|w|/127),
  // activations u8 per row (range widened to include 0, zero point), integer
  // sums, rescaled. Without AVX512-VNNI the weights alone are quantised.
  for (Isa isa : supported_isas())
    for (auto& s : kShapes) {
      Problem p(false, true, s[0], s[1], s[2], 51, /*pad=*/1);
      p.beta = 1.0f;
      const PackedB packed = PackedB::pack(p.b.data(), p.ldb(), p.tb, p.k, p.n, isa, GemmFormat::INT8);
      const bool int8_kernel = isa >= Isa::Avx512 && cpu_supports_avx512_vnni();
      EXPECT_EQ(packed.format(), int8_kernel ? GemmFormat::INT8 : GemmFormat::F32);
      Problem quantized = p;
      for (int64_t j = 0; j < p.n; ++j) {
        double amax = 0;
        for (int64_t k = 0; k < p.k; ++k) amax = std::max(amax, std::fabs(double(p.b[j * p.ldb() + k])));
        const float scale = amax > 0 ? static_cast<float>(amax) / 127.0f : 1.0f;
        for (int64_t k = 0; k < p.k; ++k)
          quantized.b[j * p.ldb() + k] = scale * std::nearbyint(p.b[j * p.ldb() + k] / scale);
      }
      for (int64_t i = 0; int8_kernel && i < p.m; ++i) {
        float lo = 0, hi = 0;
        for (int64_t k = 0; k < p.k; ++k) lo = std::min(lo, p.a[i * p.lda() + k]), hi = std::max(hi, p.a[i * p.lda() + k]);
        const float scale = hi > lo ? (hi - lo) / 255.0f : 1.0f, zero = std::nearbyint(-lo / scale);
        for (int64_t k = 0; k < p.k; ++k) {
          const float q = std::clamp(std::nearbyint(p.a[i * p.lda() + k] / scale) + zero, 0.0f, 255.0f);
          quantized.a[i * p.lda() + k] = scale * (q - zero);
        }
      }
      const auto got = p.run([&](const GemmArgs& g) { gemm(g, packed); });
      expect_close(got, quantized.reference(), 1e-4, 1e-4, std::string(isa_name(isa)) + " int8 " + p.name());
      // And within quantisation error of the fp32 product.
      expect_close(got, p.reference(), 0.0, 0.05 * std::sqrt(double(p.k)), "int8 vs fp32 " + p.name());
    }
}

TEST(Gemm, EveryPackedKernelAddsTheBiasOnce) {
  // The kernels start their sums from the bias: with it, each output is the
  // same kernel's output without it plus the bias, in every format.
  for (Isa isa : supported_isas())
    for (GemmFormat format : {GemmFormat::F32, GemmFormat::BF16, GemmFormat::INT8})
      for (auto& s : kShapes) {
        Problem p(false, true, s[0], s[1], s[2], 71, /*pad=*/1);
        const std::vector<float> bias = random_floats(p.n, 72);
        const PackedB packed = PackedB::pack(p.b.data(), p.ldb(), p.tb, p.k, p.n, isa, format);
        auto want = p.run([&](const GemmArgs& g) { gemm(g, packed); });
        for (int64_t i = 0; i < p.m; ++i)
          for (int64_t j = 0; j < p.n; ++j) want[i * p.n + j] += bias[j];
        const auto got = p.run([&](GemmArgs g) {
          g.bias = bias.data();
          gemm(g, packed);
        });
        expect_close(got, want, 1e-5, 1e-5, std::string(isa_name(isa)) + " bias " + p.name());
      }
}

TEST(Gemm, Int8TileKernelGivesTheVnniKernelsBits) {
  // AMX-INT8 and AVX512-VNNI both sum exactly and rescale the same way.
  if (!cpu_supports_amx_int8() || !cpu_supports_avx512_vnni()) GTEST_SKIP() << "needs AMX-INT8 and AVX512-VNNI";
  for (auto& s : kShapes) {
    Problem p(false, true, s[0], s[1], s[2], 61, /*pad=*/1);
    p.beta = 1.0f;
    const PackedB tiles = PackedB::pack(p.b.data(), p.ldb(), p.tb, p.k, p.n, Isa::Amx, GemmFormat::INT8);
    const PackedB vnni = PackedB::pack(p.b.data(), p.ldb(), p.tb, p.k, p.n, Isa::Avx512, GemmFormat::INT8);
    EXPECT_EQ(p.run([&](const GemmArgs& g) { gemm(g, tiles); }), p.run([&](const GemmArgs& g) { gemm(g, vnni); }))
        << p.name();
  }
}

TEST(Gemm, EpilogueAddsBiasThenActivatesEveryTile) {
  using kernels::Activation;
  for (Isa isa : supported_isas())
    for (auto& s : kShapes) {
      Problem p(false, true, s[0], s[1], s[2], 31, /*pad=*/2);
      const std::vector<float> bias = random_floats(p.n, 32);
      for (Activation act : {Activation::Gelu, Activation::Tanh, Activation::Relu}) {
        p.beta = act == Activation::Tanh ? 1.0f : 0.0f;  // with C's old values the bias is added after the sums
        auto want = p.reference();
        for (int64_t i = 0; i < p.m; ++i) {
          for (int64_t j = 0; j < p.n; ++j) want[i * p.n + j] += bias[j];
          activate(act, want.data() + i * p.n, p.n);
        }
        const auto got = p.run([&](GemmArgs g) {
          g.bias = bias.data();
          g.activation = act;
          gemm(g, isa);
        });
        expect_close(got, want, 1e-4, 1e-4, std::string(isa_name(isa)) + " epilogue " + p.name());
      }
    }
}

TEST(Gemm, LinearAddsBiasPackedOrNot) {
  std::vector<float> x = {1, 2, 3, 4, 5, 6}, w = {1, 0, 0, 0, 1, 1}, bias = {10, 20}, y(4), y_packed(4);
  linear(x.data(), 2, 3, w.data(), bias.data(), 2, y.data());
  EXPECT_EQ(y, (std::vector<float>{11, 25, 14, 31}));
  const PackedB packed = PackedB::pack(w.data(), 3, /*trans_b=*/true, 3, 2);
  linear(x.data(), 2, packed, bias.data(), y_packed.data());
  EXPECT_EQ(y_packed, y);
}

TEST(Gemm, TallSerialGemmsFromPlainThreadsDoNotInterfere) {
  // M > 192 with an unpacked B: gemm_serial packs all of B into the calling
  // thread's scratch; threads outside the pool, each with its own B, must
  // never see each other's.
  const int64_t m = 300, n = 70, k = 130;
  const auto a = random_floats(m * k, 23);
  const std::vector<float> b[2] = {random_floats(k * n, 24), random_floats(k * n, 25)};
  auto run = [&](int which) {
    std::vector<float> c(m * n);
    GemmArgs g;
    g.m = m;
    g.n = n;
    g.k = k;
    g.a = a.data();
    g.lda = k;
    g.b = b[which].data();
    g.ldb = n;
    g.c = c.data();
    g.ldc = n;
    gemm_serial(g);
    return c;
  };
  const std::vector<float> alone[2] = {run(0), run(1)};
  EXPECT_NE(alone[0], alone[1]);
  bool same[2] = {true, true};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 50; ++rep) same[t] = same[t] && run(t) == alone[t];
    });
  for (auto& th : threads) th.join();
  EXPECT_TRUE(same[0]);
  EXPECT_TRUE(same[1]);
}

TEST(Gemm, ConcurrentSerialGemmsDoNotInterfere) {
  // Many independent GEMMs at once from every pool thread, as attention runs
  // them (each thread packs into its own buffers): each must equal the same
  // GEMM run alone.
  ThreadPool::set_num_threads(std::max(2, ThreadPool::default_num_threads()));
  const int64_t m = 48, n = 64, k = 96, count = 64;
  auto a = random_floats(m * k * count, 21), b = random_floats(k * n, 22);
  auto run = [&](int64_t i, float* c) {
    GemmArgs g;
    g.m = m;
    g.n = n;
    g.k = k;
    g.a = a.data() + i * m * k;
    g.lda = k;
    g.b = b.data();
    g.ldb = n;
    g.c = c;
    g.ldc = n;
    gemm_serial(g);
  };
  std::vector<float> alone(m * n * count), together(m * n * count);
  for (int64_t i = 0; i < count; ++i) run(i, alone.data() + i * m * n);
  for (int rep = 0; rep < 20; ++rep) {
    parallel_for(count, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t i = b0; i < b1; ++i) run(i, together.data() + i * m * n);
    });
    ASSERT_EQ(alone, together) << "repetition " << rep;
  }
  ThreadPool::set_num_threads(ThreadPool::default_num_threads());
}
