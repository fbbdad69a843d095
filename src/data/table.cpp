// read_table: one pass over a CSV into typed columns.
//
// A record is first decoded into a staging row and committed only when every field is good, so a skipped
// row leaves no half-written values behind. Categorical strings are interned per column: each distinct value
// is stored once, and rows hold 4-byte codes, which is what keeps a census load near 35 MB.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <unordered_map>

#include "core/fork_join.h"
#include "data/open_file.h"
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

namespace {

// The rows one reader decodes: the whole file, or one of the byte ranges read_table splits a large plain file
// into. Its categorical codes index its own dictionaries, its row numbers start at 0; merge() renumbers both.
struct Part {
  std::vector<RawColumn> columns;
  size_t rows = 0;
  std::vector<int64_t> lines, record_rows, skipped_lines;
  std::vector<BadRow> bad_rows;  // the first `keep` skipped records, with reasons
  std::vector<InternMap> intern; // (columns) a categorical column's value -> its code in `dictionary`
  std::exception_ptr error;      // what stopped this part (on_bad_row = error, a read error, too many bad rows)
};

// The error of a read whose bad rows went over ReadOptions::max_bad_rows, naming the first one over it.
Error too_many_bad_rows(const ReadOptions& options, const std::string& message, const std::string& where) {
  return Error(ErrorKind::input,
               "more than " + std::to_string(options.max_bad_rows) + " bad rows (data.max_bad_rows); the last: " + message,
               where);
}

// Decodes every record of `reader` into `part`. A bad row throws (on_bad_row = error) or is recorded, keeping
// the reason of the first `keep`; `first` is the part that starts the file, the only one that applies
// max_bad_rows itself (a later part cannot know how many bad rows came before it: merge() applies it there).
// Stops early, without a result, once `stop` is set.
void read_part(CsvReader& reader, const std::vector<ColumnSpec>& specs, const Schema& schema, const ReadOptions& options,
               bool first, size_t keep, size_t reserve, const std::atomic<bool>& stop, Part& part) {
  const size_t n_fields = specs.size();
  part.columns.resize(n_fields);
  for (size_t i = 0; i < n_fields; ++i) part.columns[i].kind = specs[i].kind;
  // Reserve once (a little over the estimate): growing 40 vectors by doubling costs a copy and fresh page
  // faults each time, which was a fifth of the census load time.
  if (reserve < (size_t{1} << 31)) {
    for (size_t i = 0; i < n_fields; ++i) {
      if (specs[i].kind == ColumnKind::categorical) part.columns[i].codes.reserve(reserve);
      else if (specs[i].kind != ColumnKind::ignore) part.columns[i].values.reserve(reserve);
    }
    part.lines.reserve(reserve);
    part.record_rows.reserve(reserve);
  }
  std::vector<InternMap>& intern = part.intern;
  intern.resize(n_fields);
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
        RawColumn& c = part.columns[i];
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
    part.skipped_lines.push_back(reader.line());
    part.record_rows.push_back(-1);
    if (part.bad_rows.size() < keep) part.bad_rows.push_back({reader.line(), where, message});
    if (first && options.max_bad_rows >= 0 && static_cast<int64_t>(part.skipped_lines.size()) > options.max_bad_rows)
      throw too_many_bad_rows(options, message, where);
  };

  for (size_t n = 0;; ++n) {
    if ((n & 1023) == 0 && stop.load(std::memory_order_relaxed)) return;
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
      RawColumn& c = part.columns[i];
      if (c.kind == ColumnKind::categorical) c.codes.push_back(stage_c[i]);
      else c.values.push_back(stage_f[i]);
    }
    part.record_rows.push_back(static_cast<int64_t>(part.rows));
    part.lines.push_back(reader.line());
    ++part.rows;
  }
}

