// No heap allocation in the steady-state forward pass: global operator new is
// counted (from any thread) while a scope is open, and repeated forwards of
// a shape already seen must not call it at all.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "test_util.h"
#include "tformer/core/thread_pool.h"
#include "tformer/models/bert.h"
#include "tformer/models/causal_lm.h"
#include "tformer/models/vit.h"
#include "tformer/models/vit_mae.h"
#include "tformer/pipelines/sampling.h"

namespace {
std::atomic<bool> counting{false};
std::atomic<int64_t> allocations{0};

[[maybe_unused]] void* counted_alloc(std::size_t n, std::size_t align) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  void* p = align > alignof(std::max_align_t) ? std::aligned_alloc(align, (n + align - 1) / align * align)
                                              : std::malloc(n ? n : 1);
  if (!p) throw std::bad_alloc();
  return p;
}

// Counts the allocations made while `fn` runs.
template <class Fn>
int64_t allocations_during(Fn&& fn) {
  allocations = 0;
  counting = true;
  fn();
  counting = false;
  return allocations.load();
}
}  // namespace

// AddressSanitizer brings its own operator new and delete, and would see ours
// as a mismatch: under it the counter is not installed and the test skips.
#if !defined(__SANITIZE_ADDRESS__)
#define TFORMER_COUNTS_ALLOCATIONS 1
void* operator new(std::size_t n) { return counted_alloc(n, 0); }
void* operator new[](std::size_t n) { return counted_alloc(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) { return counted_alloc(n, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted_alloc(n, static_cast<std::size_t>(a)); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
#endif

using namespace tformer;

TEST(Allocations, TheCounterSeesAllocations) {
#if !TFORMER_COUNTS_ALLOCATIONS
  GTEST_SKIP() << "AddressSanitizer owns operator new";
#endif
  EXPECT_GE(allocations_during([] { delete new int(7); }), 1);
}

TEST(Allocations, RepeatedForwardsAllocateNothingInEveryDtype) {
#if !TFORMER_COUNTS_ALLOCATIONS
  GTEST_SKIP() << "AddressSanitizer owns operator new";
#endif
  auto model = models::BertForSequenceClassification::from_pretrained(tformer::testing::fixtures_dir() / "bert-small");
  const int64_t batch = 3, seq = 21;
  std::vector<int32_t> ids(batch * seq), types(batch * seq, 0), mask(batch * seq, 1);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>(1000 + 37 * i % 5000);
  for (int64_t j = 15; j < seq; ++j) mask[2 * seq + j] = 0;  // padding in the last sequence
  const models::BertInputs in{batch, seq, ids.data(), types.data(), mask.data()};
  for (auto format : {kernels::GemmFormat::F32, kernels::GemmFormat::BF16, kernels::GemmFormat::INT8}) {
    model.set_weight_format(format);
    const std::string dtype = format == kernels::GemmFormat::F32    ? "fp32"
                              : format == kernels::GemmFormat::BF16 ? "bf16"
                                                                    : "int8";
    for (int threads : {1, 2}) {
      ThreadPool::set_num_threads(threads);
      models::BertOutput hidden;
      model.forward(in);  // first calls of this shape size the buffers
      model.forward(in, &hidden);
      EXPECT_EQ(allocations_during([&] {
                  for (int i = 0; i < 3; ++i) {
                    model.forward(in);
                    model.forward(in, &hidden);
                  }
                }),
                0)
          << dtype << ", " << threads << " thread(s)";
      // A smaller batch reuses the same buffers.
      EXPECT_EQ(allocations_during([&] { model.forward({1, seq, ids.data(), types.data(), mask.data()}); }), 0)
          << dtype;
    }
  }
  ThreadPool::set_num_threads(ThreadPool::default_num_threads());
}

TEST(Allocations, VisionForwardsAllocateNothing) {
#if !TFORMER_COUNTS_ALLOCATIONS
  GTEST_SKIP() << "AddressSanitizer owns operator new";
#endif
  auto vit = models::ViTForImageClassification::from_pretrained(tformer::testing::fixtures_dir() / "vit-tiny");
  auto mae = models::ViTMAEForPreTraining::from_pretrained(tformer::testing::fixtures_dir() / "vit-mae-tiny");
  const Tensor pixels = Tensor::full({2, 3, 32, 32}, 0.25f), wide = Tensor::full({2, 3, 40, 64}, 0.5f);
  const Tensor noise = mae.random_noise(2, 1);
  for (int threads : {1, 2}) {
    ThreadPool::set_num_threads(threads);
    vit.forward(pixels);  // first calls of each shape size the buffers
    vit.forward(wide, true);
    mae.forward(pixels, noise);
    EXPECT_EQ(allocations_during([&] {
                for (int i = 0; i < 3; ++i) {
                  vit.forward(pixels);
                  mae.forward(pixels, noise);
                }
              }),
              0)
        << threads << " thread(s)";
    // The interpolated positions of the last grid are kept.
    EXPECT_EQ(allocations_during([&] { vit.forward(wide, true); }), 0) << threads << " thread(s)";
  }
  ThreadPool::set_num_threads(ThreadPool::default_num_threads());
}

TEST(Allocations, RepeatedTrainingStepsAllocateNothingInFp32OrBf16) {
#if !TFORMER_COUNTS_ALLOCATIONS
  GTEST_SKIP() << "AddressSanitizer owns operator new";
#endif
  auto model = models::BertForSequenceClassification::from_pretrained(tformer::testing::fixtures_dir() / "bert-small");
  model.enable_grad();
  const int64_t batch = 4, seq = 19;
  std::vector<int32_t> ids(batch * seq), types(batch * seq, 0), mask(batch * seq, 1), labels = {0, 1, 1, 0};
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>(1000 + 41 * i % 5000);
  const models::BertInputs in{batch, seq, ids.data(), types.data(), mask.data()};
  const models::BertTrainingOptions dropout{.hidden_dropout = 0.1f, .attention_dropout = 0.1f, .seed = 3};
  for (auto format : {kernels::GemmFormat::F32, kernels::GemmFormat::BF16}) {
    model.set_weight_format(format);
    model.train_step(in, labels.data(), 1.0f, dropout);  // the first step sizes the buffers
    EXPECT_EQ(allocations_during([&] {
                for (int i = 0; i < 2; ++i) model.train_step(in, labels.data(), 1.0f, dropout);
              }),
              0)
        << (format == kernels::GemmFormat::BF16 ? "bf16" : "fp32");
  }
}

// A decode step (one new token per sequence: the model's forward, then the
// sampler) allocates nothing once the generation's buffers are sized,
// whatever the cache length, the dtype or the thread count.
TEST(Allocations, DecodeStepsAllocateNothing) {
#if !TFORMER_COUNTS_ALLOCATIONS
  GTEST_SKIP() << "AddressSanitizer owns operator new";
#endif
  for (const char* fixture : {"gpt2-tiny", "llama-tiny"}) {
    auto model = models::load_causal_lm(tformer::testing::fixtures_dir() / fixture);
    const int64_t batch = 2, prompt = 6, capacity = 40, vocab = model->info().vocab_size;
    nn::KVCache cache;
    model->reserve_cache(cache, batch, capacity);
    std::vector<int32_t> ids(batch * prompt);
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>(7 + 31 * i % 400);
    std::vector<int64_t> start(batch, 0), positions(batch * prompt), rows = {prompt - 1, 2 * prompt - 1};
    for (int64_t i = 0; i < batch * prompt; ++i) positions[i] = i % prompt;
    std::vector<float> mask(batch * capacity, 0.0f), logits(batch * vocab);
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t j = 0; j < prompt; ++j) mask[b * capacity + j] = 1.0f;
    model->forward(ids.data(), {batch, prompt, start.data(), positions.data(), mask.data(), capacity, prompt}, cache,
                   rows.data(), batch, logits.data());
    pipelines::Sampler greedy, sampling({.temperature = 0.9f, .top_k = 20, .top_p = 0.9f,
                                         .repetition_penalty = 1.2f, .seed = 5});
    greedy.reserve(vocab);
    sampling.reserve(vocab);
    std::vector<int32_t> next(batch, 3);
    int64_t length = prompt;
    auto step = [&] {
      for (int64_t b = 0; b < batch; ++b) {
        start[b] = positions[b] = length;
        mask[b * capacity + length] = 1.0f;
      }
      ++length;
      model->forward(next.data(), {batch, 1, start.data(), positions.data(), mask.data(), capacity, length}, cache,
                     nullptr, batch, logits.data());
      next[0] = greedy.next(logits.data(), vocab, ids);
      next[1] = sampling.next(logits.data() + vocab, vocab, ids);
    };
    for (auto format : {kernels::GemmFormat::F32, kernels::GemmFormat::BF16, kernels::GemmFormat::INT8}) {
      model->set_weight_format(format);
      for (int threads : {1, 2}) {
        ThreadPool::set_num_threads(threads);
        step();  // the first step of this shape sizes the buffers
        EXPECT_EQ(allocations_during([&] {
                    for (int i = 0; i < 4; ++i) step();
                  }),
                  0)
            << fixture << ", format " << static_cast<int>(format) << ", " << threads << " thread(s)";
      }
    }
  }
  ThreadPool::set_num_threads(ThreadPool::default_num_threads());
}
