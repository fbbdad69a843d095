// stream_work: items that come out of a serial stream one at a time, handled on several threads.
//
// For a producer that cannot be split (inflating a gzip file) feeding work that can (parsing its lines).
// The calling thread makes the items; the others handle them as they come, and so does the maker whenever
// more than `backlog` items wait, so that a fast maker does not pile up items in memory and every thread
// stays busy. Like fork_join, for work done once per file: the threads are started for the call.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace mmoe::detail {

// make(Item&) -> bool fills the next item, false when there is none (it is not called again); it runs on
// the calling thread only. handle(k, Item&&) gets the k-th item made (k = 0, 1, ...) on any of the `threads`
// threads, in no fixed order. If make or handle throws, no more items are made, the ones made are still
// handled, and the first exception caught is rethrown once every thread has finished.
template <typename Item, typename Make, typename Handle>
void stream_work(size_t threads, size_t backlog, Make&& make, Handle&& handle) {
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<std::pair<size_t, Item>> queue;
  bool done = false;
  std::exception_ptr error;
  auto fail = [&](std::exception_ptr e) {  // with the lock held
    if (!error) error = std::move(e);
  };
  // Takes the oldest waiting item and handles it without the lock.
  auto handle_one = [&](std::unique_lock<std::mutex>& lock) {
    std::pair<size_t, Item> item = std::move(queue.front());
    queue.pop_front();
    lock.unlock();
    std::exception_ptr e;
    try {
      handle(item.first, std::move(item.second));
    } catch (...) {
      e = std::current_exception();
    }
    lock.lock();
    if (e) fail(std::move(e));
  };
  auto work = [&] {
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
      ready.wait(lock, [&] { return done || !queue.empty(); });
      if (queue.empty()) return;
      handle_one(lock);
    }
  };

  std::vector<std::thread> helpers;
  try {
    for (size_t k = 1; k < threads; ++k) helpers.emplace_back(work);
  } catch (...) {  // a thread could not be started: the ones that were, and the maker, do the work
  }
  // With no helper the maker handles every item as soon as it is made.
  const size_t limit = helpers.empty() ? 0 : backlog;
  for (size_t k = 0;; ++k) {
    Item item;
    bool more = false;
    try {
      more = make(item);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex);
      fail(std::current_exception());
    }
    std::unique_lock<std::mutex> lock(mutex);
    if (more) {
      queue.emplace_back(k, std::move(item));
      ready.notify_one();
    }
    if (!more || error) break;
    while (queue.size() > limit) handle_one(lock);
  }
  {
    std::lock_guard<std::mutex> lock(mutex);
    done = true;
  }
  ready.notify_all();
  work();
  for (std::thread& t : helpers) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace mmoe::detail
