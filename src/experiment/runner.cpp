// Running an experiment: one training run, the Fig. 2 sweep, and the pool of workers that runs them in parallel.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <mutex>

#include "core/fork_join.h"
#include "mmoe/error.h"
#include "mmoe/experiment.h"
#include "mmoe/model.h"
#include "mmoe/rng.h"

namespace mmoe {

namespace {

using Clock = std::chrono::steady_clock;

// Rng::derive streams of the experiment seed (see mmoe/experiment.h).
constexpr uint64_t kDataStream = 1;
constexpr uint64_t kInitStream = 2;
constexpr uint64_t kSweepStream = 3;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Runs fn(0..n-1) on `threads` workers pulling indices from one counter. The first failure stops the pulling;
// the failure of the lowest index is rethrown once every worker has stopped, so what is reported does not
// depend on which worker got there first.
void parallel_for(size_t n, int threads, const std::function<void(size_t)>& fn) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  size_t error_index = n;
  std::exception_ptr error;
  auto worker = [&]() {
    for (;;) {
      if (failed.load()) return;
      const size_t i = next.fetch_add(1);
      if (i >= n) return;
      try {
        fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (i < error_index) {
          error_index = i;
          error = std::current_exception();
        }
        failed.store(true);
      }
    }
  };
  const size_t n_workers = std::min(static_cast<size_t>(std::max(threads, 1)), std::max<size_t>(n, 1));
  detail::fork_join(n_workers, [&](size_t) { worker(); });  // the calling thread is worker 0
  if (error) std::rethrow_exception(error);
}

// MSE(y1) + MSE(y2) + ...: the training objective of regression tasks (all loss weights are 1 here).
double objective(Model& model, const Dataset& data) {
  const std::vector<float> pred = predict(model, data, 1);
  const size_t T = data.n_task;
  double total = 0.0;
  std::vector<float> p(data.rows), y(data.rows);
  for (size_t k = 0; k < T; ++k) {
    for (size_t i = 0; i < data.rows; ++i) {
      p[i] = pred[i * T + k];
      y[i] = data.labels[i * T + k];
    }
    total += mse(p, y);
  }
  return total;
}

}  // namespace

size_t ExperimentResult::index(int model, int correlation, int run) const {
  const size_t n_corr = config.correlations.size();
  return (static_cast<size_t>(model) * n_corr + static_cast<size_t>(correlation)) * static_cast<size_t>(config.runs) +
         static_cast<size_t>(run);
}

const char* display_name(Arch arch) {
  switch (arch) {
    case Arch::mmoe: return "MMoE";
    case Arch::omoe: return "OMoE";
    case Arch::shared_bottom: return "Shared-Bottom";
    case Arch::single_task: return "Single-Task";
  }
  return "?";
}

int matched_bottom_units(const ModelSpec& moe) {
  ModelSpec target_spec = moe;
  target_spec.arch = Arch::mmoe;
  const double target = static_cast<double>(Model(target_spec).n_params());
  // One bottom layer of width w: (inputs + 1) w weights and biases, plus towers whose first layer reads w
  // units; everything else is fixed. So count(w) = base + slope * w.
  auto count = [&](int width) {
    ModelSpec sb = moe;
    sb.arch = Arch::shared_bottom;
    sb.expert_units = {width};
    return static_cast<double>(Model(sb).n_params());
  };
  const double slope = count(2) - count(1);
  const double base = count(1) - slope;
  return std::max(1, static_cast<int>(std::lround((target - base) / slope)));
}

ModelSpec experiment_spec(const ExperimentConfig& config, int model) {
  ModelSpec spec = config.spec;
  spec.arch = config.models.at(static_cast<size_t>(model));
  spec.tasks = {{"y1", TaskKind::regression, 1.0f}, {"y2", TaskKind::regression, 1.0f}};
  spec.n_dense = config.synth.d;
  spec.cat_cardinality.clear();
  if (spec.arch == Arch::shared_bottom)
    spec.expert_units = config.bottom_units.empty() ? std::vector<int>{matched_bottom_units(spec)} : config.bottom_units;
  spec.validate();
  return spec;
}

