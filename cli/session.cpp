#include "session.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <sstream>

#include "mmoe/error.h"
#include "mmoe/model.h"
#include "mmoe/rng.h"
#include "settings_setup.h"

namespace mmoe::cli {

namespace {

std::vector<TaskSpec> parse_labels(const std::vector<std::string>& labels) {
  std::vector<TaskSpec> tasks;
  for (const std::string& text : labels) {
    // name:kind[:loss_weight]; the name may itself contain ':' only if kind and weight are given.
    const size_t colon = text.find(':');
    if (colon == std::string::npos || colon == 0)
      throw Error(ErrorKind::usage, "expected NAME:binary or NAME:regression, got '" + text + "'", "--label");
    TaskSpec task;
    task.name = text.substr(0, colon);
    std::string rest = text.substr(colon + 1);
    const size_t colon2 = rest.find(':');
    if (colon2 != std::string::npos) {
      const std::string weight = rest.substr(colon2 + 1);
      char* end = nullptr;
      task.loss_weight = std::strtof(weight.c_str(), &end);
      if (weight.empty() || *end != '\0' || !(task.loss_weight >= 0.0f) || !std::isfinite(task.loss_weight))
        throw Error(ErrorKind::usage, "the loss weight in '" + text + "' must be a number >= 0", "--label");
      rest = rest.substr(0, colon2);
    }
    task.kind = parse_task_kind(rest);
    tasks.push_back(task);
  }
  return tasks;
}

std::vector<double> parse_fractions(const std::string& text) {
  std::vector<double> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    char* end = nullptr;
    const double v = std::strtod(item.c_str(), &end);
    if (item.empty() || *end != '\0' || !(v >= 0.0) || v > 1.0)
      throw Error(ErrorKind::usage, "expected fractions like 0.8,0.1,0.1, got '" + text + "'", "--split");
    out.push_back(v);
  }
  if (out.size() < 2 || out.size() > 3)
    throw Error(ErrorKind::usage, "expected two or three fractions (train,valid[,test]), got '" + text + "'", "--split");
  double sum = 0.0;
  for (double v : out) sum += v;
  if (std::fabs(sum - 1.0) > 1e-6)
    throw Error(ErrorKind::usage, "the split fractions must add up to 1, got '" + text + "'", "--split");
  return out;
}

bool stderr_is_terminal() { return ::isatty(2) == 1; }

}  // namespace

std::string describe_bad_rows(const RawTable& table, const std::string& prefix) {
  constexpr size_t kListed = 5, kMoreLines = 10;
  std::ostringstream out;
  const size_t listed = std::min(kListed, table.bad_rows.size());
  for (size_t i = 0; i < listed; ++i)
    out << prefix << table.bad_rows[i].where << ": " << table.bad_rows[i].message << "\n";
  if (table.n_bad_rows() > listed) {
    out << prefix << "... and " << table.n_bad_rows() - listed << " more, at lines";
    const size_t end = std::min(table.n_bad_rows(), listed + kMoreLines);
    for (size_t i = listed; i < end; ++i) out << (i > listed ? ", " : " ") << table.skipped_lines[i];
    out << (end < table.n_bad_rows() ? ", ...\n" : "\n");
  }
  return out.str();
}

