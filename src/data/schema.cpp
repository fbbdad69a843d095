// Schema and [data] config: TOML in, validated structs out, every fault named by its key.
//
// toml++ tables are ordered maps (sorted by key), so declaration order is recovered from each node's source
// position: that is what makes "tasks in the order you wrote them" hold.
#include "mmoe/schema.h"

#include <algorithm>
#include <fstream>
#include <numeric>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "mmoe/rng.h"

namespace mmoe {

const char* to_string(ColumnKind kind) {
  switch (kind) {
    case ColumnKind::dense: return "dense";
    case ColumnKind::categorical: return "categorical";
    case ColumnKind::label: return "label";
    case ColumnKind::weight: return "weight";
    case ColumnKind::ignore: return "ignore";
  }
  return "?";
}

ColumnKind parse_column_kind(const std::string& text, const std::string& key) {
  if (text == "dense") return ColumnKind::dense;
  if (text == "categorical") return ColumnKind::categorical;
  if (text == "label") return ColumnKind::label;
  if (text == "weight") return ColumnKind::weight;
  if (text == "ignore") return ColumnKind::ignore;
  throw Error(ErrorKind::usage, "unknown column kind \"" + text + "\" (use dense, categorical, label, weight or ignore)",
              key, "did you mean \"" + nearest_word(text, {"dense", "categorical", "label", "weight", "ignore"}) + "\"?");
}

const char* to_string(Scaling scaling) {
  switch (scaling) {
    case Scaling::standard: return "standard";
    case Scaling::minmax: return "minmax";
    case Scaling::none: return "none";
  }
  return "?";
}

Scaling parse_scaling(const std::string& text, const std::string& key) {
  if (text == "standard") return Scaling::standard;
  if (text == "minmax") return Scaling::minmax;
  if (text == "none") return Scaling::none;
  throw Error(ErrorKind::usage, "unknown scaling \"" + text + "\" (use standard, minmax or none)", key);
}

const char* to_string(BadRowPolicy policy) { return policy == BadRowPolicy::error ? "error" : "skip"; }

BadRowPolicy parse_bad_row_policy(const std::string& text, const std::string& key) {
  if (text == "error") return BadRowPolicy::error;
  if (text == "skip") return BadRowPolicy::skip;
  throw Error(ErrorKind::usage, "unknown on_bad_row \"" + text + "\" (use error or skip)", key);
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  std::iota(prev.begin(), prev.end(), size_t{0});
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string nearest_word(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = SIZE_MAX;
  for (const auto& c : candidates) {
    size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

namespace {

// ---- TOML helpers: every getter names the full key and the file position on a type error ----------------

std::string join_key(const std::string& prefix, std::string_view name) {
  return prefix.empty() ? std::string(name) : prefix + "." + std::string(name);
}

std::string position(const toml::node& node, const std::string& source) {
  const auto& src = node.source();
  return location(source, src.begin.line, src.begin.column);
}

[[noreturn]] void key_error(const std::string& key, const std::string& message, const toml::node* node,
                            const std::string& source, std::string hint = {}) {
  std::string msg = message;
  if (node && node->source().begin.line > 0) msg += " (at " + position(*node, source) + ")";
  throw Error(ErrorKind::usage, msg, key, std::move(hint));
}

void check_keys(const toml::table& table, const std::string& prefix, const std::vector<std::string>& allowed,
                const std::string& source) {
  for (const auto& [k, node] : table) {
    if (std::find(allowed.begin(), allowed.end(), k.str()) != allowed.end()) continue;
    std::string near = nearest_word(k.str(), allowed);
    std::string all;
    for (const auto& a : allowed) all += (all.empty() ? "" : ", ") + a;
    (void)node;
    // The key's own position (a node's position is its value's).
    const auto& b = k.source().begin;
    const std::string key = join_key(prefix, k.str());
    const std::string at = location(source, b.line, b.column);
    // An empty top-level key ("" = ...) has no name to point at: the error's location is then its position.
    if (key.empty())
      throw Error(ErrorKind::usage, "unknown key '' (an empty name)", at, "valid keys here: " + all);
    throw Error(ErrorKind::usage, "unknown key '" + key + "' (at " + at + ")", key,
                "did you mean '" + join_key(prefix, near) + "'? valid keys here: " + all);
  }
}

const char* type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    default: return "a date/time";
  }
}

struct Reader {
  const toml::table& table;
  std::string prefix;
  const std::string& source;

  const toml::node* get(const char* name) const { return table.get(name); }
  std::string key(const char* name) const { return join_key(prefix, name); }

  [[noreturn]] void wrong_type(const char* name, const toml::node& n, const char* want) const {
    key_error(key(name), "'" + key(name) + "' must be " + want + ", not " + type_name(n), &n, source);
  }

  bool get_string(const char* name, std::string& out) const {
    const toml::node* n = get(name);
    if (!n) return false;
    if (!n->is_string()) wrong_type(name, *n, "a string");
    out = n->as_string()->get();
    return true;
  }
  bool get_bool(const char* name, bool& out) const {
    const toml::node* n = get(name);
    if (!n) return false;
    if (!n->is_boolean()) wrong_type(name, *n, "true or false");
    out = n->as_boolean()->get();
    return true;
  }
  bool get_int(const char* name, int64_t& out, int64_t lo, int64_t hi) const {
    const toml::node* n = get(name);
    if (!n) return false;
    if (!n->is_integer()) wrong_type(name, *n, "an integer");
    out = n->as_integer()->get();
    if (out < lo || out > hi)
      key_error(key(name), "'" + key(name) + "' = " + std::to_string(out) + " is out of range [" + std::to_string(lo) +
                               ", " + std::to_string(hi) + "]", n, source);
    return true;
  }
  bool get_double(const char* name, double& out, double lo, double hi) const {
    const toml::node* n = get(name);
    if (!n) return false;
    if (n->is_integer()) out = static_cast<double>(n->as_integer()->get());
    else if (n->is_floating_point()) out = n->as_floating_point()->get();
    else wrong_type(name, *n, "a number");
    if (!(out >= lo && out <= hi)) {
      std::ostringstream os;
      os << "'" << key(name) << "' = " << out << " is out of range [" << lo << ", " << hi << "]";
      key_error(key(name), os.str(), n, source);
    }
    return true;
  }
  // An array of strings; a single string is taken as a one-element list.
  bool get_strings(const char* name, std::vector<std::string>& out) const {
    const toml::node* n = get(name);
    if (!n) return false;
    out.clear();
    if (n->is_string()) {
      out.push_back(n->as_string()->get());
      return true;
    }
    if (!n->is_array()) wrong_type(name, *n, "an array of strings");
    for (const auto& e : *n->as_array()) {
      if (!e.is_string()) key_error(key(name), "'" + key(name) + "' must be an array of strings, but holds " + type_name(e), &e, source);
      out.push_back(e.as_string()->get());
    }
    return true;
  }
};

const std::vector<std::string> kSchemaKeys = {"separator", "header",    "comment",      "missing",
                                              "default",   "names",     "columns",      "max_line_bytes",
                                              "scaling",   "min_count", "hash_buckets", "missing_flags"};
const std::vector<std::string> kColumnKeys = {"name",     "index",     "kind",         "task",
                                              "positive", "negative",  "loss_weight",  "min_count",
                                              "hash_buckets"};
const std::vector<std::string> kDataKeys = {"train",     "valid",      "test",        "split_test",
                                            "split_seed", "on_bad_row", "max_bad_rows"};

ColumnSpec parse_column(const toml::table& t, const std::string& key, const std::string& source, bool array_form) {
  check_keys(t, key, kColumnKeys, source);
  Reader r{t, key, source};
  ColumnSpec c;
  c.key = key;
  if (array_form) {
    r.get_string("name", c.name);
  } else if (t.contains("name")) {
    key_error(r.key("name"), "'" + r.key("name") + "' is not allowed: the table key is the column's name", t.get("name"), source);
  }
  r.get_int("index", c.index, 0, 1'000'000);
  std::string text;
  if (!r.get_string("kind", text)) key_error(r.key("kind"), "'" + key + "' needs a kind", &t, source);
  c.kind = parse_column_kind(text, r.key("kind"));
  bool label_keys = false;
  if (r.get_string("task", text)) {
    label_keys = true;
    if (text == "binary") c.task = TaskKind::binary;
    else if (text == "regression") c.task = TaskKind::regression;
    else key_error(r.key("task"), "unknown task \"" + text + "\" (use binary or regression)", t.get("task"), source);
  }
  label_keys |= r.get_strings("positive", c.positive);
  label_keys |= r.get_strings("negative", c.negative);
  double lw = 1.0;
  if (r.get_double("loss_weight", lw, 0.0, 1e6)) label_keys = true;
  c.loss_weight = static_cast<float>(lw);
  if (label_keys && c.kind != ColumnKind::label)
    key_error(key, "'" + key + "' sets task/positive/negative/loss_weight but its kind is " + to_string(c.kind) +
                       ", not label", &t, source);
  if (c.kind == ColumnKind::label && c.task == TaskKind::regression && (!c.positive.empty() || !c.negative.empty()))
    key_error(key, "'" + key + "' is a regression label; positive/negative apply to binary labels only", &t, source);
  if (!c.negative.empty() && c.positive.empty())
    key_error(r.key("negative"), "'" + r.key("negative") + "' needs 'positive' too", t.get("negative"), source);
  bool cat_keys = r.get_int("min_count", c.min_count, 1, INT64_MAX);
  cat_keys |= r.get_int("hash_buckets", c.hash_buckets, 0, int64_t{1} << 30);
  if (cat_keys && c.kind != ColumnKind::categorical)
    key_error(key, "'" + key + "' sets min_count/hash_buckets but its kind is " + std::string(to_string(c.kind)) +
                       ", not categorical", &t, source);
  return c;
}

Schema parse_schema(const toml::table& t, const std::string& prefix, const std::string& source) {
  check_keys(t, prefix, kSchemaKeys, source);
  Reader r{t, prefix, source};
  Schema s;
  s.source = source;
  std::string text;
  if (r.get_string("separator", text)) s.separator = parse_separator(text, r.key("separator"));
  r.get_bool("header", s.header);
  r.get_string("comment", s.comment);
  r.get_strings("missing", s.missing);
  if (r.get_string("default", text)) {
    s.default_kind = parse_column_kind(text, r.key("default"));
    if (s.default_kind == ColumnKind::label || s.default_kind == ColumnKind::weight)
      key_error(r.key("default"), "'" + r.key("default") + "' must be dense, categorical or ignore", t.get("default"), source);
  }
  if (r.get_strings("names", s.names) && s.header)
    key_error(r.key("names"), "'" + r.key("names") + "' is for headerless files; this schema has header = true (the header names the columns)",
              t.get("names"), source);
  int64_t v = 0;
  if (r.get_int("max_line_bytes", v, 16, int64_t{1} << 30)) s.max_line_bytes = static_cast<size_t>(v);
  if (r.get_string("scaling", text)) s.scaling = parse_scaling(text, r.key("scaling"));
  r.get_int("min_count", s.min_count, 1, INT64_MAX);
  r.get_int("hash_buckets", s.hash_buckets, 0, int64_t{1} << 30);
  r.get_bool("missing_flags", s.missing_flags);

  // columns: a table keyed by name (values: a kind string or a table), or an array of tables with name/index.
  if (const toml::node* cols = t.get("columns")) {
    const std::string ckey = r.key("columns");
    std::vector<std::pair<toml::source_position, ColumnSpec>> found;
    if (const toml::table* ct = cols->as_table()) {
      for (const auto& [k, node] : *ct) {
        std::string key = join_key(ckey, k.str());
        ColumnSpec c;
        if (node.is_string()) {
          c.key = key;
          c.kind = parse_column_kind(node.as_string()->get(), key);
        } else if (const toml::table* one = node.as_table()) {
          c = parse_column(*one, key, source, false);
        } else {
          key_error(key, "'" + key + "' must be a kind string or a table, not " + type_name(node), &node, source);
        }
        c.name = std::string(k.str());
        if (c.kind == ColumnKind::label && !node.is_table()) c.task = TaskKind::binary;
        found.emplace_back(node.source().begin, std::move(c));
      }
    } else if (const toml::array* ca = cols->as_array()) {
      for (size_t i = 0; i < ca->size(); ++i) {
        const toml::node& node = *ca->get(i);
        std::string key = ckey + "[" + std::to_string(i) + "]";
        const toml::table* one = node.as_table();
        if (!one) key_error(key, "'" + key + "' must be a table {name = ..., kind = ...}", &node, source);
        ColumnSpec c = parse_column(*one, key, source, true);
        if (c.name.empty() && c.index < 0)
          key_error(key, "'" + key + "' needs a name or an index", &node, source);
        if (c.name.empty()) c.name = "c" + std::to_string(c.index);
        found.emplace_back(node.source().begin, std::move(c));
      }
    } else {
      key_error(ckey, "'" + ckey + "' must be a table or an array of tables", cols, source);
    }
    std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
      return a.first.line != b.first.line ? a.first.line < b.first.line : a.first.column < b.first.column;
    });
    for (auto& f : found) s.columns.push_back(std::move(f.second));
  }
  s.validate();
  return s;
}

toml::table parse_toml(const std::string& text, const std::string& source) {
  try {
    return toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    throw Error(ErrorKind::usage, "TOML syntax error: " + std::string(e.description()), location(source, b.line, b.column));
  }
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorKind::io, "cannot open file", path);
  std::ostringstream os;
  os << in.rdbuf();
  if (in.bad()) throw Error(ErrorKind::io, "cannot read file", path);
  return os.str();
}

}  // namespace

