#include "tformer/core/thread_pool.h"

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "tformer/core/error.h"

namespace tformer {

namespace {
thread_local bool t_inside_pool = false;
std::unique_ptr<ThreadPool> g_pool;
std::mutex g_pool_mu;
int g_requested_threads = 0;

// A job's generation word: its sequence number above its chunk count.
constexpr int kChunkBits = 16;
constexpr uint64_t kChunkMask = (uint64_t(1) << kChunkBits) - 1;

// How long a thread polls for new work or for the other chunks to finish
// before it sleeps: about 50-100 µs of pause instructions.
constexpr int kSpinIterations = 2000;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Polls until done() or the spin budget is spent; returns done().
template <class Done>
bool spin_until(Done done) {
  for (int i = 0; i < kSpinIterations; ++i) {
    if (done()) return true;
    cpu_relax();
  }
  return done();
}

void chunk_bounds(int64_t n, int chunks, int i, int64_t* b, int64_t* e) {
  int64_t base = n / chunks, rem = n % chunks;
  *b = i * base + std::min<int64_t>(i, rem);
  *e = *b + base + (i < rem ? 1 : 0);
}
}  // namespace

ThreadPool::ThreadPool(int num_threads) {
  TF_CHECK(num_threads >= 1 && static_cast<uint64_t>(num_threads) <= kChunkMask,
           "thread count must be in [1, " << kChunkMask << "], got " << num_threads);
  for (int i = 1; i < num_threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true, std::memory_order_release);
  }
  work_cv_.notify_all();
  for (auto& w : workers_) w.join();
}

void ThreadPool::run(int64_t n, int64_t grain, RangeFn fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  int chunks = static_cast<int>(std::min<int64_t>(num_threads(), (n + grain - 1) / grain));
  if (chunks <= 1 || t_inside_pool) {
    fn(0, n);
    return;
  }
  std::lock_guard<std::mutex> run_lock(run_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = &fn;
    job_n_ = n;
    pending_.store(chunks - 1, std::memory_order_relaxed);
    const uint64_t sequence = (generation_.load(std::memory_order_relaxed) >> kChunkBits) + 1;
    generation_.store(sequence << kChunkBits | static_cast<uint64_t>(chunks), std::memory_order_release);  // publishes it
  }
  work_cv_.notify_all();
  int64_t b, e;
  chunk_bounds(n, chunks, 0, &b, &e);
  t_inside_pool = true;
  fn(b, e);
  t_inside_pool = false;
  auto all_done = [this] { return pending_.load(std::memory_order_acquire) == 0; };
  if (!spin_until(all_done)) {
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, all_done);
  }
  job_ = nullptr;
}

void ThreadPool::worker_loop(int index) {
  t_inside_pool = true;
  uint64_t seen = 0;
  for (;;) {
    auto has_news = [&] {
      return stop_.load(std::memory_order_acquire) || generation_.load(std::memory_order_acquire) != seen;
    };
    if (!spin_until(has_news)) {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, has_news);
    }
    if (stop_.load(std::memory_order_acquire)) return;
    seen = generation_.load(std::memory_order_acquire);
    const int chunks = static_cast<int>(seen & kChunkMask);
    if (index >= chunks) continue;
    // The job's fields were written before its generation, and cannot change
    // before this chunk is counted done.
    int64_t b, e;
    chunk_bounds(job_n_, chunks, index, &b, &e);
    (*job_)(b, e);
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mu_);  // so that a caller about to sleep cannot miss it
      done_cv_.notify_one();
    }
  }
}

int ThreadPool::default_num_threads() {
  if (const char* env = std::getenv("TFORMER_NUM_THREADS")) {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

void ThreadPool::set_num_threads(int n) {
  TF_CHECK(n >= 1, "--threads must be at least 1, got " << n);
  std::lock_guard<std::mutex> lock(g_pool_mu);
  g_requested_threads = n;
  if (g_pool && g_pool->num_threads() != n) g_pool.reset();
}

ThreadPool& ThreadPool::global() {
  std::lock_guard<std::mutex> lock(g_pool_mu);
  if (!g_pool) g_pool = std::make_unique<ThreadPool>(g_requested_threads > 0 ? g_requested_threads
                                                                            : default_num_threads());
  return *g_pool;
}

}  // namespace tformer