Splits load_splits(const DataArgs& args, const ResolvedConfig& rc, bool quiet) {
  DataSetup setup = rc.data;
  Schema schema;
  if (!args.schema_file.empty()) {
    schema = Schema::from_file(args.schema_file);
  } else if (rc.has_data_setup && !rc.data.schema.columns.empty()) {
    schema = setup.schema;
  } else {
    const std::vector<TaskSpec> tasks = parse_labels(args.labels);
    if (tasks.empty())
      throw Error(ErrorKind::usage, "no labels: give --label NAME:binary|regression (repeatable) or a schema",
                  "--label");
    schema = Schema::plain(tasks);
  }
  if (!args.schema_file.empty() || (rc.has_data_setup && !rc.data.schema.columns.empty()))
    if (!args.labels.empty())
      throw Error(ErrorKind::usage, "--label cannot be combined with a schema; declare labels in the schema",
                  "--label");
  if (!args.train.empty()) setup.data.train = args.train;
  if (!args.valid.empty()) setup.data.valid = args.valid;
  if (!args.test.empty()) setup.data.test = args.test;
  if (!args.on_bad_row.empty()) setup.data.on_bad_row = parse_bad_row_policy(args.on_bad_row, "--on-bad-row");
  if (setup.data.train.empty()) throw Error(ErrorKind::usage, "no training data: give --train FILE", "--train");

  ReadOptions options;
  options.on_bad_row = setup.data.on_bad_row;
  options.max_bad_rows = setup.data.max_bad_rows;
  // A large plain file is parsed, and the features fitted and encoded, on as many threads as training.
  options.threads = checked_threads(rc.settings);
  Splits splits;
  std::ostringstream describe;
  // The given files (train, then valid and test) are read at the same time (read_tables); their bad-row
  // reports follow in file order.
  std::vector<std::string> paths = {find_data_path(setup.data.train, rc.base_dir)};
  if (!setup.data.valid.empty()) paths.push_back(find_data_path(setup.data.valid, rc.base_dir));
  if (!setup.data.test.empty()) paths.push_back(find_data_path(setup.data.test, rc.base_dir));
  std::vector<RawTable> tables = read_tables(paths, schema, options);
  for (const RawTable& table : tables) {
    if (table.n_bad_rows() == 0) continue;
    splits.bad_rows.emplace_back(table.path, table.n_bad_rows());
    if (!quiet) std::fputs(describe_bad_rows(table, "data: skipped ").c_str(), stderr);
  }
  size_t next_table = 1;
  const uint64_t seed = setup.data.split_seed;
  RawTable train_raw = std::move(tables[0]);
  RawTable valid_raw, test_raw;
  bool have_valid = false, have_test = false;
  describe << "train = " << train_raw.path;
  if (!args.split.empty()) {
    const std::vector<double> f = parse_fractions(args.split);
    std::vector<size_t> order(train_raw.rows);
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    Rng rng(seed);
    rng.shuffle(std::span<size_t>(order));
    const size_t n = train_raw.rows;
    const size_t n_train = static_cast<size_t>(std::llround(f[0] * static_cast<double>(n)));
    const size_t n_valid = f.size() == 3 ? static_cast<size_t>(std::llround(f[1] * static_cast<double>(n))) : n - n_train;
    auto pick = [&](size_t begin, size_t end) {
      std::vector<size_t> ids(order.begin() + static_cast<long>(begin), order.begin() + static_cast<long>(end));
      std::sort(ids.begin(), ids.end());
      return ids;
    };
    valid_raw = select_rows(train_raw, pick(n_train, std::min(n, n_train + n_valid)));
    if (f.size() == 3) test_raw = select_rows(train_raw, pick(std::min(n, n_train + n_valid), n));
    train_raw = select_rows(train_raw, pick(0, n_train));
    have_valid = true;
    have_test = f.size() == 3;
    describe << " split " << args.split << " at random (seed " << seed << ")";
  }
  if (!setup.data.valid.empty()) {
    valid_raw = std::move(tables[next_table++]);
    have_valid = true;
    describe << ", valid = " << valid_raw.path;
  }
  if (!setup.data.test.empty()) {
    test_raw = std::move(tables[next_table++]);
    have_test = true;
    describe << ", test = " << test_raw.path;
    if (setup.data.split_test > 0.0) {
      std::vector<size_t> first, second;
      split_rows(test_raw.rows, setup.data.split_test, seed, first, second);
      valid_raw = select_rows(test_raw, first);
      test_raw = select_rows(test_raw, second);
      have_valid = true;
      describe << " (split " << setup.data.split_test << " of it at random into validation, seed " << seed << ")";
    }
  }
  splits.pipeline = FeaturePipeline::fit(train_raw, schema, options.threads);
  splits.train = splits.pipeline.transform(train_raw, options.threads);
  if (have_valid) splits.valid = splits.pipeline.transform(valid_raw, options.threads);
  if (have_test) splits.test = splits.pipeline.transform(test_raw, options.threads);
  splits.describe = describe.str();
  return splits;
}