// Appends `from` (the part after the rows already in `table`) to the table: values and lines as they are,
// categorical codes renumbered into the table's dictionaries (values new to them appended in the order the
// part met them, which is the order a single reader would have met them in), row numbers shifted.
void merge(RawTable& table, std::vector<InternMap>& intern, Part& from) {
  for (size_t i = 0; i < table.columns.size(); ++i) {
    RawColumn& to = table.columns[i];
    RawColumn& c = from.columns[i];
    if (to.kind == ColumnKind::categorical) {
      std::vector<int32_t> code_of(c.dictionary.size());
      for (size_t j = 0; j < c.dictionary.size(); ++j) {
        auto [it, added] = intern[i].try_emplace(c.dictionary[j], static_cast<int32_t>(to.dictionary.size()));
        if (added) to.dictionary.push_back(c.dictionary[j]);
        code_of[j] = it->second;
      }
      to.codes.reserve(to.codes.size() + c.codes.size());
      for (int32_t code : c.codes) to.codes.push_back(code < 0 ? code : code_of[static_cast<size_t>(code)]);
    } else if (to.kind != ColumnKind::ignore) {
      to.values.insert(to.values.end(), c.values.begin(), c.values.end());
    }
    c = RawColumn{};  // free the part's copy
  }
  const auto shift = static_cast<int64_t>(table.rows);
  for (int64_t r : from.record_rows) table.record_rows.push_back(r < 0 ? r : r + shift);
  table.lines.insert(table.lines.end(), from.lines.begin(), from.lines.end());
  table.skipped_lines.insert(table.skipped_lines.end(), from.skipped_lines.begin(), from.skipped_lines.end());
  table.rows += from.rows;
}

// Where a part after the first may start: the first line start at or after `offset`, or the file's end.
uint64_t line_start_after(std::FILE* f, uint64_t offset, uint64_t size) {
  if (std::fseek(f, static_cast<long>(offset), SEEK_SET) != 0) return size;
  char buf[4096];
  for (uint64_t at = offset; at < size;) {
    const size_t got = std::fread(buf, 1, sizeof buf, f);
    if (got == 0) return size;
    if (const void* nl = std::memchr(buf, '\n', got)) return at + static_cast<uint64_t>(static_cast<const char*>(nl) - buf) + 1;
    at += got;
  }
  return size;
}

// Physical lines ('\n') in bytes [0, end) of the file: the line number a part starting at `end` begins with.
int64_t lines_before(const std::string& path, uint64_t end) {
  std::FILE* f = detail::open_data_file(path);
  std::vector<char> buf(size_t{1} << 20);
  int64_t n = 0;
  for (uint64_t at = 0; at < end;) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), end - at));
    const size_t got = std::fread(buf.data(), 1, want, f);
    if (got == 0) break;
    n += std::count(buf.data(), buf.data() + got, '\n');
    at += got;
  }
  std::fclose(f);
  return n;
}

}  // namespace

