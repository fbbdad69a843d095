// mmoe/train.h: the training loop, evaluation and prediction over Datasets.
//
//   mmoe::TrainConfig cfg;
//   cfg.epochs = 20; cfg.batch_size = 256; cfg.optim.lr = 1e-3; cfg.seed = 1; cfg.threads = 2;
//   mmoe::Model model(spec);
//   mmoe::TrainResult result = mmoe::train(model, train_set, &valid_set, cfg, on_progress);
//   mmoe::Evaluation ev = mmoe::evaluate(model, test_set, /*threads=*/2);
//
// Determinism: parameters are drawn from `seed`, the data order of epoch e from (seed, e); the batch split
// across threads has a fixed reduction order. Same seed + same thread count => bit-identical model.
// Early stopping watches one task's validation metric (auc for binary tasks, mse for regression unless
// told otherwise), keeps the best weights and restores them at the end.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mmoe/dataset.h"
#include "mmoe/metrics.h"
#include "mmoe/model.h"
#include "mmoe/model_file.h"
#include "mmoe/optim.h"

namespace mmoe {

enum class Schedule { constant, step, cosine };
const char* to_string(Schedule schedule);
Schedule parse_schedule(const std::string& text);

struct TrainConfig {
  int epochs = 20;
  int64_t max_steps = 0;   // > 0: stop after this many optimizer steps (may end mid-epoch)
  size_t batch_size = 256;
  uint64_t seed = 1;
  int threads = 2;
  bool shuffle = true;
  bool init_params = true;  // false: keep the model's current parameters (fine-tuning, tests)
  OptimConfig optim;
  Schedule schedule = Schedule::constant;
  int step_epochs = 10;      // step schedule: multiply the lr by step_gamma every step_epochs epochs
  double step_gamma = 0.1;
  double min_lr = 0.0;       // cosine schedule floor
  int64_t warmup_steps = 0;  // linear warm-up from 0
  double clip_grad_norm = 0.0;  // > 0: rescale the gradient to at most this L2 norm
  // Early stopping: 0 = off. The metric is watched on the validation set after every epoch.
  int patience = 0;
  std::string early_stopping_task;    // empty = the first task
  std::string early_stopping_metric;  // empty = auc (binary) / mse (regression)
  bool restore_best = true;           // with a validation set: end with the best epoch's weights
  int eval_every_steps = 0;           // > 0: also record the loss curves every N steps (experiments)
};

// One point of the loss curves: the mean training loss since the previous point and the validation loss.
struct CurvePoint {
  int64_t step = 0;
  double train_loss = 0.0;
  double valid_loss = 0.0;  // NaN without a validation set
};

struct EpochRecord {
  int epoch = 0;
  int64_t steps = 0;  // optimizer steps so far
  double train_loss = 0.0;
  double valid_loss = 0.0;
  double lr = 0.0;
  double seconds = 0.0;  // wall time of this epoch's training (without validation)
  std::map<std::string, std::map<std::string, double>> valid_metrics;  // task -> metric -> value
};

struct TrainResult {
  std::vector<EpochRecord> history;
  std::vector<CurvePoint> curve;
  int best_epoch = 0;           // 1-based; the epoch whose weights the model ends with
  double best_metric = 0.0;
  std::string watched_task, watched_metric;
  bool stopped_early = false;
  double train_seconds = 0.0;   // sum of the epochs' training time
  int64_t steps = 0;
};

struct Progress {
  int epoch = 0, epochs = 0;
  int64_t step = 0, steps_per_epoch = 0;
  double loss = 0.0;          // running mean training loss of this epoch
  bool epoch_done = false;    // true once per epoch, after validation
  const EpochRecord* record = nullptr;  // set when epoch_done
};
using ProgressFn = std::function<void(const Progress&)>;

// Checkpointing: every `every_steps` optimizer steps, `save` gets everything needed to continue exactly:
// the model, the optimizer (moments, step count), the loop state as JSON (epoch, batch, loss sums, history,
// early-stopping state) and the best weights so far. Passing a loaded checkpoint as `resume` continues from it
// (its model must be the `model` argument's parameters already); with the same data, seed, batch size and
// thread count the result is bit-identical to an uninterrupted run.
struct CheckpointHooks {
  int64_t every_steps = 0;
  std::function<void(const Model&, const Optimizer&, const nlohmann::json& state, std::span<const float> best)> save;
  const LoadedCheckpoint* resume = nullptr;
};

TrainResult train(Model& model, const Dataset& train_set, const Dataset* valid_set, const TrainConfig& config,
                  const ProgressFn& progress = {}, const CheckpointHooks& checkpoints = {});

// Rows per batch of prediction and evaluation.
inline constexpr size_t kPredictBatch = 4096;

// Predictions for every row: (rows, n_task) probabilities (binary) or values (regression).
std::vector<float> predict(Model& model, const Dataset& data, int threads, size_t batch_size = kPredictBatch);
// Gate probabilities for every row (rows, n_gate * bank); empty for gate-less models.
std::vector<float> predict_gates(Model& model, const Dataset& data, int threads, size_t batch_size = kPredictBatch);

struct Evaluation {
  std::map<std::string, std::map<std::string, double>> tasks;  // task -> metric -> value
  double loss = 0.0;  // the training objective on this data
  std::optional<GateStats> gates;
};
// Metrics and the objective on `data`, and (gate_stats, models with gates) the gate statistics, from one pass.
Evaluation evaluate(Model& model, const Dataset& data, int threads, bool gate_stats = true);

}  // namespace mmoe
