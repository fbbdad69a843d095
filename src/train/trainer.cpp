// The training loop: shuffling, batching into preallocated staging buffers, the lr schedule, validation,
// early stopping with best-weight restore, and divergence checks. The step itself (Executor +
// Optimizer) allocates nothing.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <numeric>

#include "mmoe/error.h"
#include "mmoe/rng.h"
#include "mmoe/train.h"

namespace mmoe {

const char* to_string(Schedule schedule) {
  switch (schedule) {
    case Schedule::constant: return "constant";
    case Schedule::step: return "step";
    case Schedule::cosine: return "cosine";
  }
  return "?";
}

Schedule parse_schedule(const std::string& text) {
  if (text == "constant") return Schedule::constant;
  if (text == "step") return Schedule::step;
  if (text == "cosine") return Schedule::cosine;
  throw Error(ErrorKind::usage, "unknown schedule '" + text + "' (expected constant, step or cosine)", "train.schedule");
}

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Copies the listed rows of `data` into preallocated batch buffers.
struct Stager {
  std::vector<float> dense, labels, weights;
  std::vector<int32_t> cat;
  const Dataset* data = nullptr;

  Stager(const Dataset& d, size_t max_rows) : data(&d) {
    dense.resize(max_rows * d.n_dense);
    cat.resize(max_rows * d.n_cat);
    labels.resize(max_rows * d.n_task);
    if (!d.weights.empty()) weights.resize(max_rows);
  }