Schema Schema::from_toml(const std::string& text, const std::string& source) {
  toml::table root = parse_toml(text, source);
  if (const toml::node* n = root.get("schema")) {
    const toml::table* t = n->as_table();
    if (!t) key_error("schema", "'schema' must be a table", n, source);
    return parse_schema(*t, "schema", source);
  }
  return parse_schema(root, "", source);
}

Schema Schema::from_file(const std::string& path) { return from_toml(read_text(path), path); }

Schema Schema::plain(const std::vector<TaskSpec>& labels, CsvSeparator separator) {
  Schema s;
  s.separator = separator;
  s.header = true;
  s.default_kind = ColumnKind::dense;
  for (const auto& t : labels) {
    ColumnSpec c;
    c.name = t.name;
    c.kind = ColumnKind::label;
    c.task = t.kind;
    c.loss_weight = t.loss_weight;
    c.key = "--label " + t.name;
    s.columns.push_back(std::move(c));
  }
  s.validate();
  return s;
}

std::vector<TaskSpec> Schema::tasks() const {
  std::vector<TaskSpec> out;
  for (const auto& c : columns)
    if (c.kind == ColumnKind::label) out.push_back({c.name, c.task, c.loss_weight});
  return out;
}

CsvOptions Schema::csv_options() const {
  CsvOptions o;
  o.separator = separator;
  o.header = header;
  o.comment = comment;
  o.max_line_bytes = max_line_bytes;
  return o;
}

