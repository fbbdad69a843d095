#include "params.h"

#include <CLI/CLI.hpp>
#include <charconv>
#include <cmath>
#include <sstream>
#include <toml++/toml.h>

#include "mmoe/error.h"
#include "mmoe/schema.h"

namespace mmoe::cli {

namespace {

using T = ParamType;
const std::vector<std::string> kTrainEval = {"train"};
const std::vector<std::string> kSynth = {"synth"};

std::vector<Param> build_params() {
  std::vector<Param> p;
  auto add = [&](Param param) { p.push_back(std::move(param)); };
  // ---- synth ----
  add({"synth.rows", "--rows", T::integer, "20000", "rows to generate", 1, 1e9, {}, kSynth});
  add({"synth.dim", "--dim", T::integer, "100", "input width d", 2, 1e6, {}, kSynth});
  add({"synth.correlation", "--correlation", T::number, "0.5", "task correlation p = cos(w1, w2)", -1, 1, {}, kSynth});
  add({"synth.scale", "--scale", T::number, "1.0", "scale c of w1 and w2", 0, 1e6, {}, kSynth});
  add({"synth.sines", "--sines", T::integer, "10", "number of sine terms m", 0, 1e6, {}, kSynth});
  add({"synth.noise", "--noise", T::number, "0.1", "label noise standard deviation", 0, 1e6, {}, kSynth});
  add({"synth.seed", "--seed", T::integer, "1", "random seed (w, alpha, beta, x, noise)", 0, 1.8e19, {}, kSynth});
  // ---- model ----
  add({"model.arch", "--model", T::text, "mmoe", "architecture", 0, 0,
       {"mmoe", "omoe", "shared-bottom", "single-task"}, kTrainEval});
  add({"model.experts", "--experts", T::integer, "8", "number of experts (mmoe, omoe)", 1, 4096, {}, kTrainEval});
  add({"model.expert_units", "--expert-units", T::int_list, "16",
       "hidden widths of each expert, comma separated (also single-task networks)", 1, 65536, {}, kTrainEval});
  add({"model.bottom_units", "--bottom-units", T::int_list, "",
       "shared-bottom widths; empty = one layer parameter-matched to the MoE with --experts x --expert-units", 1,
       65536, {}, kTrainEval});
  add({"model.tower_units", "--tower-units", T::int_list, "8", "hidden widths of each task tower (may be empty)", 1,
       65536, {}, kTrainEval});
  add({"model.cat_encoding", "--cat-encoding", T::text, "onehot", "categorical input encoding", 0, 0,
       {"onehot", "embedding"}, kTrainEval});
  add({"model.embedding_dim", "--embedding-dim", T::integer, "8", "embedding width per categorical column", 1, 4096,
       {}, kTrainEval});
  add({"model.init", "--init", T::text, "torch", "weight initialisation", 0, 0, {"torch", "xavier", "he"}, kTrainEval});
  // ---- train ----
  add({"train.epochs", "--epochs", T::integer, "20", "passes over the training data", 1, 1e7, {}, kTrainEval});
  add({"train.max_steps", "--max-steps", T::integer, "0", "stop after this many steps (0 = no limit)", 0, 1e12, {},
       kTrainEval});
  add({"train.batch_size", "--batch-size", T::integer, "256", "rows per step", 1, 1e7, {}, kTrainEval});
  add({"train.lr", "--lr", T::number, "0.001", "learning rate", 1e-12, 1e3, {}, kTrainEval});
  add({"train.optimizer", "--optimizer", T::text, "adam", "optimizer", 0, 0, {"adam", "sgd"}, kTrainEval});
  add({"train.momentum", "--momentum", T::number, "0", "SGD momentum", 0, 0.999999, {}, kTrainEval});
  add({"train.nesterov", "--nesterov", T::boolean, "false", "SGD Nesterov momentum", 0, 0, {}, kTrainEval});
  add({"train.beta1", "--beta1", T::number, "0.9", "Adam beta1", 0, 0.999999, {}, kTrainEval});
  add({"train.beta2", "--beta2", T::number, "0.999", "Adam beta2", 0, 0.999999999, {}, kTrainEval});
  add({"train.eps", "--eps", T::number, "1e-8", "Adam epsilon", 1e-30, 1, {}, kTrainEval});
  add({"train.weight_decay", "--weight-decay", T::number, "0", "L2 penalty (added to the gradient)", 0, 1e3, {},
       kTrainEval});
  add({"train.decoupled_weight_decay", "--decoupled-weight-decay", T::boolean, "false",
       "decay the weights directly (AdamW) instead of an L2 gradient term", 0, 0, {}, kTrainEval});
  add({"train.sparse_update", "--sparse-update", T::text, "auto",
       "update only the table rows a batch touched: auto = for embeddings, on, off", 0, 0, {"auto", "on", "off"},
       kTrainEval});
  add({"train.schedule", "--schedule", T::text, "constant", "learning-rate schedule", 0, 0,
       {"constant", "step", "cosine"}, kTrainEval});
  add({"train.step_epochs", "--step-epochs", T::integer, "10", "step schedule: epochs between decays", 1, 1e7, {},
       kTrainEval});
  add({"train.step_gamma", "--step-gamma", T::number, "0.1", "step schedule: decay factor", 0, 1, {}, kTrainEval});
  add({"train.min_lr", "--min-lr", T::number, "0", "cosine schedule: final learning rate", 0, 1e3, {}, kTrainEval});
  add({"train.warmup_steps", "--warmup-steps", T::integer, "0", "linear warm-up steps", 0, 1e12, {}, kTrainEval});
  add({"train.clip_grad_norm", "--clip-grad-norm", T::number, "0", "clip the gradient's L2 norm (0 = off)", 0, 1e12,
       {}, kTrainEval});
  add({"train.patience", "--patience", T::integer, "0",
       "early stopping: epochs without improvement on the watched validation metric (0 = off)", 0, 1e7, {},
       kTrainEval});
  add({"train.early_stopping_task", "--early-stopping-task", T::text, "",
       "task whose validation metric picks the best epoch (default: the first label)", 0, 0, {}, kTrainEval});
  add({"train.early_stopping_metric", "--early-stopping-metric", T::text, "",
       "metric watched (default: auc for binary, mse for regression)", 0, 0,
       {"", "auc", "logloss", "accuracy", "mse", "mae", "r2"}, kTrainEval});
  add({"train.restore_best", "--restore-best", T::boolean, "true", "end with the best validation epoch's weights", 0,
       0, {}, kTrainEval});
  add({"train.shuffle", "--shuffle", T::boolean, "true", "shuffle the rows every epoch", 0, 0, {}, kTrainEval});
  add({"train.seed", "--seed", T::integer, "1", "seed of initialisation, data order and random splits", 0, 1.8e19,
       {}, kTrainEval});
  add({"train.threads", "--threads", T::integer, "2", "worker threads (at most the machine's cores)", 1, 1024, {},
       {"train", "eval", "predict"}});
  return p;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return s.substr(i);
}

[[noreturn]] void wrong_type(const Param& p, const std::string& want, const std::string& where) {
  throw Error(ErrorKind::usage, "key '" + p.key + "' must be " + want, where);
}

std::string node_text(const toml::node& node, const Param& p, const std::string& where) {
  auto bad = [&](const std::string& want) { wrong_type(p, want, where); };
  switch (p.type) {
    case T::integer:
      if (auto v = node.value<int64_t>(); v && node.is_integer()) return std::to_string(*v);
      wrong_type(p, "an integer", where);
    case T::number:
      if (node.is_integer() || node.is_floating_point()) {
        // The shortest text that reads back as the same double: -0.1 stays "-0.1" in messages.
        char buf[32];
        const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *node.value<double>());
        return std::string(buf, ec == std::errc() ? end : buf);
      }
      wrong_type(p, "a number", where);
    case T::text:
      if (auto v = node.value<std::string>()) return *v;
      wrong_type(p, "a string", where);
    case T::boolean:
      if (auto v = node.value<bool>()) return *v ? "true" : "false";
      wrong_type(p, "true or false", where);
    case T::int_list:
      if (const toml::array* arr = node.as_array()) {
        std::string out;
        for (const toml::node& item : *arr) {
          if (!item.is_integer()) bad("a list of integers, like [16] or [64, 32]");
          if (!out.empty()) out += ",";
          out += std::to_string(*item.value<int64_t>());
        }
        return out;
      }
      if (node.is_integer()) return std::to_string(*node.value<int64_t>());
      wrong_type(p, "a list of integers, like [16] or [64, 32]", where);
  }
  return {};
}

}  // namespace

