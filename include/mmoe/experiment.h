// mmoe/experiment.h: the paper's synthetic-data experiments (Sec. 3.3 and 5, Figs. 2 to 5), rerun at scale.
//
// An experiment trains every model of `models` R = `runs` times at every task correlation of `correlations`.
// Each run draws a fresh task (w1, w2, alpha, beta) and fresh rows from the generator of mmoe/synth.h, and
// a fresh initialisation; it records the training loss and the held-out loss every `eval_every_steps`, the
// final losses on the whole training and held-out sets, and (MoE models) the mean gate weight of every
// expert for every task. Independently of training, a sweep measures the Pearson correlation of the two
// labels against the cosine p of w1 and w2 (Fig. 2).
//
//   mmoe::ExperimentConfig cfg = mmoe::load_experiment_config("experiments/paper-synthetic.toml");
//   cfg.runs = 20;                                    // a quick look
//   mmoe::ExperimentResult res = mmoe::run_experiment(cfg, on_progress);
//   mmoe::write_experiment_files(res, "out/synthetic");   // CSVs + gnuplot data (see below)
//
// Seeds. Everything derives from `seed` through mmoe::Rng::derive, keyed by indices, never by timing:
//   data of run r (any model, any correlation)   Rng(seed).derive(1).derive(r)
//   init + batch order of (model m, corr. c, r)   Rng(seed).derive(2).derive(m).derive(c).derive(r).next_u64()
// The generator draws u1, u2, alpha, beta, x and eps in the same order for every p, so run r at two
// correlations differs in w2 alone, and all models of run r train on the same rows: differences between models
// or between correlations are not differences between drawn tasks (some sines are much harder to fit than
// others). Run r is the same run whether R is 20 or 200.
//
// Parallelism. `threads` worker std::threads pull runs from one queue; each run trains on one thread
// (TrainConfig::threads = 1), which on small models beats splitting every batch across cores. Results go
// to their run's slot, so the output is byte-identical for any thread count and any scheduling.
//
// Loss. The training objective of the two regression tasks: MSE(y1) + MSE(y2) on the raw labels (the
// noise floor is 2 * noise_std^2 = 0.02 with the defaults).
//
// Files written by write_experiment_files into out_dir:
//   curves.csv     model,correlation,run,step,train_loss,heldout_loss   (train_loss: mean over the steps since
//                  the previous point; heldout_loss: on the whole held-out set at that step)
//   final.csv      model,correlation,run,train_loss,heldout_loss,seconds  (one row per run)
//   summary.csv    split,model,correlation,runs,mean,std,min,median,max  (of the final loss; split = heldout or
//   summary.md     train; std is the sample standard deviation, n - 1), and the same as Markdown tables
//   gates.csv      model,correlation,task,expert_rank,mean_weight,std_weight (see GateTable below)
//   fig2.csv       cosine,trials,mean,std,min,max  (label Pearson correlation)
//   plot/*.dat, plot/meta.gp   mean curves, gate weights and Fig. 2 laid out for the gnuplot scripts in
//                  experiments/plots/ (the Fig. 5 script bins final.csv itself, on a log scale)
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "mmoe/spec.h"
#include "mmoe/synth.h"
#include "mmoe/train.h"

namespace mmoe {

struct ExperimentConfig {
  // ---- [experiment] ----
  std::vector<Arch> models = {Arch::shared_bottom, Arch::omoe, Arch::mmoe};
  std::vector<double> correlations = {0.5, 0.9, 1.0};
  int runs = 200;       // per (model, correlation)
  uint64_t seed = 1;
  int threads = 2;      // worker threads (runs in parallel); each run trains on one

  // ---- [data]: the generator (synth.correlation and synth.seed are set per run) ----
  SynthConfig synth;
  size_t train_rows = 10000;
  size_t heldout_rows = 2000;

  // ---- [model]: n_expert, expert_units, tower_units, init (arch, tasks, n_dense are set per model) ----
  ModelSpec spec;
  // Shared-Bottom widths; empty = one layer whose model has as many parameters as the MMoE (gates included).
  std::vector<int> bottom_units;

  // ---- [train]: batch_size, max_steps, optim, eval_every_steps (seed and threads are set per run) ----
  TrainConfig train;

  // ---- [sweep]: Fig. 2, label Pearson correlation against cos(w1, w2); no training ----
  std::vector<double> sweep_cosines;  // empty = -1, -0.9, ..., 1
  int sweep_trials = 20;              // fresh task and rows per trial
  size_t sweep_rows = 5000;

