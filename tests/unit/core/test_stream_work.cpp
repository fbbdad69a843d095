// stream_work: every item made is handled once, with the index of its making, on up to `threads` threads;
// items wait no more than the backlog allows; an error stops the making and comes back after the join.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/stream_work.h"

namespace {

using mmoe::detail::stream_work;

TEST(StreamWork, EveryItemOnceWithItsIndex) {
  for (size_t threads : {1, 2, 4}) {
    for (size_t backlog : {0, 1, 8}) {
      int next = 0;
      std::vector<int> seen(500, -1);
      std::mutex mutex;
      std::set<std::thread::id> workers;
      std::atomic<int> waiting{0}, most_waiting{0};
      stream_work<int>(
          threads, backlog,
          [&](int& item) {
            if (next == 500) return false;
            item = next++;
            const int w = ++waiting;
            int m = most_waiting.load();
            while (w > m && !most_waiting.compare_exchange_weak(m, w)) {
            }
            return true;
          },
          [&](size_t k, int&& item) {
            --waiting;
            std::lock_guard<std::mutex> lock(mutex);
            EXPECT_EQ(seen[k], -1) << "item " << k << " handled twice";
            seen[k] = item;
            workers.insert(std::this_thread::get_id());
          });
      for (int k = 0; k < 500; ++k) ASSERT_EQ(seen[k], k) << threads << " threads, backlog " << backlog;
      EXPECT_LE(workers.size(), threads);
      // Made but not yet taken: at most the backlog, plus one being queued and one per helper taking it.
      EXPECT_LE(most_waiting.load(), static_cast<int>(backlog + threads + 1)) << threads << " threads";
    }
  }
}

TEST(StreamWork, NoItems) {
  int handled = 0;
  stream_work<int>(2, 1, [](int&) { return false; }, [&](size_t, int&&) { ++handled; });
  EXPECT_EQ(handled, 0);
}

TEST(StreamWork, AnErrorStopsTheMakingAndIsRethrown) {
  // From the maker: the items made before it are still handled.
  std::atomic<int> handled{0};
  int made = 0;
  EXPECT_THROW(stream_work<int>(
                   2, 1,
                   [&](int& item) {
                     if (made == 10) throw std::runtime_error("make");
                     item = made++;
                     return true;
                   },
                   [&](size_t, int&&) { ++handled; }),
               std::runtime_error);
  EXPECT_EQ(handled.load(), 10);
  // From a handler: making stops soon after (not all 100,000 items), and the error is the handler's.
  made = 0;
  try {
    stream_work<int>(
        2, 1,
        [&](int& item) {
          if (made == 100000) return false;
          item = made++;
          return true;
        },
        [&](size_t k, int&&) {
          if (k == 3) throw std::invalid_argument("handle " + std::to_string(k));
        });
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "handle 3");
  }
  EXPECT_LT(made, 100000);
}

}  // namespace