const std::vector<Param>& params() {
  static const std::vector<Param> table = build_params();
  return table;
}

const Param* find_param(const std::string& key) {
  for (const Param& p : params())
    if (p.key == key) return &p;
  return nullptr;
}

static bool takes(const Param& p, const std::string& command) {
  for (const std::string& c : p.commands)
    if (c == command) return true;
  return false;
}

Settings::Settings(const std::string& command) : command_(command) {
  for (const Param& p : params())
    if (takes(p, command)) values_[p.key] = p.fallback;
}

void Settings::check(const Param& p, const std::string& value, const std::string& where) const {
  auto fail = [&](const std::string& message) { throw Error(ErrorKind::usage, message, where); };
  switch (p.type) {
    case T::integer: {
      long long v = 0;
      const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (ec != std::errc() || ptr != value.data() + value.size() || value.empty())
        fail("'" + p.key + "' must be an integer, got '" + value + "'");
      if (v < p.min || v > p.max)
        fail("'" + p.key + "' must be in [" + std::to_string(static_cast<long long>(p.min)) + ", " +
             std::to_string(static_cast<long long>(p.max)) + "], got " + value);
      break;
    }
    case T::number: {
      char* end = nullptr;
      const double v = std::strtod(value.c_str(), &end);
      if (value.empty() || end != value.c_str() + value.size() || !std::isfinite(v))
        fail("'" + p.key + "' must be a finite number, got '" + value + "'");
      if (v < p.min || v > p.max) {
        std::ostringstream out;
        out << "'" << p.key << "' must be in [" << p.min << ", " << p.max << "], got " << value;
        fail(out.str());
      }
      break;
    }
    case T::text:
      if (!p.choices.empty()) {
        bool ok = false;
        for (const std::string& c : p.choices) ok = ok || c == value;
        if (!ok) {
          std::string list;
          for (const std::string& c : p.choices)
            if (!c.empty()) list += (list.empty() ? "" : ", ") + c;
          fail("'" + p.key + "' must be one of " + list + ", got '" + value + "'");
        }
      }
      break;
    case T::boolean:
      if (value != "true" && value != "false") fail("'" + p.key + "' must be true or false, got '" + value + "'");
      break;
    case T::int_list: {
      std::stringstream in(value);
      std::string item;
      while (std::getline(in, item, ',')) {
        item = trim(item);
        long long v = 0;
        const auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
        if (ec != std::errc() || ptr != item.data() + item.size() || item.empty())
          fail("'" + p.key + "' must be a comma-separated list of integers, got '" + value + "'");
        if (v < p.min || v > p.max)
          fail("'" + p.key + "' entries must be in [" + std::to_string(static_cast<long long>(p.min)) + ", " +
               std::to_string(static_cast<long long>(p.max)) + "], got " + item);
      }
      break;
    }
  }
}