ModelSpec build_spec(const Settings& s, const FeaturePipeline& pipeline) {
  ModelSpec spec;
  spec.arch = parse_arch(s.text("model.arch"));
  spec.n_expert = static_cast<int>(s.integer("model.experts"));
  spec.expert_units = s.int_list("model.expert_units");
  spec.tower_units = s.int_list("model.tower_units");
  spec.tasks = pipeline.tasks();
  spec.n_dense = static_cast<int64_t>(pipeline.n_dense());
  spec.cat_cardinality = pipeline.cat_cardinality();
  spec.cat_encoding = parse_cat_encoding(s.text("model.cat_encoding"));
  spec.embedding_dim = static_cast<int>(s.integer("model.embedding_dim"));
  spec.init = parse_init(s.text("model.init"));
  if (spec.expert_units.empty())
    throw Error(ErrorKind::usage, "experts need at least one layer", "model.expert_units");
  if (spec.arch == Arch::shared_bottom) {
    const std::vector<int> bottom = s.int_list("model.bottom_units");
    if (!bottom.empty()) {
      spec.expert_units = bottom;
    } else {
      // Parameter-matched to the MMoE of the same experts x units (the paper's comparison): the widest single
      // layer whose model is no larger than the MMoE's... or the nearest, whichever is closer.
      ModelSpec moe = spec;
      moe.arch = Arch::mmoe;
      const size_t target = Model(moe).n_params();
      auto count = [&](int width) {
        ModelSpec sb = spec;
        sb.expert_units = {width};
        return Model(sb).n_params();
      };
      int lo = 1, hi = 1;
      while (count(hi) < target && hi < (1 << 20)) hi *= 2;
      while (lo < hi) {
        const int mid = lo + (hi - lo) / 2;
        if (count(mid) < target) lo = mid + 1;
        else hi = mid;
      }
      const int best = (lo > 1 && target - count(lo - 1) < count(lo) - target) ? lo - 1 : lo;
      spec.expert_units = {best};
    }
  }
  spec.validate();
  return spec;
}

TrainConfig build_train_config(const Settings& s) {
  TrainConfig c;
  c.epochs = static_cast<int>(s.integer("train.epochs"));
  c.max_steps = s.integer("train.max_steps");
  c.batch_size = static_cast<size_t>(s.integer("train.batch_size"));
  c.seed = static_cast<uint64_t>(std::stoull(s.text("train.seed")));
  c.threads = checked_threads(s);
  c.shuffle = s.boolean("train.shuffle");
  c.optim.kind = parse_optim_kind(s.text("train.optimizer"));
  c.optim.lr = s.number("train.lr");
  c.optim.beta1 = s.number("train.beta1");
  c.optim.beta2 = s.number("train.beta2");
  c.optim.eps = s.number("train.eps");
  c.optim.momentum = s.number("train.momentum");
  c.optim.nesterov = s.boolean("train.nesterov");
  c.optim.weight_decay = s.number("train.weight_decay");
  c.optim.decoupled = s.boolean("train.decoupled_weight_decay");
  c.schedule = parse_schedule(s.text("train.schedule"));
  c.step_epochs = static_cast<int>(s.integer("train.step_epochs"));
  c.step_gamma = s.number("train.step_gamma");
  c.min_lr = s.number("train.min_lr");
  c.warmup_steps = s.integer("train.warmup_steps");
  c.clip_grad_norm = s.number("train.clip_grad_norm");
  c.patience = static_cast<int>(s.integer("train.patience"));
  c.early_stopping_task = s.text("train.early_stopping_task");
  c.early_stopping_metric = s.text("train.early_stopping_metric");
  c.restore_best = s.boolean("train.restore_best");
  return c;
}

ProgressFn progress_printer(bool quiet) {
  if (quiet || !stderr_is_terminal()) return {};
  struct State {
    std::chrono::steady_clock::time_point last{};
  };
  auto state = std::make_shared<State>();
  return [state](const Progress& p) {
    const auto now = std::chrono::steady_clock::now();
    if (!p.epoch_done && now - state->last < std::chrono::milliseconds(100)) return;
    state->last = now;
    if (p.epoch_done && p.record) {
      std::fprintf(stderr, "\r\033[Kepoch %d/%d  loss %.5f", p.epoch, p.epochs, p.record->train_loss);
      if (!std::isnan(p.record->valid_loss)) std::fprintf(stderr, "  valid loss %.5f", p.record->valid_loss);
      for (const auto& [task, metrics] : p.record->valid_metrics) {
        const auto auc = metrics.find("auc");
        const auto mse = metrics.find("mse");
        if (auc != metrics.end()) std::fprintf(stderr, "  %s auc %.4f", task.c_str(), auc->second);
        else if (mse != metrics.end()) std::fprintf(stderr, "  %s mse %.4f", task.c_str(), mse->second);
      }
      std::fprintf(stderr, "  (%.2fs)\n", p.record->seconds);
      return;
    }
    const int width = 30;
    const double frac = p.steps_per_epoch > 0 ? static_cast<double>(p.step) / p.steps_per_epoch : 0.0;
    const int filled = static_cast<int>(frac * width);
    std::fprintf(stderr, "\r\033[Kepoch %d/%d [%.*s%*s] %3.0f%%  loss %.5f", p.epoch, p.epochs, filled,
                 "==============================", width - filled, "", frac * 100.0, p.loss);
    std::fflush(stderr);
  };
}