bool Schema::is_missing(std::string_view field) const {
  for (const auto& m : missing)
    if (field == m) return true;
  return false;
}

void Schema::validate() const {
  const ColumnSpec* weight = nullptr;
  size_t n_label = 0;
  std::set<std::string> seen_names;
  std::vector<const ColumnSpec*> by_index;
  for (const auto& c : columns) {
    if (c.name.empty()) throw Error(ErrorKind::usage, "a column has an empty name", c.key);
    if (!seen_names.insert(c.name).second)
      throw Error(ErrorKind::usage, "column '" + c.name + "' is listed twice", c.key);
    if (c.index >= 0) {
      for (const ColumnSpec* o : by_index)
        if (o->index == c.index)
          throw Error(ErrorKind::usage,
                      "column index " + std::to_string(c.index) + " is given to both '" + o->name + "' and '" + c.name +
                          "' (one column cannot be two things, e.g. a label and a feature)",
                      c.key + ".index");
      by_index.push_back(&c);
      if (!names.empty() && static_cast<size_t>(c.index) >= names.size())
        throw Error(ErrorKind::usage, "index " + std::to_string(c.index) + " is beyond the " + std::to_string(names.size()) + " names in 'names'",
                    c.key + ".index");
      if (!names.empty() && names[c.index] != c.name)
        throw Error(ErrorKind::usage, "index " + std::to_string(c.index) + " is named '" + names[c.index] + "' in 'names', not '" + c.name + "'",
                    c.key + ".index");
    } else if (!header && names.empty()) {
      throw Error(ErrorKind::usage, "column '" + c.name + "' cannot be found: the file has no header and the schema no 'names'",
                  c.key, "add index = N (0-based) or a names = [...] list");
    } else if (!header && std::find(names.begin(), names.end(), c.name) == names.end()) {
      std::string near = nearest_word(c.name, names);
      throw Error(ErrorKind::usage, "column '" + c.name + "' is not in 'names'", c.key, "did you mean '" + near + "'?");
    }
    if (c.kind == ColumnKind::weight) {
      if (weight)
        throw Error(ErrorKind::usage, "two weight columns: '" + weight->name + "' and '" + c.name + "' (at most one)", c.key + ".kind");
      weight = &c;
    }
    if (c.kind == ColumnKind::label) ++n_label;
  }
  std::set<std::string> uniq(names.begin(), names.end());
  if (uniq.size() != names.size()) {
    for (size_t i = 0; i < names.size(); ++i)
      for (size_t j = 0; j < i; ++j)
        if (names[i] == names[j])
          throw Error(ErrorKind::usage, "name '" + names[i] + "' appears twice in 'names' (positions " + std::to_string(j) +
                                            " and " + std::to_string(i) + ")", "schema.names");
  }
  if (n_label == 0)
    throw Error(ErrorKind::usage, "the schema has no label column (give at least one column kind = \"label\")",
                "schema.columns");
}