RawTable read_table(const std::string& path, const Schema& schema, const ReadOptions& options) {
  const CsvOptions csv = schema.csv_options();
  CsvReader reader(path, csv);
  if (reader.n_fields() == 0) throw reader.error();  // a headerless file whose first record is bad: no shape
  const std::vector<ColumnSpec> specs = schema.bind(reader.header(), reader.n_fields(), path, options.labels_optional);
  const size_t n_fields = specs.size();

  // A large plain file is read in byte ranges of whole lines, one thread each; the parts are joined in file
  // order, so the table is the one a single reader makes (the same rows, codes, lines and errors).
  std::vector<uint64_t> cuts{0};
  const uint64_t size = reader.file_bytes();
  const size_t planned = reader.gzip() || options.parallel_min_bytes == 0
                             ? 1
                             : static_cast<size_t>(std::clamp<uint64_t>(size / options.parallel_min_bytes, 1,
                                                                        static_cast<uint64_t>(std::max(options.threads, 1))));
  if (planned > 1) {
    std::FILE* f = detail::open_data_file(path);
    for (size_t k = 1; k < planned; ++k) {
      const uint64_t cut = line_start_after(f, size * k / planned, size);
      if (cut > cuts.back() && cut < size) cuts.push_back(cut);
    }
    std::fclose(f);
    // The first reader has read its first chunk already: cuts inside it are dropped.
    while (cuts.size() > 1 && !reader.stop_at(cuts[1])) cuts.erase(cuts.begin() + 1);
  }
  cuts.push_back(size);
  const size_t n_parts = cuts.size() - 1;

  const size_t estimate = reader.estimated_records();
  const size_t reserve = (estimate + estimate / 4) / n_parts + 16;
  // A later part keeps the reasons of enough bad rows to name the one over max_bad_rows.
  const size_t keep = std::max<size_t>(options.bad_row_samples,
                                       options.max_bad_rows >= 0 ? static_cast<size_t>(options.max_bad_rows) + 1 : 0);
  std::vector<Part> parts(n_parts);
  std::atomic<bool> stop{false};
  auto run = [&](size_t k) {
    try {
      if (k == 0) {
        read_part(reader, specs, schema, options, true, options.bad_row_samples, reserve, stop, parts[0]);
      } else {
        const CsvRange range{cuts[k], cuts[k + 1], 1 + lines_before(path, cuts[k]), reader.n_fields()};
        CsvReader part_reader(path, csv, range);
        read_part(part_reader, specs, schema, options, false, keep, reserve, stop, parts[k]);
      }
    } catch (...) {
      parts[k].error = std::current_exception();
      if (k == 0) stop.store(true, std::memory_order_relaxed);  // its error comes first in the file
    }
  };
  detail::fork_join(n_parts, run);  // run keeps every part's error for the join below

  RawTable table;
  table.path = path;
  table.parts = n_parts;
  table.columns.resize(n_fields);
  for (size_t i = 0; i < n_fields; ++i) {
    RawColumn& c = table.columns[i];
    c.name = specs[i].name;
    c.kind = specs[i].kind;
    c.field = static_cast<int64_t>(i);
    c.task = specs[i].task;
  }
  std::vector<InternMap> intern;  // the table's dictionaries: the first part's, grown by merge()
  for (size_t k = 0; k < n_parts; ++k) {
    Part& part = parts[k];
    // The bad row over max_bad_rows may lie in a later part (which does not apply the limit itself); it comes
    // before whatever stopped that part. The first part applies it as it reads.
    const size_t before = table.skipped_lines.size();
    if (k > 0 && options.max_bad_rows >= 0 &&
        static_cast<int64_t>(before + part.skipped_lines.size()) > options.max_bad_rows) {
      const BadRow& last = part.bad_rows[static_cast<size_t>(options.max_bad_rows) - before];
      throw too_many_bad_rows(options, last.message, last.where);
    }
    if (part.error) std::rethrow_exception(part.error);  // the first error in file order
    for (BadRow& b : part.bad_rows)
      if (table.bad_rows.size() < options.bad_row_samples) table.bad_rows.push_back(std::move(b));
    if (k == 0) {  // the first part's columns become the table's
      for (size_t i = 0; i < n_fields; ++i) {
        RawColumn& c = table.columns[i];
        c.values = std::move(part.columns[i].values);
        c.codes = std::move(part.columns[i].codes);
        c.dictionary = std::move(part.columns[i].dictionary);
      }
      intern = std::move(part.intern);
      table.rows = part.rows;
      table.lines = std::move(part.lines);
      table.record_rows = std::move(part.record_rows);
      table.skipped_lines = std::move(part.skipped_lines);
    } else {
      merge(table, intern, part);
    }
    part = Part{};
  }
  if (table.rows == 0)
    throw Error(ErrorKind::input, "no usable data rows (all " + std::to_string(table.skipped_lines.size()) + " rows were bad)", path,
                table.bad_rows.empty() ? "" : "first bad row: " + table.bad_rows[0].where + ": " + table.bad_rows[0].message);
  return table;
}

std::vector<RawTable> read_tables(const std::vector<std::string>& paths, const Schema& schema, const ReadOptions& options) {
  std::vector<RawTable> tables(paths.size());
  if (options.threads <= 1) {
    for (size_t k = 0; k < paths.size(); ++k) tables[k] = read_table(paths[k], schema, options);
    return tables;
  }
  // fork_join rethrows the lowest index's error: the first failing file in order.
  detail::fork_join(paths.size(), [&](size_t k) { tables[k] = read_table(paths[k], schema, options); });
  return tables;
}

}  // namespace mmoe