// The names other tools use for some settings (LightGBM, Keras, PyTorch scripts), which spelling distance
// alone would not lead to: "learning_rate" is nearer "sparse_update" than "lr".
static const std::pair<const char*, const char*> kAliases[] = {
    {"learning_rate", "lr"},         {"eta", "lr"},                 {"num_epochs", "epochs"},
    {"n_epochs", "epochs"},          {"max_epochs", "epochs"},      {"num_iterations", "max_steps"},
    {"steps", "max_steps"},          {"batch", "batch_size"},       {"batchsize", "batch_size"},
    {"num_experts", "experts"},      {"n_experts", "experts"},      {"num_threads", "threads"},
    {"n_threads", "threads"},        {"nthread", "threads"},        {"lambda_l2", "weight_decay"},
    {"optim", "optimizer"}};

// The valid key to suggest for an unknown one: the nearest of the valid keys and of the aliases (each alias
// standing for the valid key it names, in the same table).
static std::string suggest_key(const std::string& key, const std::vector<std::string>& keys) {
  std::vector<std::string> candidates = keys;
  std::map<std::string, std::string> alias_of;
  for (const std::string& k : keys) {
    const std::string prefix = k.substr(0, k.rfind('.') + 1), name = k.substr(k.rfind('.') + 1);
    for (const auto& [alias, canonical] : kAliases)
      if (name == canonical) {
        candidates.push_back(prefix + alias);
        alias_of[prefix + alias] = k;
      }
  }
  const std::string near = nearest_word(key, candidates);
  const auto it = alias_of.find(near);
  return it == alias_of.end() ? near : it->second;
}