std::vector<ColumnSpec> Schema::bind(const std::vector<std::string>& header_names, size_t n_fields, const std::string& path,
                                     bool labels_optional) const {
  std::vector<ColumnSpec> out(n_fields);
  std::vector<bool> listed(n_fields, false);
  auto is_target = [](const ColumnSpec& c) { return c.kind == ColumnKind::label || c.kind == ColumnKind::weight; };

  // Names of the file's fields.
  std::vector<std::string> field_names(n_fields);
  if (header) {
    if (header_names.size() != n_fields)
      throw Error(ErrorKind::input, "the header has " + std::to_string(header_names.size()) + " names but records have " +
                                        std::to_string(n_fields) + " fields", path);
    field_names = header_names;
  } else if (!names.empty()) {
    if (names.size() == n_fields) {
      field_names = names;
    } else {
      // Predict on rows without labels: the file has exactly the non-label columns, in order.
      std::vector<std::string> kept;
      for (const auto& nm : names) {
        auto it = std::find_if(columns.begin(), columns.end(), [&](const ColumnSpec& c) { return c.name == nm; });
        if (it == columns.end() || !is_target(*it)) kept.push_back(nm);
      }
      if (!labels_optional || kept.size() != n_fields)
        throw Error(ErrorKind::input, "the file has " + std::to_string(n_fields) + " columns but the schema names " +
                                          std::to_string(names.size()) +
                                          (labels_optional ? " (or " + std::to_string(kept.size()) + " without labels)" : ""),
                    path);
      field_names = kept;
    }
  } else {
    for (size_t i = 0; i < n_fields; ++i) field_names[i] = "c" + std::to_string(i);
  }
  {
    std::set<std::string> seen;
    for (const auto& nm : field_names)
      if (!seen.insert(nm).second)
        throw Error(ErrorKind::input, "column name '" + nm + "' appears twice in the header", path);
  }

  for (const auto& c : columns) {
    size_t field = SIZE_MAX;
    if (header || !names.empty()) {
      auto it = std::find(field_names.begin(), field_names.end(), c.name);
      if (it != field_names.end()) field = static_cast<size_t>(it - field_names.begin());
      if (field != SIZE_MAX && c.index >= 0 && header && static_cast<size_t>(c.index) != field)
        throw Error(ErrorKind::usage, "column '" + c.name + "' has index " + std::to_string(c.index) + " but is at position " +
                                          std::to_string(field) + " in the header of " + path, c.key + ".index");
      if (field == SIZE_MAX) {
        if (labels_optional && is_target(c)) continue;
        if (header)
          throw Error(ErrorKind::usage, "column '" + c.name + "' is not in the header of " + path, c.key,
                      "nearest header name: '" + nearest_word(c.name, field_names) + "'");
        throw Error(ErrorKind::usage, "column '" + c.name + "' is not in the file " + path, c.key);
      }
    } else {
      if (static_cast<size_t>(c.index) >= n_fields)
        throw Error(ErrorKind::usage, "index " + std::to_string(c.index) + " is beyond the " + std::to_string(n_fields) +
                                          " columns of " + path, c.key + ".index");
      field = static_cast<size_t>(c.index);
      field_names[field] = c.name;
    }
    out[field] = c;
    out[field].index = static_cast<int64_t>(field);
    listed[field] = true;
  }
  for (size_t i = 0; i < n_fields; ++i) {
    if (listed[i]) continue;
    out[i].name = field_names[i];
    out[i].index = static_cast<int64_t>(i);
    out[i].kind = default_kind;
    out[i].key = "schema.default";
  }
  return out;
}

