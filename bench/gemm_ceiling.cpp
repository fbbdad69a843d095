// gemm_ceiling: the GEMM ceiling of one MMoE training step on this machine, measured in the same run as the
// throughput it is compared with (bench/run.sh). The machines this project runs on change (Intel with two
// 512-bit FMA units, AMD Zen 4 with 256-bit ones: the FP32 peak per core differs by 1.5-2x), so a ceiling copied
// from another machine's notes would mislead.
//
//   gemm_ceiling --label paper --d 100 --experts 8 --units 16 --tower 8 --tasks 2 --batches 1024,4096 --threads 2
//
// Every GEMM of a training step (experts + gates in one first layer, forward and weight gradient; each task's
// tower layers, forward, weight gradient and input gradient) is timed with each available implementation (this
// project's kernels, oneDNN, Eigen), data-parallel: each of `threads` threads multiplies its own slice of the
// batch by one shared copy of the weights at the same time, as the executor does. The best time per shape,
// summed over the step, is the ceiling: what a step would cost if it did nothing but its GEMMs at the best
// rate measured here. One JSON line per batch.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <omp.h>

#include "bench_args.h"
#include "kernels/gemm.h"
#include "kernels/linear.h"
#include "mmoe/tensor.h"

namespace {

using Clock = std::chrono::steady_clock;
using mmoe::AlignedBuffer;
using mmoe::ConstMatrixView;
using mmoe::MatrixView;
namespace k = mmoe::kernels;

struct Args {
  std::string label;
  int d = 100, experts = 8, units = 16, tower = 8, tasks = 2;
  std::vector<int> batches = {1024, 4096};
  int threads = 2;
  double min_time = 0.1;
  int repeats = 3;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], v = argv[i + 1];
    if (key == "--label") a.label = v;
    else if (key == "--d") a.d = std::atoi(v.c_str());
    else if (key == "--experts") a.experts = std::atoi(v.c_str());
    else if (key == "--units") a.units = std::atoi(v.c_str());
    else if (key == "--tower") a.tower = std::atoi(v.c_str());
    else if (key == "--tasks") a.tasks = std::atoi(v.c_str());
    else if (key == "--batches") a.batches = mmoe_bench::parse_list(v);
    else if (key == "--threads") a.threads = std::atoi(v.c_str());
    else if (key == "--min-time") a.min_time = std::atof(v.c_str());
    else if (key == "--repeats") a.repeats = std::atoi(v.c_str());
    else {
      std::fprintf(stderr, "unknown option %s\n", key.c_str());
      std::exit(2);
    }
  }
  return a;
}

// One GEMM of the step: C (m, n) = op(A) op(B), in one of three forms the executor uses.
enum class Form { forward, wgrad, dgrad };  // A W;  A^T D (reduction over the batch);  D W^T
struct Shape {
  const char* what;
  Form form;
  size_t m, n, k;  // C is (m, n); the reduction is over k
  int count;       // how many such GEMMs a step has (one per task for towers)
};

// Per-thread operands of one shape, filled with small values.
struct Operands {
  AlignedBuffer<float> a, b, c, bt;
  explicit Operands(const Shape& s) : a(s.m * s.k + s.k * s.m), b(s.k * s.n), c(s.m * s.n), bt(s.n * s.k) {
    for (size_t i = 0; i < a.size(); ++i) a[i] = 0.001f * static_cast<float>(i % 97);
    for (size_t i = 0; i < b.size(); ++i) b[i] = 0.002f * static_cast<float>(i % 89);
    for (size_t i = 0; i < bt.size(); ++i) bt[i] = 0.002f * static_cast<float>(i % 83);
  }
};

// impl 0: this project's kernels; 1: kernels::gemm with oneDNN; 2: with Eigen. `w` holds B (and B^T): the
// weights, which every thread of a step reads in its forward and input-gradient products; in the weight
// gradient B is the thread's own output gradient (w = o).
void run_once(const Shape& s, Operands& o, const Operands& w, int impl) {
  if (impl == 0) {
    switch (s.form) {
      case Form::forward:
        k::linear_forward(ConstMatrixView{o.a.data(), s.m, s.k, s.k}, w.b.data(), s.n, nullptr, 0,
                          MatrixView{o.c.data(), s.m, s.n, s.n});
        return;
      case Form::wgrad:  // A is (k, m): the batch is the reduction
        k::linear_wgrad(ConstMatrixView{o.a.data(), s.k, s.m, s.m}, ConstMatrixView{o.b.data(), s.k, s.n, s.n},
                        o.c.data(), s.n);
        return;
      case Form::dgrad:  // W^T transposed once, as the executor does
        k::linear_nn(ConstMatrixView{o.a.data(), s.m, s.k, s.k}, w.bt.data(), s.n, false,
                     MatrixView{o.c.data(), s.m, s.n, s.n});
        return;
    }
  }
  k::set_gemm_backend(impl == 1 ? k::GemmBackend::onednn : k::GemmBackend::eigen);
  const bool ta = s.form == Form::wgrad;
  const bool tb = s.form == Form::dgrad;
  k::gemm(ta, tb, s.m, s.n, s.k, 1.0f, o.a.data(), ta ? s.m : s.k, tb ? w.bt.data() : (ta ? o : w).b.data(), tb ? s.k : s.n,
          0.0f, o.c.data(), s.n);
}