RunResult run_one(const ExperimentConfig& config, const ModelSpec& spec, int model, int correlation, int run) {
  const auto t0 = Clock::now();
  RunResult out;
  out.model = model;
  out.correlation = correlation;
  out.run = run;

  // Fresh data per run: a new task and new rows. The stream depends on the run only, and the generator draws
  // u1, u2, alpha, beta, x and eps in the same order whatever p is, so run r at correlations 0.5, 0.9 and 1
  // differs in w2 alone, and every model of run r sees the same rows: comparisons across models and across
  // correlations are paired, not confounded with how hard the drawn sines happen to be.
  SynthConfig sc = config.synth;
  sc.correlation = config.correlations.at(static_cast<size_t>(correlation));
  Rng data_rng = Rng(config.seed).derive(kDataStream).derive(static_cast<uint64_t>(run));
  const SynthTask task = make_synth_task(sc, data_rng);
  const Dataset train_set = sample_synthetic(task, sc, config.train_rows, data_rng);
  const Dataset heldout = sample_synthetic(task, sc, config.heldout_rows, data_rng);

  TrainConfig tc = config.train;
  tc.threads = 1;
  tc.seed = Rng(config.seed).derive(kInitStream).derive(static_cast<uint64_t>(model))
                .derive(static_cast<uint64_t>(correlation)).derive(static_cast<uint64_t>(run)).next_u64();
  tc.epochs = 1;  // max_steps decides
  tc.patience = 0;
  tc.restore_best = false;

  Model net(spec);
  // The held-out loss of each curve point is computed here, right after the trainer recorded the point,
  // instead of passing the held-out set as validation data: the trainer would also evaluate it (gates
  // included) after every epoch, about 13% more work for numbers nobody plots.
  const int every = tc.eval_every_steps;
  std::vector<double> heldout_at;  // (points)
  const ProgressFn on_step = [&](const Progress& p) {
    if (p.epoch_done) return;
    const int64_t step = static_cast<int64_t>(p.epoch - 1) * p.steps_per_epoch + p.step;
    if (step % every == 0) heldout_at.push_back(objective(net, heldout));
  };
  TrainResult tr = train(net, train_set, nullptr, tc, on_step);
  MMOE_CHECK(tr.curve.size() == heldout_at.size(), "curve points and held-out evaluations disagree");
  out.curve = std::move(tr.curve);
  for (size_t i = 0; i < out.curve.size(); ++i) out.curve[i].valid_loss = heldout_at[i];

  out.train_loss = objective(net, train_set);
  const Evaluation ev = evaluate(net, heldout, 1);
  out.heldout_loss = ev.loss;
  if (ev.gates) {
    const GateStats& g = *ev.gates;
    for (int k = 0; k < spec.n_task(); ++k) {
      const int gate = spec.route(k);
      out.gate_weight.insert(out.gate_weight.end(), g.mean_weight.begin() + gate * g.n_expert,
                             g.mean_weight.begin() + (gate + 1) * g.n_expert);
    }
  }
  out.seconds = seconds_since(t0);
  return out;
}

