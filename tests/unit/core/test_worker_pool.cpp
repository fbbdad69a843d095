// WorkerPool: every thread index runs exactly once per run, barriers separate phases, smaller runs on a
// larger team leave the extra workers out, and workers asleep on the futex wake up.
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/worker_pool.h"

namespace {

using mmoe::detail::WorkerPool;

TEST(WorkerPool, EveryIndexRunsOncePerRun) {
  for (int team : {1, 2, 3, 5}) {
    WorkerPool pool(team);
    EXPECT_EQ(pool.size(), team);
    std::vector<int> hits(static_cast<size_t>(team), 0);
    for (int run = 0; run < 2000; ++run) {
      const int nt = 1 + run % team;  // runs of every size, interleaved: a skipped worker must not run later
      auto fn = [&](size_t t) { ++hits[t]; };
      pool.run(nt, fn);
    }
    for (int t = 0; t < team; ++t) {
      int expected = 0;
      for (int run = 0; run < 2000; ++run) expected += t < 1 + run % team;
      EXPECT_EQ(hits[static_cast<size_t>(t)], expected) << "team " << team << ", thread " << t;
    }
  }
}

TEST(WorkerPool, BarrierSeparatesPhases) {
  WorkerPool pool(3);
  std::vector<int> slots(3, 0);
  std::atomic<int> wrong{0};
  for (int run = 0; run < 3000; ++run) {
    auto fn = [&](size_t t) {
      slots[t] = run;  // phase 1: each thread writes its own slot
      pool.barrier();
      for (int s : slots) wrong += s != run;  // phase 2: every slot of this run is visible to all
      pool.barrier();
    };
    pool.run(3, fn);
  }
  EXPECT_EQ(wrong.load(), 0);
}

// A wait passes three phases (pause-spin to 100 us, yield to 3 ms, then a futex sleep): gaps of 50 us, 1 ms
// and 10 ms between runs and before a barrier end each of them, and every wake-up must still be seen.
TEST(WorkerPool, WaitsEndingInTheSpinTheYieldOrTheSleepAllWake) {
  WorkerPool pool(2);
  int sum = 0;
  int crossed = 0;
  for (const auto gap : {std::chrono::microseconds(50), std::chrono::microseconds(1000), std::chrono::microseconds(10000)}) {
    for (int run = 0; run < 3; ++run) {
      std::this_thread::sleep_for(gap);  // the worker waits for the next run this long
      int parts[2] = {0, 0};
      std::atomic<int> before{0};
      auto fn = [&](size_t t) {
        if (t == 1) std::this_thread::sleep_for(gap);  // thread 0 waits this long at the barrier
        parts[t] = static_cast<int>(t) + 1;
        before.fetch_add(1);
        pool.barrier();
        if (t == 0 && before.load() == 2) ++crossed;
      };
      pool.run(2, fn);
      sum += parts[0] + parts[1];
    }
  }
  EXPECT_EQ(sum, 27);
  EXPECT_EQ(crossed, 9);
}

}  // namespace
