// The training loop: shuffling, batching into preallocated staging buffers, the lr schedule, validation,
// early stopping with best-weight restore, and divergence checks. The step itself (Executor +
// Optimizer) allocates nothing.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>

#include "mmoe/error.h"
#include "mmoe/rng.h"
#include "mmoe/train.h"
#include "train/batch_stager.h"
#include "train/divergence.h"

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

constexpr const char* kDivergedHint = "lower the learning rate or set train.clip_grad_norm";

std::string number(double v) {  // "nan", "inf", "1.156e+77": short and readable, unlike std::to_string
  if (std::isnan(v)) return "NaN";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string at_step(int64_t step, int epoch) {
  return " at step " + std::to_string(step) + " (epoch " + std::to_string(epoch) + ")";
}

// The loss of a task is not a number: name the task, and the layer that went bad first: a parameter that
// an earlier update overflowed, else the first non-finite gradient of this step's backward.
Error diverged_loss(const Model& model, const Executor& exec, const LossReport& loss, int64_t step, int epoch) {
  const ModelSpec& spec = model.spec();
  int bad_task = 0;
  while (bad_task + 1 < spec.n_task() && std::isfinite(loss.per_task[static_cast<size_t>(bad_task)])) ++bad_task;
  const std::string task = spec.tasks[static_cast<size_t>(bad_task)].name;
  std::string layer = detail::first_bad_parameter(model, exec.touched_rows());
  if (!layer.empty()) {
    layer = "; the weights of " + layer + " are no longer finite";
  } else if (layer = detail::first_bad_gradient(model, exec.touched_rows()); !layer.empty()) {
    layer = "; the first non-finite gradient is in " + layer;
  } else {
    layer = "; every weight and gradient is still finite, so the overflow is in the output of the tower of task '" +
            task + "'";
  }
  return Error(ErrorKind::input,
               "training diverged: the loss of task '" + task + "' became " + number(loss.per_task[static_cast<size_t>(bad_task)]) +
                   at_step(step, epoch) + layer,
               "train", kDivergedHint);
}

// The loss is finite but a gradient is not: the layer (and the task or expert owning the element) is named;
// every task's loss is finite, so the message lists them to show which one is largest.
Error diverged_gradient(const Model& model, const LossReport& loss, const std::string& layer, int64_t step, int epoch) {
  const ModelSpec& spec = model.spec();
  std::string losses;
  for (int k = 0; k < spec.n_task(); ++k)
    losses += (k ? ", " : "") + spec.tasks[static_cast<size_t>(k)].name + " " +
              number(loss.per_task[static_cast<size_t>(k)]);
  return Error(ErrorKind::input,
               "training diverged: the gradient of " + layer + " is not finite" + at_step(step, epoch) +
                   " (task losses: " + losses + ")",
               "train", kDivergedHint);
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

namespace {

// One pass of the model over the data, batch by batch: the outputs into out (rows, n_task) and, when on_gates
// is set, each batch's gate probabilities (n rows of n_gate * bank) handed to it in row order.
void forward_pass(Model& model, const Dataset& data, int threads, size_t batch_size, float* out,
                  const std::function<void(const float* gates, size_t n)>& on_gates) {
  check_compatible(model, data, "prediction");
  if (data.rows == 0) return;
  const size_t T = static_cast<size_t>(model.spec().n_task());
  const size_t width = static_cast<size_t>(model.spec().n_gate()) * model.spec().bank_size();
  Executor exec(model, std::min(batch_size, data.rows), threads);
  std::vector<float> gates(on_gates ? exec.max_batch() * width : 0);
  for (size_t begin = 0; begin < data.rows; begin += exec.max_batch()) {
    const size_t n = std::min(exec.max_batch(), data.rows - begin);
    exec.predict(contiguous(data, begin, n), out + begin * T);
    if (!on_gates) continue;
    exec.last_gates(gates.data());
    on_gates(gates.data(), n);
  }
}

}  // namespace

std::vector<float> predict(Model& model, const Dataset& data, int threads, size_t batch_size) {
  std::vector<float> out(data.rows * static_cast<size_t>(model.spec().n_task()));
  forward_pass(model, data, threads, batch_size, out.data(), nullptr);
  return out;
}

std::vector<float> predict_gates(Model& model, const Dataset& data, int threads, size_t batch_size) {
  const size_t width = static_cast<size_t>(model.spec().n_gate()) * model.spec().bank_size();
  std::vector<float> gates(data.rows * width);
  if (width == 0) {  // no pass to run, but a file the model cannot read is still refused
    check_compatible(model, data, "prediction");
    return gates;
  }
  std::vector<float> out(data.rows * static_cast<size_t>(model.spec().n_task()));
  size_t at = 0;
  forward_pass(model, data, threads, batch_size, out.data(), [&](const float* g, size_t n) {
    std::memcpy(gates.data() + at * width, g, n * width * sizeof(float));
    at += n;
  });
  return gates;
}

Evaluation evaluate(Model& model, const Dataset& data, int threads, bool gate_stats) {
  const ModelSpec& spec = model.spec();
  const size_t T = static_cast<size_t>(spec.n_task());
  Evaluation ev;
  // The predictions and the gate statistics come from one pass (the gates of each batch are summed as it goes).
  std::vector<float> pred(data.rows * T);
  const bool gates = gate_stats && spec.n_gate() > 0 && data.rows > 0;
  GateStatsAccumulator acc(spec.n_gate(), spec.bank_size());
  std::function<void(const float*, size_t)> on_gates;
  if (gates) on_gates = [&](const float* g, size_t n) { acc.add(g, n); };
  forward_pass(model, data, threads, kPredictBatch, pred.data(), on_gates);
  ev.loss = objective(spec, data, pred);
  const std::vector<float>& weights = data.weights;  // the metrics read it as a span: no copy
  for (size_t k = 0; k < T; ++k) {
    const std::vector<float> p = task_column(pred, data.rows, T, k);
    const std::vector<float> y = task_column(data.labels, data.rows, T, k);
    ev.tasks[spec.tasks[k].name] = spec.tasks[k].kind == TaskKind::binary ? binary_metrics(p, y, weights)
                                                                        : regression_metrics(p, y, weights);
  }
  if (gates) ev.gates = acc.result();
  return ev;
}

namespace {

nlohmann::json record_to_json(const EpochRecord& r) {
  return {{"epoch", r.epoch}, {"steps", r.steps}, {"train_loss", r.train_loss}, {"valid_loss", r.valid_loss},
          {"lr", r.lr}, {"seconds", r.seconds}, {"valid_metrics", r.valid_metrics}};
}

EpochRecord record_from_json(const nlohmann::json& j) {
  EpochRecord r;
  r.epoch = j.at("epoch").get<int>();
  r.steps = j.at("steps").get<int64_t>();
  r.train_loss = j.at("train_loss").get<double>();
  r.valid_loss = j.at("valid_loss").is_null() ? NAN : j.at("valid_loss").get<double>();
  r.lr = j.at("lr").get<double>();
  r.seconds = j.at("seconds").get<double>();
  for (const auto& [task, metrics] : j.at("valid_metrics").items())  // JSON has no NaN: null stands for it
    for (const auto& [name, value] : metrics.items())
      r.valid_metrics[task][name] = value.is_null() ? NAN : value.get<double>();
  return r;
}

// The loop's position and running sums: what a checkpoint must carry besides weights and optimizer.
struct LoopState {
  int epoch = 1;
  int64_t batch = 0;  // next batch of `epoch`
  int64_t step = 0;
  double loss_sum = 0.0;
  size_t loss_rows = 0;
  double epoch_seconds = 0.0;  // of the current epoch, before the interruption
  double curve_sum = 0.0;
  int64_t curve_count = 0;
  int bad_epochs = 0;
  bool have_best = false;

  nlohmann::json to_json(const TrainResult& r, const TrainConfig& c, size_t rows) const {
    nlohmann::json history = nlohmann::json::array(), curve = nlohmann::json::array();
    for (const EpochRecord& e : r.history) history.push_back(record_to_json(e));
    for (const CurvePoint& p : r.curve) curve.push_back({p.step, p.train_loss, p.valid_loss});
    return {{"epoch", epoch}, {"batch", batch}, {"step", step}, {"loss_sum", loss_sum}, {"loss_rows", loss_rows},
            {"epoch_seconds", epoch_seconds}, {"curve_sum", curve_sum}, {"curve_count", curve_count},
            {"bad_epochs", bad_epochs}, {"have_best", have_best}, {"best_epoch", r.best_epoch},
            {"best_metric", r.best_metric}, {"train_seconds", r.train_seconds}, {"history", history},
            {"curve", curve}, {"seed", c.seed}, {"batch_size", c.batch_size}, {"threads", c.threads},
            {"train_rows", rows}, {"shuffle", c.shuffle}};
  }

  void from_json(const nlohmann::json& j, TrainResult& r, const TrainConfig& c, size_t rows) {
    auto same = [&](const char* key, const nlohmann::json& now, const char* setting) {
      if (j.at(key) != now)
        throw Error(ErrorKind::usage,
                    std::string("the checkpoint was written with ") + key + " = " + j.at(key).dump() +
                        ", this run has " + now.dump() + "; resuming needs the same value to continue exactly",
                    setting);
    };
    same("seed", c.seed, "train.seed");
    same("batch_size", c.batch_size, "train.batch_size");
    same("threads", c.threads, "train.threads");
    same("shuffle", c.shuffle, "train.shuffle");
    same("train_rows", rows, "data.train");
    epoch = j.at("epoch").get<int>();
    batch = j.at("batch").get<int64_t>();
    step = j.at("step").get<int64_t>();
    loss_sum = j.at("loss_sum").get<double>();
    loss_rows = j.at("loss_rows").get<size_t>();
    epoch_seconds = j.at("epoch_seconds").get<double>();
    curve_sum = j.at("curve_sum").get<double>();
    curve_count = j.at("curve_count").get<int64_t>();
    bad_epochs = j.at("bad_epochs").get<int>();
    have_best = j.at("have_best").get<bool>();
    r.best_epoch = j.at("best_epoch").get<int>();
    if (!j.at("best_metric").is_null()) r.best_metric = j.at("best_metric").get<double>();  // else still +-inf
    r.train_seconds = j.at("train_seconds").get<double>();
    for (const auto& e : j.at("history")) r.history.push_back(record_from_json(e));
    for (const auto& p : j.at("curve"))
      r.curve.push_back({p.at(0).get<int64_t>(), p.at(1).get<double>(), p.at(2).is_null() ? NAN : p.at(2).get<double>()});
  }
};

}  // namespace

TrainResult train(Model& model, const Dataset& train_set, const Dataset* valid_set, const TrainConfig& c,
                  const ProgressFn& progress, const CheckpointHooks& checkpoints) {
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
  result.best_metric = higher_is_better ? -INFINITY : INFINITY;

  const size_t bs = std::min(c.batch_size, train_set.rows);
  if (c.init_params && !checkpoints.resume) model.init(c.seed);
  Executor exec(model, bs, c.threads);
  Optimizer opt(model, c.optim);
  detail::BatchStager stager(train_set, bs);
  AlignedBuffer<float> best_params(model.arena_size());
  std::memcpy(best_params.data(), model.params().data(), model.arena_size() * sizeof(float));
  LoopState st;
  if (checkpoints.resume) {
    restore_optimizer(opt, *checkpoints.resume);
    st.from_json(checkpoints.resume->trainer_state, result, c, train_set.rows);
    const auto best = checkpoints.resume->extra.find("best_params");
    if (best == checkpoints.resume->extra.end() || best->second.size() != model.arena_size())
      throw Error(ErrorKind::format, "the checkpoint has no best_params of the model's size", "checkpoint");
    std::memcpy(best_params.data(), best->second.data(), model.arena_size() * sizeof(float));
  }

  std::vector<size_t> order(train_set.rows);
  const int64_t steps_per_epoch = static_cast<int64_t>((train_set.rows + bs - 1) / bs);
  const int64_t total_steps = c.max_steps > 0 ? c.max_steps : steps_per_epoch * c.epochs;
  const int epochs = c.max_steps > 0 ? static_cast<int>((c.max_steps + steps_per_epoch - 1) / steps_per_epoch) : c.epochs;
  const Rng order_rng(c.seed ^ 0x5eedda7aULL);
  auto save_checkpoint_now = [&]() {
    if (checkpoints.save)
      checkpoints.save(model, opt, st.to_json(result, c, train_set.rows),
                       std::span<const float>(best_params.data(), best_params.size()));
  };

  for (; st.epoch <= epochs && (st.step < total_steps || st.batch > 0); ++st.epoch) {
    // The data order of an epoch is a pure function of (seed, epoch): a resumed run sees the same batches.
    std::iota(order.begin(), order.end(), size_t{0});
    if (c.shuffle) {
      Rng rng = order_rng.derive(static_cast<uint64_t>(st.epoch));
      rng.shuffle(std::span<size_t>(order));
    }
    const auto t0 = Clock::now();
    double lr = learning_rate(c, st.epoch, std::max<int64_t>(st.step - 1, 0), total_steps);
    for (; st.batch < steps_per_epoch && st.step < total_steps; ++st.batch) {
      const size_t begin = static_cast<size_t>(st.batch) * bs;
      const size_t n = std::min(bs, train_set.rows - begin);
      // The step's threads copy the batch in (stager.fill()), each its own slice.
      const BatchView batch = stager.prepare(order.data() + begin, n);
      lr = learning_rate(c, st.epoch, st.step, total_steps);
      // Without clipping, the update runs inside the step, each thread on the parameters it just summed; it is
      // skipped when anything is not finite, and the checks below then name what went wrong.
      const bool fused = c.clip_grad_norm <= 0.0;
      const LossReport& loss = fused ? exec.forward_backward(batch, opt.fused_update(model, lr), stager.fill())
                                     : exec.forward_backward(batch, stager.fill());
      // An applied fused update means the executor found every loss and gradient finite.
      if (!fused || !exec.last_update_applied()) {
        if (!std::isfinite(loss.total)) throw diverged_loss(model, exec, loss, st.step + 1, st.epoch);
        if (std::string bad = detail::first_bad_gradient(model, exec.touched_rows()); !bad.empty())
          throw diverged_gradient(model, loss, bad, st.step + 1, st.epoch);
        MMOE_CHECK(!fused, "the fused update was skipped with every loss and gradient finite");
      }
      if (!fused) {
        clip_gradients(model, exec.touched_rows(), c.clip_grad_norm);
        opt.step(model, lr, exec.touched_rows());
      }
      ++st.step;
      st.loss_sum += loss.total * static_cast<double>(n);
      st.loss_rows += n;
      st.curve_sum += loss.total;
      ++st.curve_count;
      if (c.eval_every_steps > 0 && st.step % c.eval_every_steps == 0) {
        CurvePoint point{st.step, st.curve_sum / static_cast<double>(st.curve_count), NAN};
        if (valid_set) point.valid_loss = objective(spec, *valid_set, predict(model, *valid_set, c.threads));
        result.curve.push_back(point);
        st.curve_sum = 0.0;
        st.curve_count = 0;
      }
      if (progress) {
        Progress p;
        p.epoch = st.epoch;
        p.epochs = epochs;
        p.step = st.batch + 1;
        p.steps_per_epoch = steps_per_epoch;
        p.loss = st.loss_sum / static_cast<double>(st.loss_rows);
        progress(p);
      }
      if (checkpoints.every_steps > 0 && st.step % checkpoints.every_steps == 0) {
        const int64_t b = st.batch;
        st.batch = b + 1;  // the checkpoint resumes after this batch
        st.epoch_seconds += seconds_since(t0);
        save_checkpoint_now();
        st.epoch_seconds -= seconds_since(t0);
        st.batch = b;
      }
    }
    EpochRecord rec;
    rec.epoch = st.epoch;
    rec.steps = st.step;
    rec.seconds = st.epoch_seconds + seconds_since(t0);
    rec.train_loss = st.loss_sum / static_cast<double>(std::max<size_t>(st.loss_rows, 1));
    rec.lr = lr;
    rec.valid_loss = NAN;
    result.train_seconds += rec.seconds;
    st.batch = 0;
    st.loss_sum = 0.0;
    st.loss_rows = 0;
    st.epoch_seconds = 0.0;
    bool improved = false;
    if (valid_set && valid_set->rows > 0) {
      Evaluation ev = evaluate(model, *valid_set, c.threads, /*gate_stats=*/false);  // only losses and metrics are kept
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
      result.best_epoch = st.epoch;
      st.have_best = true;
      st.bad_epochs = 0;
      std::memcpy(best_params.data(), model.params().data(), model.arena_size() * sizeof(float));
    } else {
      ++st.bad_epochs;
    }
    result.history.push_back(rec);
    if (progress) {
      Progress p;
      p.epoch = st.epoch;
      p.epochs = epochs;
      p.step = steps_per_epoch;
      p.steps_per_epoch = steps_per_epoch;
      p.loss = rec.train_loss;
      p.epoch_done = true;
      p.record = &result.history.back();
      progress(p);
    }
    if (c.patience > 0 && st.bad_epochs >= c.patience) {
      result.stopped_early = true;
      break;
    }
  }
  result.steps = st.step;
  if (valid_set && c.restore_best && st.have_best)
    std::memcpy(model.params().data(), best_params.data(), model.arena_size() * sizeof(float));
  else if (!result.history.empty())
    result.best_epoch = result.history.back().epoch;
  return result;
}

}  // namespace mmoe
