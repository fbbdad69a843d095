#include "core/worker_pool.h"

#include <chrono>

#include <sched.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace mmoe::detail {

namespace {

// Long enough to cover the serial gap between two parallel sections of a training step (staging a batch,
// the finite check and Adam: a few to ~20 us at the paper's sizes), short enough that a spinning thread on a
// busy machine wastes little of its partner's time.
constexpr auto kSpin = std::chrono::microseconds(100);

// After the spin, the waiter yields its CPU in a loop for up to kYield before it sleeps. Sleeping is what
// costs on a virtual machine: the idle vCPU halts, and waking it took ~0.8 ms on the Zen 3 host. A thread that
// overslept makes its partner's next wait exceed kSpin too, so once started the 2-thread step fell into a
// sleep in almost every step (2,800-2,980 sleeps in 3,000 steps of batch 256, mean step 440 us against
// 200 us). Yielding keeps the vCPU running (no sleep in 3,000 steps, mean 170-230 us), and unlike a longer
// spin it hands the CPU to whatever else is runnable: with a CPU hog beside the 2-thread step, a 2 ms spin
// ran it at 0.11-0.14x of one thread, the yield at 0.45x, the same as sleeping after 100 us (0.43-0.48x).
constexpr auto kYield = std::chrono::milliseconds(3);

// Tells the CPU this is a spin-wait loop (x86: pause), so it yields execution resources to a sibling thread.
inline void spin_pause() {
#if defined(__x86_64__)
  _mm_pause();
#endif
}

}  // namespace

WorkerPool::WorkerPool(int n_threads) : n_threads_(n_threads < 1 ? 1 : n_threads > kMaxThreads ? kMaxThreads : n_threads) {
  workers_.reserve(static_cast<size_t>(n_threads_ - 1));
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_main(static_cast<size_t>(i)); });
}

WorkerPool::~WorkerPool() {
  stop_ = true;
  generation_.fetch_add(1u << 8, std::memory_order_seq_cst);
  generation_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void WorkerPool::wait_while_equal(const std::atomic<uint32_t>& a, uint32_t old) {
  const auto start = std::chrono::steady_clock::now();
  for (unsigned i = 1;; ++i) {
    // pause between loads: no better on the Zen 4 host; on the Zen 3 host (whose two vCPUs share more of the
    // machine) the 2-thread step was faster with it, 5 interleaved A/B runs each: batch 1024 1.20M -> 1.34M
    // samples/s median, batch 256 1.15M -> 1.21M (docs/benchmarks.md).
    if (a.load(std::memory_order_acquire) != old) return;
    spin_pause();
    if (i % 64 == 0 && std::chrono::steady_clock::now() - start > kSpin) break;
  }
  while (std::chrono::steady_clock::now() - start < kYield) {
    if (a.load(std::memory_order_acquire) != old) return;
    sched_yield();
  }
  // Announce the sleep before re-checking the value inside wait(); wake() changes the value before reading
  // sleepers_, both sequentially consistent, so one of the two sides always sees the other.
  sleepers_.fetch_add(1, std::memory_order_seq_cst);
  while (a.load(std::memory_order_seq_cst) == old) a.wait(old, std::memory_order_seq_cst);
  sleepers_.fetch_sub(1, std::memory_order_relaxed);
}

void WorkerPool::wake(std::atomic<uint32_t>& a) {
  if (sleepers_.load(std::memory_order_seq_cst) > 0) a.notify_all();
}

void WorkerPool::dispatch(int nt, Task task, void* ctx) {
  task_ = task;
  ctx_ = ctx;
  active_ = nt > n_threads_ ? n_threads_ : nt;
  pending_.store(static_cast<uint32_t>(active_ - 1), std::memory_order_relaxed);
  // One atomic word carries the run's number and its thread count, so a worker that is not part of this run
  // learns so without reading anything the next run may overwrite. The bump publishes task_, ctx_, pending_.
  const uint32_t word = generation_.load(std::memory_order_relaxed);
  generation_.store(((word >> 8) + 1) << 8 | static_cast<uint32_t>(active_), std::memory_order_seq_cst);
  wake(generation_);
  task(ctx, 0);
  for (uint32_t left; (left = pending_.load(std::memory_order_acquire)) != 0;) wait_while_equal(pending_, left);
}

void WorkerPool::worker_main(size_t index) {
  uint32_t seen = 0;
  for (;;) {
    wait_while_equal(generation_, seen);
    seen = generation_.load(std::memory_order_acquire);
    if (stop_) return;
    // Not part of this (smaller) run: nothing else of the run may be read, the caller does not wait for us.
    if (index >= (seen & 0xffu)) continue;
    task_(ctx_, index);
    pending_.fetch_sub(1, std::memory_order_seq_cst);
    wake(pending_);
  }
}

void WorkerPool::barrier() {
  const uint32_t phase = phase_.load(std::memory_order_acquire);
  if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == static_cast<uint32_t>(active_)) {
    arrived_.store(0, std::memory_order_relaxed);
    phase_.fetch_add(1, std::memory_order_seq_cst);
    wake(phase_);
    return;
  }
  wait_while_equal(phase_, phase);
}

}  // namespace mmoe::detail
