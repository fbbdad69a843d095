// mmoe_throughput: the mmoe side of bench/run.sh, measured the way ../shared/peers/torch_mmoe.py measures
// PyTorch (same shapes, same loss, same data sizes), so the two can be put side by side.
//
//   mmoe_throughput train --arch mmoe --d 100 --experts 8 --units 16 --tower 8 --tasks 2
//       --batches 1,32,256,1024,4096 --threads 1,2 --min-time 0.2 --repeats 5
//   mmoe_throughput infer --arch mmoe --d 100 ... --threads 1      # batch-1 latency + batch-4096 throughput
//   mmoe_throughput threads --arch mmoe --d 100 ... --batches 256,1024,4096 --repeats 11 --min-time 0.08
//
// train: a step is Executor::forward_backward (BCE on random 0/1 labels, like the peer) + one Adam step,
// over consecutive batches of a random N(0,1) input with 4 x max(batch) rows (the peer's n_rows). Warm-up
// steps first, then `repeats` windows of >= min_time seconds each; samples/s = batch / median step time.
// infer: Executor::predict; latency of single-row calls (p50/p99 over --lat-calls calls) and the throughput
// of batch --infer-batch (median window).
// threads: the 2-thread speed-up, measured in rounds of three back-to-back windows (their order rotating from
// round to round): one thread, two threads, and two independent 1-thread trainers (own model, executor and
// optimizer each) on half a batch each, in two threads of this process. The third is what this machine gives
// two threads that share nothing at that moment: on a shared VM the two vCPUs' speed and the cost of moving a
// cache line between them change from second to second, so ratios are taken within a round and their
// median over the rounds is reported. One JSON object per measurement goes to stdout.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <random>
#include <thread>
#include <string>
#include <vector>

#include "bench_args.h"
#include "mmoe/model.h"
#include "mmoe/optim.h"
#include "mmoe/spec.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string mode = "train";
  std::string arch = "mmoe";
  int d = 100, experts = 8, units = 16, tower = 8, tasks = 2;
  std::vector<int> batches = {32, 256, 1024, 4096};
  std::vector<int> threads = {2};
  double min_time = 0.3;
  int repeats = 5;
  int warmup = 20;
  // Warm-up also lasts at least this long, so both cores are busy for a while before the timing starts: the
  // 2-thread figures measured right after the 1-thread ones are the noisiest on this shared VM.
  double warmup_time = 0.2;
  int lat_calls = 2000;
  int infer_batch = 4096;
  std::string label;  // free text copied into every JSON line
};

Args parse(int argc, char** argv) {
  Args a;
  if (argc > 1) a.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--arch") a.arch = v;
    else if (k == "--d") a.d = std::atoi(v.c_str());
    else if (k == "--experts") a.experts = std::atoi(v.c_str());
    else if (k == "--units") a.units = std::atoi(v.c_str());
    else if (k == "--tower") a.tower = std::atoi(v.c_str());
    else if (k == "--tasks") a.tasks = std::atoi(v.c_str());
    else if (k == "--batches") a.batches = mmoe_bench::parse_list(v);
    else if (k == "--threads") a.threads = mmoe_bench::parse_list(v);
    else if (k == "--min-time") a.min_time = std::atof(v.c_str());
    else if (k == "--repeats") a.repeats = std::atoi(v.c_str());
    else if (k == "--warmup") a.warmup = std::atoi(v.c_str());
    else if (k == "--warmup-time") a.warmup_time = std::atof(v.c_str());
    else if (k == "--lat-calls") a.lat_calls = std::atoi(v.c_str());
    else if (k == "--infer-batch") a.infer_batch = std::atoi(v.c_str());
    else if (k == "--label") a.label = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      std::exit(2);
    }
  }
  return a;
}

// The peer's shapes: MMoE/OMoE = E experts of `units`; Shared-Bottom = one bottom of E*units (same FLOPs).
mmoe::ModelSpec make_spec(const Args& a) {
  mmoe::ModelSpec s;
  s.arch = mmoe::parse_arch(a.arch == "sb" ? "shared-bottom" : a.arch);
  s.n_expert = a.experts;
  s.expert_units = {s.arch == mmoe::Arch::shared_bottom ? a.experts * a.units : a.units};
  s.tower_units = {a.tower};
  for (int k = 0; k < a.tasks; ++k) s.tasks.push_back({"y" + std::to_string(k), mmoe::TaskKind::binary, 1.0f});
  s.n_dense = a.d;
  return s;
}

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Runs fn back to back for `repeats` windows of >= min_time s; returns the per-call seconds of each window.
// cpu (optional): the process CPU seconds per call of each window. On a shared machine CPU time is the
// steadier figure for one thread (it leaves out the time the thread was not running).
template <typename Fn>
std::vector<double> windows(Fn&& fn, double min_time, int repeats, std::vector<double>* cpu = nullptr) {
  std::vector<double> per;
  for (int r = 0; r < repeats; ++r) {
    int64_t it = 0;
    const auto t0 = Clock::now();
    const double c0 = cpu_seconds();
    double el = 0.0;
    do {
      fn();
      ++it;
      el = std::chrono::duration<double>(Clock::now() - t0).count();
    } while (el < min_time || it < 5);
    per.push_back(el / static_cast<double>(it));
    if (cpu) cpu->push_back((cpu_seconds() - c0) / static_cast<double>(it));
  }
  return per;
}