  BatchView stage(const size_t* rows, size_t n) {
    const Dataset& d = *data;
    for (size_t i = 0; i < n; ++i) {
      const size_t r = rows[i];
      std::memcpy(dense.data() + i * d.n_dense, d.dense.data() + r * d.n_dense, d.n_dense * sizeof(float));
      std::memcpy(cat.data() + i * d.n_cat, d.cat.data() + r * d.n_cat, d.n_cat * sizeof(int32_t));
      std::memcpy(labels.data() + i * d.n_task, d.labels.data() + r * d.n_task, d.n_task * sizeof(float));
      if (!weights.empty()) weights[i] = d.weights[r];
    }
    return BatchView{n, dense.data(), cat.data(), labels.data(), weights.empty() ? nullptr : weights.data()};
  }
};

BatchView contiguous(const Dataset& d, size_t begin, size_t n) {
  return BatchView{n, d.dense.data() + begin * d.n_dense, d.cat.data() + begin * d.n_cat,
                   d.labels.empty() ? nullptr : d.labels.data() + begin * d.n_task,
                   d.weights.empty() ? nullptr : d.weights.data() + begin};
}

void check_compatible(const Model& model, const Dataset& data, const char* which) {
  const ModelSpec& s = model.spec();
  if (static_cast<int64_t>(data.n_dense) != s.n_dense || data.n_cat != s.cat_cardinality.size())
    throw Error(ErrorKind::input,
                std::string("the ") + which + " data has " + std::to_string(data.n_dense) + " dense and " +
                    std::to_string(data.n_cat) + " categorical features, the model expects " +
                    std::to_string(s.n_dense) + " and " + std::to_string(s.cat_cardinality.size()));
  if (data.n_task != static_cast<size_t>(s.n_task()))
    throw Error(ErrorKind::input, std::string("the ") + which + " data has " + std::to_string(data.n_task) +
                                      " label columns, the model has " + std::to_string(s.n_task()) + " tasks");
  for (size_t j = 0; j < data.n_cat; ++j)
    if (data.cat_cardinality.size() == data.n_cat && data.cat_cardinality[j] > s.cat_cardinality[j])
      throw Error(ErrorKind::input, std::string("the ") + which + " data's categorical column " + std::to_string(j) +
                                        " has more categories than the model");
}

// Loss of the training objective from predictions (probabilities are clipped as in log loss).
double objective(const ModelSpec& spec, const Dataset& data, const std::vector<float>& pred) {
  const size_t T = data.n_task;
  double total = 0.0;
  for (size_t k = 0; k < T; ++k) {
    double sum = 0.0, mass = 0.0;
    for (size_t i = 0; i < data.rows; ++i) {
      const float y = data.labels[i * T + k];
      if (std::isnan(y)) continue;
      const double w = data.weights.empty() ? 1.0 : data.weights[i];
      const double p = pred[i * T + k];
      double l;
      if (spec.tasks[k].kind == TaskKind::binary) {
        const double q = std::clamp(p, 1e-7, 1.0 - 1e-7);
        l = -(y * std::log(q) + (1.0 - y) * std::log(1.0 - q));
      } else {
        l = (p - y) * (p - y);
      }
      sum += w * l;
      mass += w;
    }
    if (mass > 0.0) total += spec.tasks[k].loss_weight * sum / mass;
  }
  return total;
}

std::vector<float> task_column(const std::vector<float>& values, size_t rows, size_t stride, size_t k) {
  std::vector<float> col(rows);
  for (size_t i = 0; i < rows; ++i) col[i] = values[i * stride + k];
  return col;
}

double learning_rate(const TrainConfig& c, int epoch, int64_t step, int64_t total_steps) {
  double lr = c.optim.lr;
  switch (c.schedule) {
    case Schedule::constant: break;
    case Schedule::step: lr *= std::pow(c.step_gamma, (epoch - 1) / std::max(1, c.step_epochs)); break;
    case Schedule::cosine: {
      const double progress = total_steps > 0 ? std::min(1.0, static_cast<double>(step) / total_steps) : 0.0;
      lr = c.min_lr + (c.optim.lr - c.min_lr) * 0.5 * (1.0 + std::cos(3.14159265358979323846 * progress));
      break;
    }
  }
  if (c.warmup_steps > 0 && step < c.warmup_steps) lr *= static_cast<double>(step + 1) / c.warmup_steps;
  return lr;
}

// Names the first tensor whose gradient is not finite (only the touched rows of sparse tables count).
std::string first_bad_gradient(const Model& model, std::span<const int32_t> touched) {
  const float* g = model.grads().data();
  for (const ParamTensor& t : model.tensors()) {
    if (t.row_sparse) {
      const size_t width = static_cast<size_t>(t.shape[1]);
      for (int32_t r : touched)
        for (size_t c = 0; c < width; ++c)
          if (!std::isfinite(g[t.offset + static_cast<size_t>(r) * width + c])) return t.name;
      continue;
    }
    for (size_t i = 0; i < t.size; ++i)
      if (!std::isfinite(g[t.offset + i])) return t.name;
  }
  return {};
}

void clip_gradients(Model& model, std::span<const int32_t> touched, double max_norm) {
  float* g = model.grads().data();
  double sq = 0.0;
  const size_t dense = model.dense_floats();
  for (size_t i = 0; i < dense; ++i) sq += static_cast<double>(g[i]) * g[i];
  for (const ParamTensor& t : model.tensors()) {
    if (!t.row_sparse) continue;
    const size_t width = static_cast<size_t>(t.shape[1]);
    for (int32_t r : touched)
      for (size_t c = 0; c < width; ++c) {
        const float v = g[t.offset + static_cast<size_t>(r) * width + c];
        sq += static_cast<double>(v) * v;
      }
  }
  const double norm = std::sqrt(sq);
  if (norm <= max_norm || norm == 0.0) return;
  const float scale = static_cast<float>(max_norm / norm);
  for (size_t i = 0; i < dense; ++i) g[i] *= scale;
  for (const ParamTensor& t : model.tensors()) {
    if (!t.row_sparse) continue;
    const size_t width = static_cast<size_t>(t.shape[1]);
    for (int32_t r : touched)
      for (size_t c = 0; c < width; ++c) g[t.offset + static_cast<size_t>(r) * width + c] *= scale;
  }
}

}  // namespace

std::vector<float> predict(Model& model, const Dataset& data, int threads, size_t batch_size) {
  check_compatible(model, data, "prediction");
  const size_t T = static_cast<size_t>(model.spec().n_task());
  std::vector<float> out(data.rows * T);
  if (data.rows == 0) return out;
  Executor exec(model, std::min(batch_size, data.rows), threads);
  for (size_t begin = 0; begin < data.rows; begin += exec.max_batch()) {
    const size_t n = std::min(exec.max_batch(), data.rows - begin);
    BatchView batch = contiguous(data, begin, n);
    exec.predict(batch, out.data() + begin * T);
  }
  return out;
}

std::vector<float> predict_gates(Model& model, const Dataset& data, int threads, size_t batch_size) {
  check_compatible(model, data, "prediction");
  const size_t width = static_cast<size_t>(model.spec().n_gate()) * model.spec().bank_size();
  std::vector<float> gates(data.rows * width);
  if (width == 0 || data.rows == 0) return gates;
  const size_t T = static_cast<size_t>(model.spec().n_task());
  Executor exec(model, std::min(batch_size, data.rows), threads);
  std::vector<float> scratch(exec.max_batch() * T);
  for (size_t begin = 0; begin < data.rows; begin += exec.max_batch()) {
    const size_t n = std::min(exec.max_batch(), data.rows - begin);
    exec.predict(contiguous(data, begin, n), scratch.data());
    exec.last_gates(gates.data() + begin * width);
  }
  return gates;
}

