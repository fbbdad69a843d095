// The experiment description: TOML tables [experiment], [data], [model], [train], [sweep] -> ExperimentConfig.
// Every key is checked once here, at the boundary: unknown keys (with the nearest valid one), wrong types and
// out-of-range values are usage errors that name the key and its file:line:col.
#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "mmoe/error.h"
#include "mmoe/experiment.h"
#include "mmoe/fs.h"
#include "mmoe/schema.h"

namespace mmoe {

namespace {

// The keys of each table; anything else is a typo.
const std::vector<std::string> kTables = {"experiment", "data", "model", "train", "sweep"};
const std::vector<std::string> kExperimentKeys = {"models", "correlations", "runs", "seed", "threads"};
const std::vector<std::string> kDataKeys = {"dim", "scale", "sines", "noise", "train_rows", "heldout_rows"};
const std::vector<std::string> kModelKeys = {"experts", "expert_units", "tower_units", "bottom_units", "init"};
const std::vector<std::string> kTrainKeys = {"optimizer", "lr", "beta1", "beta2", "eps", "batch_size", "steps",
                                             "eval_every"};
const std::vector<std::string> kSweepKeys = {"cosines", "trials", "rows"};

// Reads one table, naming "table.key" and the source position in every message.
class TableReader {
 public:
  TableReader(const toml::table* table, std::string name, const std::string& source)
      : table_(table), name_(std::move(name)), source_(source) {}

  void check_keys(const std::vector<std::string>& allowed) const {
    if (!table_) return;
    for (const auto& [k, node] : *table_) {
      (void)node;
      if (std::find(allowed.begin(), allowed.end(), k.str()) != allowed.end()) continue;
      const auto& at = k.source().begin;
      std::string all;
      for (const std::string& a : allowed) all += (all.empty() ? "" : ", ") + a;
      throw Error(ErrorKind::usage,
                  "unknown key '" + key(k.str()) + "' (at " + location(source_, at.line, at.column) + ")", key(k.str()),
                  "did you mean '" + key(nearest_word(k.str(), allowed)) + "'? valid keys here: " + all);
    }
  }

  bool has(const char* name) const { return table_ && table_->get(name); }

  double number(const char* name, double fallback, double lo, double hi) const {
    const toml::node* n = node(name);
    if (!n) return fallback;
    double v;
    if (auto i = n->value_exact<int64_t>()) v = static_cast<double>(*i);
    else if (auto f = n->value_exact<double>()) v = *f;
    else fail(name, *n, "expected a number");
    if (!(v >= lo && v <= hi)) fail(name, *n, "must be in [" + fmt(lo) + ", " + fmt(hi) + "], got " + fmt(v));
    return v;
  }

  int64_t integer(const char* name, int64_t fallback, int64_t lo, int64_t hi) const {
    const toml::node* n = node(name);
    if (!n) return fallback;
    auto i = n->value_exact<int64_t>();
    if (!i) fail(name, *n, "expected an integer");
    if (*i < lo || *i > hi)
      fail(name, *n, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + std::to_string(*i));
    return *i;
  }

  std::string text(const char* name, const std::string& fallback) const {
    const toml::node* n = node(name);
    if (!n) return fallback;
    auto s = n->value_exact<std::string>();
    if (!s) fail(name, *n, "expected a string");
    return *s;
  }

  // An array of numbers (integers allowed), each in [lo, hi]; `integral` = integers only.
  std::vector<double> numbers(const char* name, const std::vector<double>& fallback, double lo, double hi,
                              bool integral) const {
    const toml::node* n = node(name);
    if (!n) return fallback;
    const toml::array* arr = n->as_array();
    if (!arr) fail(name, *n, integral ? "expected an array of integers" : "expected an array of numbers");
    std::vector<double> out;
    for (const toml::node& item : *arr) {
      double v;
      if (auto i = item.value_exact<int64_t>()) v = static_cast<double>(*i);
      else if (auto f = item.value_exact<double>(); f && !integral) v = *f;
      else fail(name, item, integral ? "expected integers" : "expected numbers");
      if (!(v >= lo && v <= hi)) fail(name, item, "values must be in [" + fmt(lo) + ", " + fmt(hi) + "], got " + fmt(v));
      out.push_back(v);
    }
    return out;
  }