// ---- JSON (for the model file) ----------------------------------------------------------------------------

nlohmann::json Schema::to_json() const {
  nlohmann::json j;
  j["separator"] = to_string(separator);
  j["header"] = header;
  j["comment"] = comment;
  j["missing"] = missing;
  j["default"] = to_string(default_kind);
  j["names"] = names;
  j["max_line_bytes"] = max_line_bytes;
  j["scaling"] = to_string(scaling);
  j["min_count"] = min_count;
  j["hash_buckets"] = hash_buckets;
  j["missing_flags"] = missing_flags;
  nlohmann::json cols = nlohmann::json::array();
  for (const auto& c : columns) {
    nlohmann::json o;
    o["name"] = c.name;
    o["index"] = c.index;
    o["kind"] = to_string(c.kind);
    if (c.kind == ColumnKind::label) {
      o["task"] = to_string(c.task);
      o["positive"] = c.positive;
      o["negative"] = c.negative;
      o["loss_weight"] = c.loss_weight;
    }
    if (c.kind == ColumnKind::categorical) {
      o["min_count"] = c.min_count;
      o["hash_buckets"] = c.hash_buckets;
    }
    cols.push_back(std::move(o));
  }
  j["columns"] = std::move(cols);
  return j;
}

Schema Schema::from_json(const nlohmann::json& j) {
  try {
    Schema s;
    s.separator = parse_separator(j.at("separator").get<std::string>(), "pipeline.schema.separator");
    s.header = j.at("header").get<bool>();
    s.comment = j.at("comment").get<std::string>();
    s.missing = j.at("missing").get<std::vector<std::string>>();
    s.default_kind = parse_column_kind(j.at("default").get<std::string>(), "pipeline.schema.default");
    s.names = j.at("names").get<std::vector<std::string>>();
    s.max_line_bytes = j.at("max_line_bytes").get<size_t>();
    s.scaling = parse_scaling(j.at("scaling").get<std::string>(), "pipeline.schema.scaling");
    s.min_count = j.at("min_count").get<int64_t>();
    s.hash_buckets = j.at("hash_buckets").get<int64_t>();
    s.missing_flags = j.at("missing_flags").get<bool>();
    for (const auto& o : j.at("columns")) {
      ColumnSpec c;
      c.name = o.at("name").get<std::string>();
      c.index = o.at("index").get<int64_t>();
      c.kind = parse_column_kind(o.at("kind").get<std::string>(), "pipeline.schema.columns");
      c.key = "schema.columns." + c.name;
      if (c.kind == ColumnKind::label) {
        c.task = parse_task_kind(o.at("task").get<std::string>());
        c.positive = o.at("positive").get<std::vector<std::string>>();
        c.negative = o.at("negative").get<std::vector<std::string>>();
        c.loss_weight = o.at("loss_weight").get<float>();
      }
      if (c.kind == ColumnKind::categorical) {
        c.min_count = o.at("min_count").get<int64_t>();
        c.hash_buckets = o.at("hash_buckets").get<int64_t>();
      }
      s.columns.push_back(std::move(c));
    }
    return s;
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::format, std::string("bad schema in feature pipeline: ") + e.what(), "pipeline.schema");
  }
}

