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

void chunk_bounds(int64_t n, int chunks, int i, int64_t* b, int64_t* e) {
  int64_t base = n / chunks, rem = n % chunks;
  *b = i * base + std::min<int64_t>(i, rem);
  *e = *b + base + (i < rem ? 1 : 0);
}
}  // namespace

ThreadPool::ThreadPool(int num_threads) {
  TF_CHECK(num_threads >= 1, "thread count must be at least 1, got " << num_threads);
  for (int i = 1; i < num_threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
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
    job_chunks_ = chunks;
    pending_ = chunks - 1;
    ++generation_;
  }
  work_cv_.notify_all();
  int64_t b, e;
  chunk_bounds(n, chunks, 0, &b, &e);
  t_inside_pool = true;
  fn(b, e);
  t_inside_pool = false;
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [this] { return pending_ == 0; });
  job_ = nullptr;
}

void ThreadPool::worker_loop(int index) {
  t_inside_pool = true;
  uint64_t seen = 0;
  for (;;) {
    std::unique_lock<std::mutex> lock(mu_);
    work_cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
    if (stop_) return;
    seen = generation_;
    if (index >= job_chunks_) continue;
    const RangeFn* fn = job_;
    int64_t n = job_n_;
    int chunks = job_chunks_;
    lock.unlock();
    int64_t b, e;
    chunk_bounds(n, chunks, index, &b, &e);
    (*fn)(b, e);
    lock.lock();
    if (--pending_ == 0) done_cv_.notify_one();
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