  std::vector<std::string> texts(const char* name, const std::vector<std::string>& fallback) const {
    const toml::node* n = node(name);
    if (!n) return fallback;
    const toml::array* arr = n->as_array();
    if (!arr) fail(name, *n, "expected an array of strings");
    std::vector<std::string> out;
    for (const toml::node& item : *arr) {
      auto s = item.value_exact<std::string>();
      if (!s) fail(name, item, "expected strings");
      out.push_back(*s);
    }
    return out;
  }

  const toml::node* node(const char* name) const { return table_ ? table_->get(name) : nullptr; }

  [[noreturn]] void fail(const char* name, const toml::node& n, const std::string& message) const {
    const auto& at = n.source().begin;
    throw Error(ErrorKind::usage, key(name) + " " + message + " (at " + location(source_, at.line, at.column) + ")",
                key(name));
  }

 private:
  std::string key(std::string_view k) const { return name_ + "." + std::string(k); }
  static std::string fmt(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
  }

  const toml::table* table_;
  std::string name_;
  const std::string& source_;
};

std::vector<int> to_ints(const std::vector<double>& v) {
  std::vector<int> out;
  for (double x : v) out.push_back(static_cast<int>(x));
  return out;
}

}  // namespace

void ExperimentConfig::validate() const {
  auto bad = [](const std::string& message, const char* key) { throw Error(ErrorKind::usage, message, key); };
  if (models.empty()) bad("no models to train", "experiment.models");
  if (correlations.empty()) bad("no correlations", "experiment.correlations");
  for (double c : correlations)
    if (!(std::fabs(c) <= 1.0)) bad("correlations must be in [-1, 1]", "experiment.correlations");
  if (runs < 1) bad("runs must be >= 1, got " + std::to_string(runs), "experiment.runs");
  if (threads < 1) bad("threads must be >= 1, got " + std::to_string(threads), "experiment.threads");
  if (train_rows < 1) bad("train_rows must be >= 1", "data.train_rows");
  if (heldout_rows < 1) bad("heldout_rows must be >= 1", "data.heldout_rows");
  SynthConfig s = synth;
  s.rows = train_rows;
  s.validate();
  if (spec.n_expert < 1) bad("experts must be >= 1", "model.experts");
  if (spec.expert_units.empty()) bad("experts need at least one layer", "model.expert_units");
  if (train.max_steps < 1) bad("steps must be >= 1", "train.steps");
  if (train.batch_size < 1) bad("batch_size must be >= 1", "train.batch_size");
  if (!(train.optim.lr > 0.0)) bad("lr must be > 0", "train.lr");
  if (train.eval_every_steps < 1) bad("eval_every must be >= 1", "train.eval_every");
  if (sweep_trials < 2) bad("trials must be >= 2 (a standard deviation needs two)", "sweep.trials");
  if (sweep_rows < 2) bad("rows must be >= 2", "sweep.rows");
  for (double c : sweep_cosines)
    if (!(std::fabs(c) <= 1.0)) bad("cosines must be in [-1, 1]", "sweep.cosines");
}

ExperimentConfig parse_experiment_config(const std::string& toml_text, const std::string& source) {
  toml::table doc;
  try {
    doc = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    const auto& at = e.source().begin;
    throw Error(ErrorKind::usage, std::string(e.description()), location(source, at.line, at.column));
  }
  for (const auto& [k, node] : doc) {
    const auto& at = k.source().begin;
    const bool known = std::find(kTables.begin(), kTables.end(), k.str()) != kTables.end();
    if (!known)
      throw Error(ErrorKind::usage,
                  "unknown table or key '" + std::string(k.str()) + "' (at " + location(source, at.line, at.column) + ")",
                  std::string(k.str()), "did you mean '" + nearest_word(k.str(), kTables) + "'?");
    if (!node.is_table())
      throw Error(ErrorKind::usage, "'" + std::string(k.str()) + "' must be a table (at " +
                                        location(source, at.line, at.column) + ")", std::string(k.str()));
  }
  auto table = [&](const char* name) { return doc.get_as<toml::table>(name); };
  const TableReader ex(table("experiment"), "experiment", source), data(table("data"), "data", source),
      model(table("model"), "model", source), train(table("train"), "train", source),
      sweep(table("sweep"), "sweep", source);
  ex.check_keys(kExperimentKeys);
  data.check_keys(kDataKeys);
  model.check_keys(kModelKeys);
  train.check_keys(kTrainKeys);
  sweep.check_keys(kSweepKeys);

  ExperimentConfig c;
  if (ex.has("models")) {
    c.models.clear();
    for (const std::string& name : ex.texts("models", {})) {
      try {
        c.models.push_back(parse_arch(name));
      } catch (const Error& e) {
        ex.fail("models", *ex.node("models"), e.message());
      }
    }
  }
  c.correlations = ex.numbers("correlations", c.correlations, -1.0, 1.0, false);
  c.runs = static_cast<int>(ex.integer("runs", c.runs, 1, 1000000));
  c.seed = static_cast<uint64_t>(ex.integer("seed", static_cast<int64_t>(c.seed), 0,
                                            std::numeric_limits<int64_t>::max()));
  c.threads = static_cast<int>(ex.integer("threads", c.threads, 1, 1024));

  c.synth.d = static_cast<int>(data.integer("dim", c.synth.d, 2, 1000000));
  c.synth.scale = data.number("scale", c.synth.scale, 1e-12, 1e6);
  c.synth.n_sines = static_cast<int>(data.integer("sines", c.synth.n_sines, 0, 1000000));
  c.synth.noise_std = data.number("noise", c.synth.noise_std, 0.0, 1e6);
  c.train_rows = static_cast<size_t>(data.integer("train_rows", static_cast<int64_t>(c.train_rows), 1, 1000000000));
  c.heldout_rows =
      static_cast<size_t>(data.integer("heldout_rows", static_cast<int64_t>(c.heldout_rows), 1, 1000000000));

  c.spec.n_expert = static_cast<int>(model.integer("experts", c.spec.n_expert, 1, 4096));
  c.spec.expert_units = to_ints(model.numbers("expert_units", {16}, 1, 65536, true));
  c.spec.tower_units = to_ints(model.numbers("tower_units", {8}, 1, 65536, true));
  if (const toml::node* n = model.node("bottom_units"); n && n->is_string()) {
    if (model.text("bottom_units", "") != "matched") model.fail("bottom_units", *n, "expected an array or \"matched\"");
  } else {
    c.bottom_units = to_ints(model.numbers("bottom_units", {}, 1, 65536, true));
  }
  try {
    c.spec.init = parse_init(model.text("init", "torch"));
  } catch (const Error& e) {
    model.fail("init", *model.node("init"), e.message());
  }

  try {
    c.train.optim.kind = parse_optim_kind(train.text("optimizer", "adam"));
  } catch (const Error& e) {
    train.fail("optimizer", *train.node("optimizer"), e.message());
  }
  c.train.optim.lr = train.number("lr", 1e-3, 1e-12, 1e3);
  c.train.optim.beta1 = train.number("beta1", c.train.optim.beta1, 0.0, 0.999999);
  c.train.optim.beta2 = train.number("beta2", c.train.optim.beta2, 0.0, 0.999999999);
  c.train.optim.eps = train.number("eps", c.train.optim.eps, 1e-30, 1.0);
  c.train.batch_size = static_cast<size_t>(train.integer("batch_size", 128, 1, 10000000));
  c.train.max_steps = train.integer("steps", 3000, 1, 1000000000000LL);
  c.train.eval_every_steps = static_cast<int>(train.integer("eval_every", 100, 1, 1000000000));

  c.sweep_cosines = sweep.numbers("cosines", {}, -1.0, 1.0, false);
  c.sweep_trials = static_cast<int>(sweep.integer("trials", c.sweep_trials, 2, 1000000));
  c.sweep_rows = static_cast<size_t>(sweep.integer("rows", static_cast<int64_t>(c.sweep_rows), 2, 1000000000));
  c.validate();
  return c;
}

ExperimentConfig load_experiment_config(const std::string& path) {
  return parse_experiment_config(read_file(path), path);
}

}  // namespace mmoe
