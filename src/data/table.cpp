// read_table: one pass over a CSV into typed columns.
//
// A record is first decoded into a staging row and committed only when every field is good, so a skipped
// row leaves no half-written values behind. Categorical strings are interned per column: each distinct value
// is stored once, and rows hold 4-byte codes, which is what keeps a census load near 35 MB.
#include <cmath>
#include <limits>
#include <unordered_map>

#include "mmoe/features.h"

namespace mmoe {

namespace {

struct SvHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return static_cast<size_t>(fnv1a64(s)); }
};

using InternMap = std::unordered_map<std::string, int32_t, SvHash, std::equal_to<>>;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

bool contains(const std::vector<std::string>& list, std::string_view v) {
  for (const auto& s : list)
    if (v == s) return true;
  return false;
}

std::string list_for_message(const std::vector<std::string>& list) {
  std::string out;
  for (size_t i = 0; i < list.size() && i < 4; ++i) out += (i ? ", " : "") + quote_for_message(list[i]);
  if (list.size() > 4) out += ", ...";
  return out;
}

}  // namespace

uint64_t fnv1a64(std::string_view text) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

const RawColumn* RawTable::find(std::string_view name) const {
  for (const auto& c : columns)
    if (c.name == name) return &c;
  return nullptr;
}

RawTable read_table(const std::string& path, const Schema& schema, const ReadOptions& options) {
  CsvReader reader(path, schema.csv_options());
  if (reader.n_fields() == 0) throw reader.error();  // a headerless file whose first record is bad: no shape
  const std::vector<ColumnSpec> specs = schema.bind(reader.header(), reader.n_fields(), path, options.labels_optional);
  const size_t n_fields = specs.size();

  RawTable table;
  table.path = path;
  table.columns.resize(n_fields);
  for (size_t i = 0; i < n_fields; ++i) {
    RawColumn& c = table.columns[i];
    c.name = specs[i].name;
    c.kind = specs[i].kind;
    c.field = static_cast<int64_t>(i);
    c.task = specs[i].task;
  }
  // Reserve once (a little over the estimate): growing 40 vectors by doubling costs a copy and fresh page
  // faults each time, which was a fifth of the census load time.
  const size_t reserve = reader.estimated_records() + reader.estimated_records() / 4 + 16;
  if (reserve < (size_t{1} << 31)) {
    for (size_t i = 0; i < n_fields; ++i) {
      if (specs[i].kind == ColumnKind::categorical) table.columns[i].codes.reserve(reserve);
      else if (specs[i].kind != ColumnKind::ignore) table.columns[i].values.reserve(reserve);
    }
    table.lines.reserve(reserve);
    table.record_rows.reserve(reserve);
  }
  std::vector<InternMap> intern(n_fields);
  std::vector<int32_t> last_code(n_fields, -1);  // most recent code per column: runs of equal values are common
  std::vector<float> stage_f(n_fields);          // (n_fields) decoded row, committed only when all fields are good
  std::vector<int32_t> stage_c(n_fields);

  // The fields to decode, so ignored columns cost nothing per row.
  std::vector<size_t> active;
  for (size_t i = 0; i < n_fields; ++i)
    if (specs[i].kind != ColumnKind::ignore) active.push_back(i);

  std::string bad_msg;
  int64_t bad_col = 0;
  auto decode = [&](size_t i) -> bool {
    const ColumnSpec& s = specs[i];
    std::string_view v = reader.field(i);
    switch (s.kind) {
      case ColumnKind::dense:
      case ColumnKind::weight: {
        if (schema.is_missing(v)) {
          if (s.kind == ColumnKind::weight) {
            bad_msg = "missing sample weight in column '" + s.name + "'";
            return false;
          }
          stage_f[i] = kNaN;
          return true;
        }
        float x;
        if (!parse_float(v, x)) {
          bad_msg = "expected a finite number in " + std::string(to_string(s.kind)) + " column '" + s.name + "', got " +
                    quote_for_message(v);
          return false;
        }
        if (s.kind == ColumnKind::weight && x < 0) {
          bad_msg = "sample weight must be >= 0 in column '" + s.name + "', got " + quote_for_message(v);
          return false;
        }
        stage_f[i] = x;
        return true;
      }
      case ColumnKind::categorical: {
        if (schema.is_missing(v)) {
          stage_c[i] = -1;
          return true;
        }
        RawColumn& c = table.columns[i];
        int32_t lc = last_code[i];
        if (lc >= 0 && c.dictionary[static_cast<size_t>(lc)] == v) {
          stage_c[i] = lc;
          return true;
        }
        auto it = intern[i].find(v);
        int32_t code;
        if (it != intern[i].end()) {
          code = it->second;
        } else {
          code = static_cast<int32_t>(c.dictionary.size());
          c.dictionary.emplace_back(v);
          intern[i].emplace(std::string(v), code);
        }
        last_code[i] = code;
        stage_c[i] = code;
        return true;
      }
      case ColumnKind::label: {
        if (schema.is_missing(v)) {
          stage_f[i] = kNaN;
          return true;
        }
        if (s.task == TaskKind::binary && !s.positive.empty()) {
          if (contains(s.positive, v)) {
            stage_f[i] = 1.0f;
          } else if (s.negative.empty() || contains(s.negative, v)) {
            stage_f[i] = 0.0f;
          } else {
            bad_msg = "label '" + s.name + "' value " + quote_for_message(v) + " is neither positive (" +
                      list_for_message(s.positive) + ") nor negative (" + list_for_message(s.negative) + ")";
            return false;
          }
          return true;
        }
        float x;
        if (!parse_float(v, x)) {
          bad_msg = "expected a finite number for label '" + s.name + "', got " + quote_for_message(v);
          return false;
        }
        if (s.task == TaskKind::binary && x != 0.0f && x != 1.0f) {
          bad_msg = "binary label '" + s.name + "' must be 0 or 1, got " + quote_for_message(v) +
                    " (or give positive = [...] values in the schema)";
          return false;
        }
        stage_f[i] = x;
        return true;
      }
      case ColumnKind::ignore: return true;
    }
    return true;
  };

  auto on_bad = [&](const std::string& message, const std::string& where) {
    if (options.on_bad_row == BadRowPolicy::error) throw Error(ErrorKind::input, message, where);
    table.skipped_lines.push_back(reader.line());
    table.record_rows.push_back(-1);
    if (table.bad_rows.size() < options.bad_row_samples) table.bad_rows.push_back({reader.line(), where, message});
    if (options.max_bad_rows >= 0 && static_cast<int64_t>(table.skipped_lines.size()) > options.max_bad_rows)
      throw Error(ErrorKind::input,
                  "more than " + std::to_string(options.max_bad_rows) + " bad rows (data.max_bad_rows); the last: " + message,
                  where);
  };

  for (;;) {
    CsvStatus st = reader.next();
    if (st == CsvStatus::end) break;
    if (st == CsvStatus::bad) {
      on_bad(reader.bad_message(), reader.error().where());
      continue;
    }
    bool ok = true;
    for (size_t i : active) {
      if (!decode(i)) {
        bad_col = static_cast<int64_t>(i);
        ok = false;
        break;
      }
    }
    if (!ok) {
      on_bad(bad_msg, reader.where(static_cast<size_t>(bad_col)));
      continue;
    }
    for (size_t i : active) {
      RawColumn& c = table.columns[i];
      if (c.kind == ColumnKind::categorical) c.codes.push_back(stage_c[i]);
      else c.values.push_back(stage_f[i]);
    }
    table.record_rows.push_back(static_cast<int64_t>(table.rows));
    table.lines.push_back(reader.line());
    ++table.rows;
  }
  if (table.rows == 0)
    throw Error(ErrorKind::input, "no usable data rows (all " + std::to_string(table.skipped_lines.size()) + " rows were bad)", path,
                table.bad_rows.empty() ? "" : "first bad row: " + table.bad_rows[0].where + ": " + table.bad_rows[0].message);
  return table;
}

}  // namespace mmoe