double pearson(std::span<const double> a, std::span<const double> b) {
  if (a.size() != b.size()) throw Error(ErrorKind::usage, "pearson: columns of different lengths", "pearson");
  const size_t n = a.size();
  if (n == 0) return NAN;
  double ma = 0.0, mb = 0.0;
  for (size_t i = 0; i < n; ++i) {
    ma += a[i];
    mb += b[i];
  }
  ma /= static_cast<double>(n);
  mb /= static_cast<double>(n);
  double sab = 0.0, saa = 0.0, sbb = 0.0;
  for (size_t i = 0; i < n; ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  if (saa == 0.0 || sbb == 0.0) return NAN;
  return sab / std::sqrt(saa * sbb);
}

Summary summarize(std::span<const double> values) {
  Summary s;
  s.n = values.size();
  if (s.n == 0) {
    s.mean = s.std = s.min = s.median = s.max = NAN;
    return s;
  }
  std::vector<double> v(values.begin(), values.end());
  std::sort(v.begin(), v.end());
  double sum = 0.0;
  for (double x : v) sum += x;
  s.mean = sum / static_cast<double>(s.n);
  double sq = 0.0;
  for (double x : v) sq += (x - s.mean) * (x - s.mean);
  s.std = s.n > 1 ? std::sqrt(sq / static_cast<double>(s.n - 1)) : 0.0;
  s.min = v.front();
  s.max = v.back();
  s.median = s.n % 2 == 1 ? v[s.n / 2] : 0.5 * (v[s.n / 2 - 1] + v[s.n / 2]);
  return s;
}

std::vector<SweepPoint> label_correlation_sweep(const ExperimentConfig& config, int threads) {
  std::vector<double> cosines = config.sweep_cosines;
  if (cosines.empty())
    for (int i = -10; i <= 10; ++i) cosines.push_back(i / 10.0);
  const size_t trials = static_cast<size_t>(config.sweep_trials);
  std::vector<SweepPoint> sweep(cosines.size());
  for (size_t c = 0; c < cosines.size(); ++c) {
    sweep[c].cosine = cosines[c];
    sweep[c].pearson.assign(trials, NAN);
  }
  parallel_for(cosines.size() * trials, threads, [&](size_t item) {
    const size_t c = item / trials, t = item % trials;
    SynthConfig sc = config.synth;
    sc.correlation = cosines[c];
    Rng rng = Rng(config.seed).derive(kSweepStream).derive(c).derive(t);
    const SynthTask task = make_synth_task(sc, rng);
    const Dataset rows = sample_synthetic(task, sc, config.sweep_rows, rng);
    std::vector<double> y1(rows.rows), y2(rows.rows);
    for (size_t i = 0; i < rows.rows; ++i) {
      y1[i] = rows.labels[2 * i];
      y2[i] = rows.labels[2 * i + 1];
    }
    sweep[c].pearson[t] = pearson(y1, y2);
  });
  return sweep;
}

ExperimentResult run_experiment(const ExperimentConfig& config, const ExperimentProgressFn& progress) {
  config.validate();
  const auto t0 = Clock::now();
  ExperimentResult res;
  res.config = config;
  const int n_model = static_cast<int>(config.models.size());
  const int n_corr = static_cast<int>(config.correlations.size());
  for (int m = 0; m < n_model; ++m) {
    res.specs.push_back(experiment_spec(config, m));
    res.n_params.push_back(Model(res.specs.back()).n_params());
  }
  res.sweep = label_correlation_sweep(config, config.threads);

  const size_t total = static_cast<size_t>(n_model) * static_cast<size_t>(n_corr) * static_cast<size_t>(config.runs);
  res.runs.resize(total);
  std::mutex progress_mutex;
  size_t done = 0;
  // Runs are queued correlation-major, then run, then model: the three models of one data set finish close
  // together, and a stopped experiment has comparable numbers for every model.
  parallel_for(total, config.threads, [&](size_t item) {
    const int m = static_cast<int>(item % static_cast<size_t>(n_model));
    const size_t rest = item / static_cast<size_t>(n_model);
    const int r = static_cast<int>(rest % static_cast<size_t>(config.runs));
    const int c = static_cast<int>(rest / static_cast<size_t>(config.runs));
    RunResult& slot = res.runs[res.index(m, c, r)];
    slot = run_one(config, res.specs[static_cast<size_t>(m)], m, c, r);
    std::lock_guard<std::mutex> lock(progress_mutex);
    ++done;
    if (progress) progress(ExperimentProgress{done, total, seconds_since(t0), &slot});
  });
  res.wall_seconds = seconds_since(t0);
  return res;
}

}  // namespace mmoe