Evaluation evaluate(Model& model, const Dataset& data, int threads) {
  const ModelSpec& spec = model.spec();
  const size_t T = static_cast<size_t>(spec.n_task());
  Evaluation ev;
  const std::vector<float> pred = predict(model, data, threads);
  ev.loss = objective(spec, data, pred);
  const std::vector<float> weights = data.weights;
  for (size_t k = 0; k < T; ++k) {
    const std::vector<float> p = task_column(pred, data.rows, T, k);
    const std::vector<float> y = task_column(data.labels, data.rows, T, k);
    ev.tasks[spec.tasks[k].name] = spec.tasks[k].kind == TaskKind::binary ? binary_metrics(p, y, weights)
                                                                        : regression_metrics(p, y, weights);
  }
  if (spec.n_gate() > 0 && data.rows > 0) {
    const std::vector<float> gates = predict_gates(model, data, threads);
    GateStatsAccumulator acc(spec.n_gate(), spec.bank_size());
    acc.add(gates.data(), data.rows);
    ev.gates = acc.result();
  }
  return ev;
}

TrainResult train(Model& model, const Dataset& train_set, const Dataset* valid_set, const TrainConfig& c,
                  const ProgressFn& progress) {
  const ModelSpec& spec = model.spec();
  if (c.batch_size < 1) throw Error(ErrorKind::usage, "batch_size must be >= 1", "train.batch_size");
  if (c.epochs < 1 && c.max_steps < 1) throw Error(ErrorKind::usage, "epochs must be >= 1", "train.epochs");
  if (c.threads < 1) throw Error(ErrorKind::usage, "threads must be >= 1", "train.threads");
  if (train_set.rows == 0) throw Error(ErrorKind::input, "the training set has no rows");
  check_compatible(model, train_set, "training");
  if (valid_set) check_compatible(model, *valid_set, "validation");

  TrainResult result;
  // The watched task and metric for early stopping / best-epoch selection.
  int watched = 0;
  if (!c.early_stopping_task.empty()) {
    watched = -1;
    for (int k = 0; k < spec.n_task(); ++k)
      if (spec.tasks[k].name == c.early_stopping_task) watched = k;
    if (watched < 0)
      throw Error(ErrorKind::usage, "early stopping names task '" + c.early_stopping_task + "', which is not a label",
                  "train.early_stopping_task");
  }
  result.watched_task = spec.tasks[watched].name;
  result.watched_metric = !c.early_stopping_metric.empty() ? c.early_stopping_metric
                          : spec.tasks[watched].kind == TaskKind::binary ? "auc" : "mse";
  const bool higher_is_better = result.watched_metric == "auc" || result.watched_metric == "r2" ||
                                result.watched_metric == "accuracy";

  if (c.init_params) model.init(c.seed);
  const size_t bs = std::min(c.batch_size, train_set.rows);
  Executor exec(model, bs, c.threads);
  Optimizer opt(model, c.optim);
  Stager stager(train_set, bs);
  AlignedBuffer<float> best_params(model.arena_size());
  std::memcpy(best_params.data(), model.params().data(), model.arena_size() * sizeof(float));
  bool have_best = false;
  result.best_metric = higher_is_better ? -INFINITY : INFINITY;

  std::vector<size_t> order(train_set.rows);
  const int64_t steps_per_epoch = static_cast<int64_t>((train_set.rows + bs - 1) / bs);
  const int64_t total_steps = c.max_steps > 0 ? c.max_steps : steps_per_epoch * c.epochs;
  const int epochs = c.max_steps > 0 ? static_cast<int>((c.max_steps + steps_per_epoch - 1) / steps_per_epoch) : c.epochs;
  const Rng order_rng(c.seed ^ 0x5eedda7aULL);
  int64_t step = 0;
  int bad_epochs = 0;
  double curve_sum = 0.0;
  int64_t curve_count = 0;

  for (int epoch = 1; epoch <= epochs && step < total_steps; ++epoch) {
    std::iota(order.begin(), order.end(), size_t{0});
    if (c.shuffle) {
      Rng rng = order_rng.derive(static_cast<uint64_t>(epoch));
      rng.shuffle(std::span<size_t>(order));
    }
    const auto t0 = Clock::now();
    double loss_sum = 0.0;
    size_t loss_rows = 0;
    double lr = c.optim.lr;
    for (int64_t b = 0; b < steps_per_epoch && step < total_steps; ++b) {
      const size_t begin = static_cast<size_t>(b) * bs;
      const size_t n = std::min(bs, train_set.rows - begin);
      const BatchView batch = stager.stage(order.data() + begin, n);
      const LossReport& loss = exec.forward_backward(batch);
      if (!std::isfinite(loss.total)) {
        std::string task;
        for (int k = 0; k < spec.n_task(); ++k)
          if (!std::isfinite(loss.per_task[k])) task = spec.tasks[k].name;
        throw Error(ErrorKind::input,
                    "training diverged: the loss of task '" + task + "' became " + std::to_string(loss.total) +
                        " at step " + std::to_string(step + 1) + " (epoch " + std::to_string(epoch) + ")",
                    "train", "lower the learning rate or set train.clip_grad_norm");
      }
      const std::string bad = first_bad_gradient(model, exec.touched_rows());
      if (!bad.empty())
        throw Error(ErrorKind::input,
                    "training diverged: the gradient of layer '" + bad + "' is not finite at step " +
                        std::to_string(step + 1) + " (epoch " + std::to_string(epoch) + ")",
                    "train", "lower the learning rate or set train.clip_grad_norm");
      if (c.clip_grad_norm > 0.0) clip_gradients(model, exec.touched_rows(), c.clip_grad_norm);
      lr = learning_rate(c, epoch, step, total_steps);
      opt.step(model, lr, exec.touched_rows());
      ++step;
      loss_sum += loss.total * static_cast<double>(n);
      loss_rows += n;
      curve_sum += loss.total;
      ++curve_count;
      if (c.eval_every_steps > 0 && step % c.eval_every_steps == 0) {
        CurvePoint point{step, curve_sum / static_cast<double>(curve_count), NAN};
        if (valid_set) point.valid_loss = objective(spec, *valid_set, predict(model, *valid_set, c.threads));
        result.curve.push_back(point);
        curve_sum = 0.0;
        curve_count = 0;
      }
      if (progress) {
        Progress p;
        p.epoch = epoch;
        p.epochs = epochs;
        p.step = b + 1;
        p.steps_per_epoch = steps_per_epoch;
        p.loss = loss_sum / static_cast<double>(loss_rows);
        progress(p);
      }
    }
    EpochRecord rec;
    rec.epoch = epoch;
    rec.steps = step;
    rec.seconds = seconds_since(t0);
    rec.train_loss = loss_sum / static_cast<double>(std::max<size_t>(loss_rows, 1));
    rec.lr = lr;
    rec.valid_loss = NAN;
    result.train_seconds += rec.seconds;
    bool improved = false;
    if (valid_set && valid_set->rows > 0) {
      Evaluation ev = evaluate(model, *valid_set, c.threads);
      rec.valid_loss = ev.loss;
      rec.valid_metrics = ev.tasks;
      const auto& metrics = ev.tasks[result.watched_task];
      const auto it = metrics.find(result.watched_metric);
      if (it == metrics.end())
        throw Error(ErrorKind::usage, "unknown early-stopping metric '" + result.watched_metric + "' for task '" +
                                          result.watched_task + "'", "train.early_stopping_metric");
      const double value = it->second;
      improved = !std::isnan(value) && (higher_is_better ? value > result.best_metric : value < result.best_metric);
      if (improved) result.best_metric = value;
    } else {
      improved = true;  // without validation the last epoch is the result
    }
    if (improved) {
      result.best_epoch = epoch;
      have_best = true;
      bad_epochs = 0;
      std::memcpy(best_params.data(), model.params().data(), model.arena_size() * sizeof(float));
    } else {
      ++bad_epochs;
    }
    result.history.push_back(rec);
    if (progress) {
      Progress p;
      p.epoch = epoch;
      p.epochs = epochs;
      p.step = steps_per_epoch;
      p.steps_per_epoch = steps_per_epoch;
      p.loss = rec.train_loss;
      p.epoch_done = true;
      p.record = &result.history.back();
      progress(p);
    }
    if (c.patience > 0 && bad_epochs >= c.patience) {
      result.stopped_early = true;
      break;
    }
  }
  result.steps = step;
  if (valid_set && c.restore_best && have_best)
    std::memcpy(model.params().data(), best_params.data(), model.arena_size() * sizeof(float));
  else if (!result.history.empty())
    result.best_epoch = result.history.back().epoch;
  return result;
}

}  // namespace mmoe