void add_evaluation(nlohmann::json& report, const std::string& split, const Evaluation& ev, const ModelSpec& spec) {
  for (const auto& [task, metrics] : ev.tasks)
    for (const auto& [name, value] : metrics)
      report["tasks"][task][split][name] = std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
  report["loss"][split] = ev.loss;
  if (ev.gates) {
    nlohmann::json g;
    const GateStats& gs = *ev.gates;
    for (int gate = 0; gate < gs.n_gate; ++gate) {
      const std::string name = spec.arch == Arch::mmoe ? spec.tasks[gate].name : "shared";
      std::vector<double> weights(gs.mean_weight.begin() + gate * gs.n_expert,
                                  gs.mean_weight.begin() + (gate + 1) * gs.n_expert);
      g[name] = {{"mean_weight", weights},
                 {"mean_entropy", gs.mean_entropy[gate]},
                 {"entropy_of_mean", gs.entropy_of_mean[gate]},
                 {"max_entropy", std::log(static_cast<double>(gs.n_expert))}};
    }
    report["gates"][split] = g;
  }
}

std::string metrics_table(const nlohmann::json& report) {
  std::ostringstream out;
  if (!report.contains("tasks")) return {};
  out << std::left << std::setw(16) << "task" << std::setw(8) << "split";
  const std::vector<std::string> names = {"auc", "logloss", "accuracy", "mse", "mae", "r2"};
  std::vector<std::string> shown;
  for (const std::string& n : names)
    for (const auto& [task, splits] : report["tasks"].items())
      for (const auto& [split, metrics] : splits.items())
        if (metrics.contains(n) && std::find(shown.begin(), shown.end(), n) == shown.end()) shown.push_back(n);
  for (const std::string& n : shown) out << std::right << std::setw(10) << n;
  out << "\n";
  for (const auto& [task, splits] : report["tasks"].items())
    for (const char* split : {"train", "valid", "test"}) {
      if (!splits.contains(split)) continue;
      out << std::left << std::setw(16) << task << std::setw(8) << split;
      for (const std::string& n : shown) {
        const auto& m = splits[split];
        if (m.contains(n) && m[n].is_number())
          out << std::right << std::setw(10) << std::fixed << std::setprecision(4) << m[n].get<double>();
        else
          out << std::right << std::setw(10) << "-";
      }
      out << "\n";
    }
  return out.str();
}

std::string describe_spec(const ModelSpec& spec, size_t n_params) {
  std::ostringstream out;
  auto list = [](const std::vector<int>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
    return s + "]";
  };
  out << to_string(spec.arch) << ": ";
  switch (spec.arch) {
    case Arch::mmoe: out << spec.n_expert << " experts x " << list(spec.expert_units) << ", " << spec.n_task() << " gates"; break;
    case Arch::omoe: out << spec.n_expert << " experts x " << list(spec.expert_units) << ", 1 gate"; break;
    case Arch::shared_bottom: out << "bottom " << list(spec.expert_units); break;
    case Arch::single_task: out << spec.n_task() << " networks x " << list(spec.expert_units); break;
  }
  out << ", towers " << list(spec.tower_units) << ", " << spec.n_task() << " tasks; inputs " << spec.n_dense
      << " dense + " << spec.cat_cardinality.size() << " categorical (" << spec.total_categories() << " values, "
      << to_string(spec.cat_encoding) << "); " << n_params << " parameters";
  return out.str();
}

}  // namespace mmoe::cli