  // Throws ErrorKind::usage naming the key ("experiment.runs", "train.lr", ...).
  void validate() const;
};

// A TOML description ([experiment], [data], [model], [train], [sweep]; the format is in
// experiments/paper-synthetic.toml). Unknown keys are usage errors naming the key and its file position,
// with the nearest valid key as a hint; so are wrong types and out-of-range values.
ExperimentConfig parse_experiment_config(const std::string& toml_text, const std::string& source = "<experiment>");
ExperimentConfig load_experiment_config(const std::string& path);

// The ModelSpec of config.models[model] (Shared-Bottom width resolved).
ModelSpec experiment_spec(const ExperimentConfig& config, int model);
// The one-layer Shared-Bottom width with the parameter count nearest the MMoE of `moe`'s experts, towers, tasks
// and inputs. The count is linear in the width, so it is solved directly.
int matched_bottom_units(const ModelSpec& moe);

struct RunResult {
  int model = 0, correlation = 0, run = 0;  // indices into config.models, config.correlations; run number
  std::vector<CurvePoint> curve;            // valid_loss = the held-out loss
  double train_loss = 0.0;                  // final, on the whole training set
  double heldout_loss = 0.0;                // final, on the whole held-out set
  // (n_task, n_expert): mean gate probability of each expert in the gate that feeds task k (OMoE: the one
  // gate, twice), over the held-out rows. Empty for gate-less models.
  std::vector<double> gate_weight;
  double seconds = 0.0;                     // wall time of this run (data, training, evaluation)
};

// Fig. 2: one cosine p, `trials` draws of (task, rows), the Pearson correlation of y1 and y2 of each.
struct SweepPoint {
  double cosine = 0.0;
  std::vector<double> pearson;  // (trials)
};

struct ExperimentResult {
  ExperimentConfig config;
  std::vector<ModelSpec> specs;   // (models)
  std::vector<size_t> n_params;   // (models)
  std::vector<RunResult> runs;    // (models, correlations, runs), see index()
  std::vector<SweepPoint> sweep;  // (cosines)
  double wall_seconds = 0.0;      // run_experiment's wall time

  size_t index(int model, int correlation, int run) const;
  const RunResult& at(int model, int correlation, int run) const { return runs[index(model, correlation, run)]; }
};

struct ExperimentProgress {
  size_t done = 0, total = 0;     // finished training runs
  double elapsed_seconds = 0.0;
  const RunResult* last = nullptr;  // the run that just finished
};
// Called from the worker threads, one call at a time (under a lock), after each finished run.
using ExperimentProgressFn = std::function<void(const ExperimentProgress&)>;

// Validates the config, runs the sweep and all trainings on config.threads workers. The first error of any run
// (in run order) is rethrown after the workers stopped.
ExperimentResult run_experiment(const ExperimentConfig& config, const ExperimentProgressFn& progress = {});

// One training run (what a worker does), single-threaded; exposed for tests and custom drivers.
RunResult run_one(const ExperimentConfig& config, const ModelSpec& spec, int model, int correlation, int run);

// The Fig. 2 sweep alone, on `threads` workers.
std::vector<SweepPoint> label_correlation_sweep(const ExperimentConfig& config, int threads);

// Pearson correlation of two equally long columns; NaN if either is constant or they are empty.
double pearson(std::span<const double> a, std::span<const double> b);

// Mean, sample standard deviation (n - 1; 0 for one value), min, median (mean of the middle two for even n),
// max. All NaN for no values.
struct Summary {
  size_t n = 0;
  double mean = 0.0, std = 0.0, min = 0.0, median = 0.0, max = 0.0;
};
Summary summarize(std::span<const double> values);

// Mean gate weights per (model, correlation, task, expert rank). Expert indices mean nothing across runs
// (experts are interchangeable, so "expert 3" of run 1 and of run 2 are unrelated), so each run's experts are
// ranked by the weight task 0's gate gives them (rank 0 = task 0's favourite) before averaging. A task-1 gate
// that specialises shows up as a profile different from task 0's.
struct GateRow {
  int model = 0, correlation = 0, task = 0, rank = 0;
  double mean = 0.0, std = 0.0;
};
std::vector<GateRow> gate_table(const ExperimentResult& result);

// Writes the files listed at the top into out_dir (created if missing); each file appears atomically.
// Returns the paths written. Throws ErrorKind::io naming the path.
std::vector<std::string> write_experiment_files(const ExperimentResult& result, const std::string& out_dir);

// "shared_bottom" -> "Shared-Bottom", "omoe" -> "OMoE", "mmoe" -> "MMoE" (figure legends).
const char* display_name(Arch arch);

}  // namespace mmoe