// Seconds per call of `impl` on `shape`, all threads multiplying their own operands at once: the best of
// `repeats` windows of min_time, each thread calling until the window's deadline, the window's length over
// the slower thread's call count (a data-parallel step waits for its slowest slice). Windows are bounded in
// time, not calibrated in calls: oneDNN's cost per call on one thread said little about its cost with both
// threads busy, and a count calibrated on one thread once made a single window take a minute.
double time_shape(const Shape& s, int impl, int threads, double min_time, int repeats) {
  std::vector<Operands> ops;
  ops.reserve(static_cast<size_t>(threads));
  for (int t = 0; t < threads; ++t) ops.emplace_back(s);
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    std::atomic<int> ready{0};
    std::vector<int64_t> calls(static_cast<size_t>(threads), 0);
    Clock::time_point start, deadline;
    std::atomic<bool> go{false};
    const auto body = [&](int t) {
      // oneDNN runs on libgomp: each caller is one thread of a split batch, as in the executor, so oneDNN
      // must not start a team of its own per call (that ran 4 threads on 2 cores and slowed it down).
      omp_set_num_threads(1);
      if (impl != 0) k::set_gemm_backend(impl == 1 ? k::GemmBackend::onednn : k::GemmBackend::eigen);
      Operands& own = ops[static_cast<size_t>(t)];
      const Operands& weights = s.form == Form::wgrad ? own : ops[0];  // one copy of the weights, as in a step
      run_once(s, own, weights, impl);  // warm: caches, oneDNN's first-call set-up
      ++ready;
      if (t == 0) {
        while (ready.load() < threads) {
        }
        start = Clock::now();
        deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(min_time));
        go.store(true, std::memory_order_release);
      }
      while (!go.load(std::memory_order_acquire)) {
      }
      int64_t n = 0;
      do {
        for (int i = 0; i < 4; ++i) run_once(s, own, weights, impl);
        n += 4;
      } while (Clock::now() < deadline);
      calls[static_cast<size_t>(t)] = n;
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(body, t);
    body(0);
    for (std::thread& th : pool) th.join();
    const double window = std::chrono::duration<double>(Clock::now() - start).count();
    best = std::min(best, window / static_cast<double>(*std::min_element(calls.begin(), calls.end())));
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  const size_t d = static_cast<size_t>(a.d), E = static_cast<size_t>(a.experts), U = static_cast<size_t>(a.units),
               W = static_cast<size_t>(a.tower), T = static_cast<size_t>(a.tasks);
  const size_t first_cols = E * U + T * E;  // every expert's hidden layer and every task's gate logits
  const char* impl_names[] = {"mmoe", "onednn", "eigen"};
  for (int batch : a.batches) {
    const size_t R = static_cast<size_t>(batch) / static_cast<size_t>(a.threads);  // each thread's slice
    const std::vector<Shape> shapes = {
        {"first layer forward", Form::forward, R, first_cols, d, 1},
        {"first layer weight gradient", Form::wgrad, d, first_cols, R, 1},
        {"tower hidden forward", Form::forward, R, W, U, a.tasks},
        {"tower output forward", Form::forward, R, 1, W, a.tasks},
        {"tower output weight gradient", Form::wgrad, W, 1, R, a.tasks},
        {"tower output input gradient", Form::dgrad, R, W, 1, a.tasks},
        {"tower hidden weight gradient", Form::wgrad, U, W, R, a.tasks},
        {"tower hidden input gradient", Form::dgrad, R, U, W, a.tasks},
    };
    double step = 0.0, flop = 0.0;
    std::string parts;
    for (const Shape& s : shapes) {
      double best = 1e30;
      int best_impl = 0;
      for (int impl = 0; impl < 3; ++impl) {
        const double t = time_shape(s, impl, a.threads, a.min_time, a.repeats);
        if (t < best) best = t, best_impl = impl;
      }
      step += best * s.count;
      flop += 2.0 * static_cast<double>(s.m * s.n * s.k) * s.count * a.threads;
      char part[200];
      std::snprintf(part, sizeof part, "%s{\"gemm\":\"%s\",\"m\":%zu,\"n\":%zu,\"k\":%zu,\"count\":%d,\"best\":\"%s\",\"us\":%.3f}",
                    parts.empty() ? "" : ",", s.what, s.m, s.n, s.k, s.count, impl_names[best_impl], best * 1e6);
      parts += part;
    }
    std::printf("{\"mode\":\"ceiling\",\"label\":\"%s\",\"batch\":%d,\"threads\":%d,\"gemm_seconds_per_step\":%.9f,"
                "\"gemm_flop_per_sample\":%.0f,\"gflops\":%.1f,\"samples_per_s\":%.0f,\"shapes\":[%s]}\n",
                a.label.c_str(), batch, a.threads, step, flop / batch, flop / step / 1e9, batch / step, parts.c_str());
    std::fflush(stdout);
  }
  return 0;
}