void Settings::set(const std::string& key, const std::string& value, const std::string& source) {
  const Param* p = find_param(key);
  if (!p || !takes(*p, command_)) {
    std::vector<std::string> keys;
    for (const Param& q : params())
      if (takes(q, command_)) keys.push_back(q.key);
    const std::string near = suggest_key(key, keys);
    throw Error(ErrorKind::usage, "unknown key '" + key + "' for 'mmoe " + command_ + "'", source,
                near.empty() ? "" : "did you mean '" + near + "'?");
  }
  check(*p, value, source);
  values_[key] = value;
  sources_[key] = source;
}

void Settings::apply_toml(const std::string& text, const std::string& source) {
  toml::table doc;
  try {
    doc = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    throw Error(ErrorKind::usage, std::string(e.description()),
                location(source, e.source().begin.line, e.source().begin.column));
  }
  for (const auto& [section_key, node] : doc) {
    const std::string section(section_key.str());
    if (section == "data" || section == "schema") continue;  // the data layer's own keys
    const toml::table* table = node.as_table();
    if (!table) {
      const auto& src = node.source();
      set(section, "", location(source, src.begin.line, src.begin.column) + ": key '" + section + "'");
      continue;
    }
    for (const auto& [name, value] : *table) {
      const std::string key = section + "." + std::string(name.str());
      const auto& src = value.source();
      const std::string where = location(source, src.begin.line, src.begin.column) + ": key '" + key + "'";
      const Param* p = find_param(key);
      if (!p || !takes(*p, command_)) {
        set(key, "", where);  // throws the unknown-key error with a suggestion
      }
      set(key, node_text(value, *p, where), where);
    }
  }
}

std::string Settings::text(const std::string& key) const {
  const auto it = values_.find(key);
  MMOE_CHECK(it != values_.end(), "setting '" + key + "' is not declared for this command");
  return it->second;
}
long long Settings::integer(const std::string& key) const { return std::stoll(text(key)); }
double Settings::number(const std::string& key) const { return std::strtod(text(key).c_str(), nullptr); }
bool Settings::boolean(const std::string& key) const { return text(key) == "true"; }
std::vector<int> Settings::int_list(const std::string& key) const {
  std::vector<int> out;
  std::stringstream in(text(key));
  std::string item;
  while (std::getline(in, item, ','))
    if (!trim(item).empty()) out.push_back(std::stoi(trim(item)));
  return out;
}
bool Settings::given(const std::string& key) const { return sources_.count(key) > 0; }

void add_flags(CLI::App& app, const std::string& command, std::map<std::string, std::string>& raw,
               std::map<std::string, std::vector<std::string>>& raw_lists) {
  (void)raw_lists;
  for (const Param& p : params()) {
    if (!takes(p, command) || p.flag.empty()) continue;
    std::string doc = p.doc + " [" + p.key + ", default: " + (p.fallback.empty() ? "\"\"" : p.fallback) + "]";
    if (!p.choices.empty()) {
      std::string list;
      for (const std::string& c : p.choices)
        if (!c.empty()) list += (list.empty() ? "" : "|") + c;
      doc += " {" + list + "}";
    }
    app.add_option(p.flag, raw[p.key], doc);
  }
}

std::string params_markdown() {
  std::ostringstream out;
  for (const char* command : {"synth", "train", "eval", "predict"}) {
    out << "\n### `mmoe " << command << "` settings\n\n| key (TOML) | flag | type | default | meaning |\n|---|---|---|---|---|\n";
    for (const Param& p : params()) {
      if (!takes(p, command)) continue;
      const char* type = p.type == T::integer ? "integer" : p.type == T::number ? "number"
                         : p.type == T::text ? "string" : p.type == T::boolean ? "bool" : "list of integers";
      std::string doc = p.doc;
      if (!p.choices.empty()) {
        std::string list;
        for (const std::string& c : p.choices)
          if (!c.empty()) list += (list.empty() ? "" : ", ") + c;
        doc += " (" + list + ")";
      }
      out << "| `" << p.key << "` | `" << p.flag << "` | " << type << " | `" << p.fallback << "` | " << doc << " |\n";
    }
  }
  return out.str();
}

}  // namespace mmoe::cli
