// One process-wide pool of persistent workers. Kernels split their work with
// parallel_for; nothing else in tformer spawns threads. A parallel_for called
// from inside a worker runs serially, so nested kernels never oversubscribe.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace tformer {

// A non-owning reference to a callable (no allocation, unlike std::function).
class RangeFn {
 public:
  template <class F>
  RangeFn(F& f) : obj_(&f), call_([](void* o, int64_t b, int64_t e) { (*static_cast<F*>(o))(b, e); }) {}
  void operator()(int64_t b, int64_t e) const { call_(obj_, b, e); }

 private:
  void* obj_;
  void (*call_)(void*, int64_t, int64_t);
};

class ThreadPool {
 public:
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Splits [0, n) into at most num_threads() contiguous chunks of at least
  // `grain` items and runs fn(begin, end) on each; the caller runs one chunk.
  template <class F>
  void parallel_for(int64_t n, int64_t grain, F&& fn) {
    auto& f = fn;
    run(n, grain, RangeFn(f));
  }

  // Runs fn(i) for each i in [0, n), each thread taking the next index as
  // soon as it has finished one. Where cores run at uneven speeds (a VM's
  // vCPUs on a busy host), a static split makes every job wait for its
  // slowest share; with n a few times the thread count, the faster threads
  // take more of the parts. Which thread runs an index varies from call to
  // call, so fn(i) must not depend on it.
  template <class F>
  void parallel_for_dynamic(int64_t n, F&& fn) {
    parallel_for_dynamic(n, [] {}, std::forward<F>(fn));
  }
  // The same with setup() run once per job by each thread that takes part,
  // before its first index; fn(i, setup()) where setup returns a value.
  // Per-thread scratch sized there is sized in the first job by every
  // thread, and not later by whichever thread first happens to take an
  // index (steady-state calls then allocate nothing).
  template <class Setup, class F>
  void parallel_for_dynamic(int64_t n, Setup&& setup, F&& fn) {
    std::atomic<int64_t> next{0};
    parallel_for(n, 1, [&](int64_t, int64_t) {
      auto take = [&](auto&& run) {
        for (int64_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < n;) run(i);
      };
      if constexpr (std::is_void_v<decltype(setup())>) {
        setup();
        take(fn);
      } else {
        auto context = setup();
        take([&](int64_t i) { fn(i, context); });
      }
    });
  }

  // The process-wide pool. Its size is set once by set_num_threads (default:
  // all cores, or TFORMER_NUM_THREADS).
  static ThreadPool& global();
  static void set_num_threads(int n);
  static int default_num_threads();

 private:
  void run(int64_t n, int64_t grain, RangeFn fn);
  void worker_loop(int index);

  std::vector<std::thread> workers_;
  std::mutex run_mu_;  // one job at a time when several outside threads share the pool
  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  // Changed under mu_ (so that sleepers miss nothing) but also read without
  // it: workers and the caller spin on them briefly before sleeping, since a
  // forward pass issues its parallel_for calls back to back and waking a
  // sleeping thread costs more than most of them take.
  // The job's sequence number and its chunk count, in one word so that a
  // worker that is not part of a job never reads the other fields while the
  // next job is being written.
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  // The job in flight (stable while it has chunks pending).
  const RangeFn* job_ = nullptr;
  int64_t job_n_ = 0;
};

template <class F>
inline void parallel_for(int64_t n, int64_t grain, F&& fn) {
  ThreadPool::global().parallel_for(n, grain, std::forward<F>(fn));
}

template <class F>
inline void parallel_for_dynamic(int64_t n, F&& fn) {
  ThreadPool::global().parallel_for_dynamic(n, std::forward<F>(fn));
}
template <class Setup, class F>
inline void parallel_for_dynamic(int64_t n, Setup&& setup, F&& fn) {
  ThreadPool::global().parallel_for_dynamic(n, std::forward<Setup>(setup), std::forward<F>(fn));
}

}  // namespace tformer