// A model, executor and Adam optimizer for one thread count and batch size B; `next` is its next batch.
struct Run {
  Run(const mmoe::ModelSpec& s, size_t batch, int nt) : model(s), exec(model, batch, nt), opt(model, {}), B(batch) {
    model.init(1);
  }
  mmoe::Model model;
  mmoe::Executor exec;
  mmoe::Optimizer opt;
  size_t B;
  size_t next = 0;
  std::vector<double> per, cpu;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  const mmoe::ModelSpec spec = make_spec(a);
  const int max_batch = std::max(*std::max_element(a.batches.begin(), a.batches.end()), a.infer_batch);
  const size_t n_rows = static_cast<size_t>(max_batch) * 4;
  std::mt19937 gen(1);
  std::normal_distribution<float> normal;
  std::bernoulli_distribution coin(0.3);
  std::vector<float> x(n_rows * static_cast<size_t>(a.d)), y(n_rows * static_cast<size_t>(a.tasks));
  for (float& v : x) v = normal(gen);
  for (float& v : y) v = coin(gen) ? 1.0f : 0.0f;
  auto batch_at = [&](size_t i, size_t B) {
    return mmoe::BatchView{B, x.data() + i * B * static_cast<size_t>(a.d), nullptr,
                           y.data() + i * B * static_cast<size_t>(a.tasks), nullptr};
  };