// ---- [data] -----------------------------------------------------------------------------------------------

DataSetup parse_data_config(const std::string& text, const std::string& source) {
  toml::table root = parse_toml(text, source);
  DataSetup out;
  const toml::node* sn = root.get("schema");
  if (!sn) throw Error(ErrorKind::usage, "the config has no [schema] table", source, "see docs/data.md for the schema keys");
  const toml::table* st = sn->as_table();
  if (!st) key_error("schema", "'schema' must be a table", sn, source);
  out.schema = parse_schema(*st, "schema", source);
  if (const toml::node* dn = root.get("data")) {
    const toml::table* dt = dn->as_table();
    if (!dt) key_error("data", "'data' must be a table", dn, source);
    check_keys(*dt, "data", kDataKeys, source);
    Reader r{*dt, "data", source};
    r.get_string("train", out.data.train);
    r.get_string("valid", out.data.valid);
    r.get_string("test", out.data.test);
    r.get_double("split_test", out.data.split_test, 0.0, 1.0);
    int64_t seed = 1;
    if (r.get_int("split_seed", seed, 0, INT64_MAX)) out.data.split_seed = static_cast<uint64_t>(seed);
    std::string text2;
    if (r.get_string("on_bad_row", text2)) out.data.on_bad_row = parse_bad_row_policy(text2, "data.on_bad_row");
    r.get_int("max_bad_rows", out.data.max_bad_rows, -1, INT64_MAX);
    if (out.data.split_test > 0 && out.data.test.empty())
      key_error("data.split_test", "'data.split_test' splits the test file, but 'data.test' is not set", dt->get("split_test"), source);
    if (out.data.split_test > 0 && !out.data.valid.empty())
      key_error("data.split_test", "'data.split_test' and 'data.valid' both name a validation set; give one", dt->get("split_test"), source);
  }
  return out;
}

DataSetup load_data_config(const std::string& path) { return parse_data_config(read_text(path), path); }

void split_rows(size_t n, double fraction, uint64_t seed, std::vector<size_t>& first, std::vector<size_t>& second) {
  std::vector<size_t> perm(n);
  std::iota(perm.begin(), perm.end(), size_t{0});
  Rng rng(seed);
  rng.shuffle(std::span<size_t>(perm));
  size_t k = static_cast<size_t>(static_cast<double>(n) * fraction);
  if (k > n) k = n;
  first.assign(perm.begin(), perm.begin() + static_cast<std::ptrdiff_t>(k));
  second.assign(perm.begin() + static_cast<std::ptrdiff_t>(k), perm.end());
  std::sort(first.begin(), first.end());
  std::sort(second.begin(), second.end());
}

}  // namespace mmoe
