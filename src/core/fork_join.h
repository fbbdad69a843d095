// fork_join: runs a few coarse pieces of work at once, on threads started for the call.
//
// For work done once per file or per experiment (reading a CSV in parts, fitting and encoding features,
// experiment repeats), where starting a thread costs microseconds against milliseconds of work and the
// executor's persistent WorkerPool would be the wrong owner. The training step uses the WorkerPool.
#pragma once

#include <cstddef>
#include <exception>
#include <thread>
#include <vector>

namespace mmoe::detail {

// Runs fn(k) for k in [0, n): k = 0 on the calling thread, the others on threads of their own, and returns
// when all have finished. If any threw, the exception of the lowest k is rethrown then.
template <typename Fn>
void fork_join(size_t n, Fn&& fn) {
  if (n == 0) return;
  std::vector<std::exception_ptr> errors(n);
  auto run = [&](size_t k) {
    try {
      fn(k);
    } catch (...) {
      errors[k] = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(n - 1);
  try {
    for (size_t k = 1; k < n; ++k) threads.emplace_back(run, k);
  } catch (...) {  // a thread could not be started: run its pieces here instead
    for (size_t k = threads.size() + 1; k < n; ++k) run(k);
  }
  run(0);
  for (std::thread& t : threads) t.join();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace mmoe::detail