  // One training step as the trainer does it: forward + backward with the Adam update fused in.
  auto step = [&](Run& r) {
    r.exec.forward_backward(batch_at(r.next, r.B), r.opt.fused_update(r.model, r.opt.config().lr));
    r.next = (r.next + 1) % (n_rows / r.B);
  };
  const char* fmt_head = "{\"mode\":\"%s\",\"label\":\"%s\",\"arch\":\"%s\",\"d\":%d,\"experts\":%d,\"units\":%d,"
                         "\"tower\":%d,\"tasks\":%d,\"threads\":%d,\"params\":%zu,";
  if (a.mode == "train") {
    // Per batch size, one model, executor and optimizer per thread count, with their timing windows interleaved
    // (1 thread, 2 threads, 1 thread, ...): this host's speed drifts over seconds, and a 2T / 1T ratio of
    // windows taken a minute apart (all 1-thread batches first, as before) measured the drift as much as the
    // threads.
    for (int b : a.batches) {
      const size_t B = static_cast<size_t>(b);
      std::vector<std::unique_ptr<Run>> runs;
      for (int nt : a.threads) runs.push_back(std::make_unique<Run>(spec, B, nt));
      for (auto& r : runs) {
        const auto warm_start = Clock::now();
        for (int w = 0; w < a.warmup || std::chrono::duration<double>(Clock::now() - warm_start).count() < a.warmup_time;
             ++w)
          step(*r);
      }
      for (int rep = 0; rep < a.repeats; ++rep)
        for (auto& r : runs) {
          std::vector<double> cpu;
          const std::vector<double> per = windows([&] { step(*r); }, a.min_time, 1, &cpu);
          r->per.push_back(per[0]);
          r->cpu.push_back(cpu[0]);
        }
      for (size_t k = 0; k < runs.size(); ++k) {
        const Run& r = *runs[k];
        const double med = median(r.per), best = *std::min_element(r.per.begin(), r.per.end());
        std::printf(fmt_head, "train", a.label.c_str(), a.arch.c_str(), a.d, a.experts, a.units, a.tower, a.tasks,
                    a.threads[k], r.model.n_params());
        std::printf("\"batch\":%d,\"samples_per_s_median\":%.1f,\"samples_per_s_best\":%.1f,\"us_per_step_median\":%.3f,"
                    "\"cpu_us_per_step_min\":%.3f}\n",
                    b, static_cast<double>(B) / med, static_cast<double>(B) / best, med * 1e6,
                    *std::min_element(r.cpu.begin(), r.cpu.end()) * 1e6);
        std::fflush(stdout);
      }
    }
    return 0;
  }
  if (a.mode == "threads") {
    for (int b : a.batches) {
      const size_t B = static_cast<size_t>(b);
      if (B < 2) continue;
      Run one(spec, B, 1), two(spec, B, 2), half_a(spec, B / 2, 1), half_b(spec, B - B / 2, 1);
      // Samples/s of one window of one run, or of the private pair (both trainers step until the deadline).
      auto window = [&](Run& r) { return static_cast<double>(r.B) / windows([&] { step(r); }, a.min_time, 1)[0]; };
      auto pair_window = [&] {
        const auto t0 = Clock::now();
        const auto deadline = t0 + std::chrono::duration<double>(a.min_time);
        int64_t it_b = 0;
        std::thread other([&] {
          for (; Clock::now() < deadline; ++it_b) step(half_b);
        });
        int64_t it_a = 0;
        for (; Clock::now() < deadline; ++it_a) step(half_a);
        other.join();
        const double el = std::chrono::duration<double>(Clock::now() - t0).count();
        return (static_cast<double>(it_a) * static_cast<double>(half_a.B) + static_cast<double>(it_b) * static_cast<double>(half_b.B)) / el;
      };
      for (Run* r : {&one, &two}) window(*r);  // warm-up: caches, page faults, the worker pool's first wake-up
      pair_window();
      std::vector<double> r1, r2, rp;
      for (int round = 0; round < a.repeats; ++round)
        for (int k = 0; k < 3; ++k) switch ((round + k) % 3) {
            case 0: r1.push_back(window(one)); break;
            case 1: r2.push_back(window(two)); break;
            default: rp.push_back(pair_window()); break;
          }
      std::vector<double> shared_over_one, private_over_one, shared_over_private;
      for (size_t i = 0; i < r1.size(); ++i) {
        shared_over_one.push_back(r2[i] / r1[i]);
        private_over_one.push_back(rp[i] / r1[i]);
        shared_over_private.push_back(r2[i] / rp[i]);
      }
      std::printf(fmt_head, "threads", a.label.c_str(), a.arch.c_str(), a.d, a.experts, a.units, a.tower, a.tasks, 2,
                  one.model.n_params());
      std::printf("\"batch\":%d,\"rounds\":%d,\"window_s\":%.3f,\"one_thread_samples_per_s_median\":%.1f,"
                  "\"two_threads_samples_per_s_median\":%.1f,\"private_pair_samples_per_s_median\":%.1f,"
                  "\"speedup_median\":%.3f,\"speedup_min\":%.3f,\"speedup_max\":%.3f,"
                  "\"private_pair_speedup_median\":%.3f,\"shared_over_private_median\":%.3f}\n",
                  b, a.repeats, a.min_time, median(r1), median(r2), median(rp), median(shared_over_one),
                  *std::min_element(shared_over_one.begin(), shared_over_one.end()),
                  *std::max_element(shared_over_one.begin(), shared_over_one.end()), median(private_over_one),
                  median(shared_over_private));
      std::fflush(stdout);
    }
    return 0;
  }
  if (a.mode != "infer") {
    std::fprintf(stderr, "usage: mmoe_throughput train|infer|threads [--arch mmoe|omoe|sb] [--d N] ...\n");
    return 2;
  }
  for (int nt : a.threads) {  // infer
    mmoe::Model model(spec);
    model.init(1);
    const size_t IB = static_cast<size_t>(a.infer_batch);
    std::vector<float> out(IB * static_cast<size_t>(a.tasks));
    double p50 = 0, p99 = 0;
    {
      mmoe::Executor exec(model, 1, nt);
      const mmoe::BatchView one = batch_at(0, 1);
      for (int w = 0; w < 200; ++w) exec.predict(one, out.data());
      std::vector<double> lat(static_cast<size_t>(a.lat_calls));
      for (double& l : lat) {
        const auto t0 = Clock::now();
        exec.predict(one, out.data());
        l = std::chrono::duration<double>(Clock::now() - t0).count();
      }
      std::sort(lat.begin(), lat.end());
      p50 = lat[lat.size() / 2];
      p99 = lat[std::min(lat.size() - 1, static_cast<size_t>(0.99 * static_cast<double>(lat.size()) + 0.999) - 1)];
    }
    mmoe::Executor exec(model, IB, nt);
    const mmoe::BatchView big = batch_at(0, IB);
    for (int w = 0; w < 5; ++w) exec.predict(big, out.data());
    const std::vector<double> per = windows([&] { exec.predict(big, out.data()); }, a.min_time, a.repeats);
    std::printf(fmt_head, "infer", a.label.c_str(), a.arch.c_str(), a.d, a.experts, a.units, a.tower, a.tasks, nt,
                model.n_params());
    std::printf("\"latency_b1_p50_us\":%.3f,\"latency_b1_p99_us\":%.3f,\"infer_batch\":%d,"
                "\"infer_samples_per_s_median\":%.1f}\n",
                p50 * 1e6, p99 * 1e6, a.infer_batch, static_cast<double>(IB) / median(per));
    std::fflush(stdout);
  }
  return 0;
}
