// WorkerPool: a fixed team of threads for the executor's batch split, with a short spin and a yield phase
// before sleeping.
//
// Why not OpenMP: libgomp either spins for milliseconds after a parallel region (its default and "active"
// policies; on a shared machine the spinning thread keeps its partner off the CPU for a whole scheduler slice,
// measured at 18-24 ms per step instead of 0.25 ms) or goes straight to a futex sleep ("passive"; a wake-up
// then costs tens of microseconds, more than a whole batch-32 step). A training step leaves only a few
// microseconds between two parallel sections (staging, the finite check, Adam), so workers here spin for a
// bounded time (kSpin, 100 us), then yield the CPU in a loop for up to 3 ms (kYield: a sleeping vCPU is slow
// to wake, worker_pool.cpp says how slow) and only then sleep on the atomic (a futex): a bounded cost on a
// busy machine, where yielding lets the partner run.
//
// run() and barrier() allocate nothing: the task is a plain function pointer and a context pointer.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <vector>

namespace mmoe::detail {

class WorkerPool {
 public:
  static constexpr int kMaxThreads = 255;  // the thread count of a run shares a word with its number

  // A team of n_threads: the caller of run() is thread 0, n_threads - 1 workers are started here.
  explicit WorkerPool(int n_threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  int size() const { return n_threads_; }

  // Runs fn(t) for t in [0, nt) (nt <= size()), t = 0 on the calling thread, and returns when all are done.
  template <typename Fn>
  void run(int nt, Fn& fn) {
    if (nt <= 1) {
      fn(size_t{0});
      return;
    }
    dispatch(nt, [](void* ctx, size_t t) { (*static_cast<Fn*>(ctx))(t); }, &fn);
  }

  // Called by all nt threads of the current run(); returns once every one of them has arrived.
  void barrier();

 private:
  using Task = void (*)(void*, size_t);
  void dispatch(int nt, Task task, void* ctx);
  void worker_main(size_t index);
  // Blocks while `a` holds `old`: spins first, then sleeps on it.
  void wait_while_equal(const std::atomic<uint32_t>& a, uint32_t old);
  // Wakes the sleepers of `a` after the caller changed it (no system call when nobody sleeps).
  void wake(std::atomic<uint32_t>& a);

  int n_threads_;
  std::vector<std::thread> workers_;
  Task task_ = nullptr;  // written before generation_ is bumped, read after it is seen
  void* ctx_ = nullptr;
  int active_ = 0;       // the caller's copy of the current run's thread count (barrier())
  bool stop_ = false;
  alignas(64) std::atomic<uint32_t> generation_{0};  // run number << 8 | its thread count; workers wait on it
  alignas(64) std::atomic<uint32_t> pending_{0};     // workers still running the current task
  alignas(64) std::atomic<uint32_t> arrived_{0};     // barrier: threads arrived in this phase
  alignas(64) std::atomic<uint32_t> phase_{0};       // barrier: bumped when the last one arrives
  alignas(64) std::atomic<uint32_t> sleepers_{0};    // threads inside a futex wait, on any of the above
};

}  // namespace mmoe::detail
