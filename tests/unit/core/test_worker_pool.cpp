// WorkerPool: every thread index runs exactly once per run, barriers separate phases, smaller runs on a
// larger team leave the extra workers out; Executor::for_ranges covers [0, n) once, in 16-float pieces.
#include <atomic>
#include <vector>

#include <gtest/gtest.h>

#include "core/worker_pool.h"
#include "mmoe/model.h"

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

TEST(WorkerPool, IdleGapsLongerThanTheSpinStillWakeTheWorkers) {
  WorkerPool pool(2);
  int sum = 0;
  for (int run = 0; run < 5; ++run) {
    std::this_thread::sleep_for(std::chrono::milliseconds(3));  // the worker goes to sleep on the futex
    int parts[2] = {0, 0};
    auto fn = [&](size_t t) { parts[t] = static_cast<int>(t) + 1; };
    pool.run(2, fn);
    sum += parts[0] + parts[1];
  }
  EXPECT_EQ(sum, 15);
}

TEST(WorkerPool, ExecutorRangesCoverEveryElementOnce) {
  mmoe::ModelSpec spec;
  spec.n_dense = 4;
  spec.tasks = {{"y"}};
  mmoe::Model model(spec);
  mmoe::Executor exec(model, 64, 2);
  // for_ranges uses as many threads as the last batch did: split a 64-row batch first.
  std::vector<float> dense(64 * 4, 0.5f), labels(64, 1.0f);
  exec.forward_backward(mmoe::BatchView{64, dense.data(), nullptr, labels.data(), nullptr});
  for (size_t n : {size_t{0}, size_t{1}, size_t{17}, size_t{4096}, size_t{8191}, size_t{100003}}) {
    std::vector<int> hits(n, 0);
    struct Ctx {
      std::vector<int>* hits;
      std::atomic<int> misaligned{0};
      std::atomic<int> split{0};  // ranges smaller than the whole
    } ctx{&hits};
    exec.for_ranges(n, [](void* c, size_t begin, size_t end) {
      auto& x = *static_cast<Ctx*>(c);
      if (begin % 16 != 0) ++x.misaligned;
      if (end - begin < (*x.hits).size()) ++x.split;
      for (size_t i = begin; i < end; ++i) ++(*x.hits)[i];
    }, &ctx);
    EXPECT_EQ(ctx.misaligned.load(), 0);
    EXPECT_EQ(ctx.split.load(), n >= 8192 ? 2 : 0) << "n " << n;
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(hits[i], 1) << "n " << n << ", element " << i;
  }
}

}  // namespace
