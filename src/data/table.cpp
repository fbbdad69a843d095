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
#include <deque>
#include <exception>
#include <limits>
#include <unordered_map>

#include "core/fork_join.h"
#include "core/stream_work.h"
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
// into, or a block of a gzip file. Its categorical codes index its own dictionaries, its row numbers start at
// 0; join_column and join_rows renumber both.
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

constexpr size_t kNoPart = ~size_t{0};

// Lowers `first_failed` to part k: a part after it cannot change the result (its error would come later).
void mark_failed(std::atomic<size_t>& first_failed, size_t k) {
  size_t now = first_failed.load();
  while (k < now && !first_failed.compare_exchange_weak(now, k)) {
  }
}

// Runs fn, the reading of part k; what stops it stays in the part, and stops the parts after it.
template <typename Fn>
void guarded(size_t k, Part& part, std::atomic<size_t>& first_failed, Fn&& fn) {
  try {
    fn();
  } catch (...) {
    part.error = std::current_exception();
    mark_failed(first_failed, k);
  }
}

// Decodes every record of `reader` into `part`, part k of the file. A bad row throws (on_bad_row = error) or
// is recorded, keeping the reason of the first `keep`; the first part (k = 0) is the only one that applies
// max_bad_rows itself (a later part cannot know how many bad rows came before it: read_table applies it there).
// Stops early, without a result, once a part before it has failed.
void read_part(CsvReader& reader, const std::vector<ColumnSpec>& specs, const Schema& schema, const ReadOptions& options,
               size_t k, size_t keep, size_t reserve, const std::atomic<size_t>& first_failed, Part& part) {
  const bool first = k == 0;
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
    if ((n & 1023) == 0 && first_failed.load(std::memory_order_relaxed) < k) return;
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

// Column i of every part, joined in file order into `to`: values as they are, categorical codes renumbered
// into the first part's dictionary (values new to it appended in the order the later parts met them, which is
// the order a single reader would have met them in). Frees the parts' copies as it goes.
void join_column(RawColumn& to, std::deque<Part>& parts, size_t i, size_t total_rows) {
  RawColumn& head = parts[0].columns[i];
  to.values = std::move(head.values);
  to.codes = std::move(head.codes);
  to.dictionary = std::move(head.dictionary);
  if (parts.size() == 1) return;
  if (to.kind == ColumnKind::categorical) {
    InternMap intern = std::move(parts[0].intern[i]);
    to.codes.reserve(total_rows);
    for (size_t k = 1; k < parts.size(); ++k) {
      RawColumn& c = parts[k].columns[i];
      std::vector<int32_t> code_of(c.dictionary.size());
      for (size_t j = 0; j < c.dictionary.size(); ++j) {
        auto [it, added] = intern.try_emplace(c.dictionary[j], static_cast<int32_t>(to.dictionary.size()));
        if (added) to.dictionary.push_back(c.dictionary[j]);
        code_of[j] = it->second;
      }
      for (int32_t code : c.codes) to.codes.push_back(code < 0 ? code : code_of[static_cast<size_t>(code)]);
      c = RawColumn{};
      parts[k].intern[i] = InternMap{};
    }
  } else if (to.kind != ColumnKind::ignore) {
    to.values.reserve(total_rows);
    for (size_t k = 1; k < parts.size(); ++k) {
      RawColumn& c = parts[k].columns[i];
      to.values.insert(to.values.end(), c.values.begin(), c.values.end());
      c = RawColumn{};
    }
  }
}

// Every part's row bookkeeping, joined in file order: lines as they are, row numbers shifted. total_rows and
// total_records: the parts' sums.
void join_rows(RawTable& table, std::deque<Part>& parts, size_t total_rows, size_t total_records) {
  table.lines = std::move(parts[0].lines);
  table.record_rows = std::move(parts[0].record_rows);
  table.skipped_lines = std::move(parts[0].skipped_lines);
  table.rows = parts[0].rows;
  table.lines.reserve(total_rows);
  table.record_rows.reserve(total_records);
  for (size_t k = 1; k < parts.size(); ++k) {
    const Part& from = parts[k];
    const auto shift = static_cast<int64_t>(table.rows);
    for (int64_t r : from.record_rows) table.record_rows.push_back(r < 0 ? r : r + shift);
    table.lines.insert(table.lines.end(), from.lines.begin(), from.lines.end());
    table.skipped_lines.insert(table.skipped_lines.end(), from.skipped_lines.begin(), from.skipped_lines.end());
    table.rows += from.rows;
  }
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

// Reading in parts. The parts of the file in order, each decoded by read_part (on the thread that reads it),
// joined by read_table.
struct PartsRead {
  PartsRead(const std::string& path_, const CsvOptions& csv_, const std::vector<ColumnSpec>& specs_, const Schema& schema_,
            const ReadOptions& options_, size_t keep_)
      : path(path_), csv(csv_), specs(specs_), schema(schema_), options(options_), keep(keep_) {}
  const std::string& path;
  const CsvOptions& csv;
  const std::vector<ColumnSpec>& specs;
  const Schema& schema;
  const ReadOptions& options;
  size_t keep;  // bad-row reasons a later part keeps: enough to name the one over max_bad_rows
  std::deque<Part> parts;
  std::atomic<size_t> first_failed{kNoPart};
};

// A plain file: the first reader reads up to the first cut, and each later byte range of whole lines has a
// reader of its own, on a thread each. A file smaller than two ranges is one part.
void read_ranges(CsvReader& reader, PartsRead& r) {
  const ReadOptions& options = r.options;
  std::vector<uint64_t> cuts{0};
  const uint64_t size = reader.file_bytes();
  const size_t planned = reader.gzip() || options.parallel_min_bytes == 0
                             ? 1
                             : static_cast<size_t>(std::clamp<uint64_t>(size / options.parallel_min_bytes, 1,
                                                                        static_cast<uint64_t>(std::max(options.threads, 1))));
  if (planned > 1) {
    std::FILE* f = detail::open_data_file(r.path);
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
  r.parts.resize(n_parts);
  detail::fork_join(r.parts.size(), [&](size_t k) {
    guarded(k, r.parts[k], r.first_failed, [&] {
      if (k == 0) {
        read_part(reader, r.specs, r.schema, options, 0, options.bad_row_samples, reserve, r.first_failed, r.parts[0]);
        return;
      }
      const CsvRange range{cuts[k], cuts[k + 1], 1 + lines_before(r.path, cuts[k]), reader.n_fields()};
      CsvReader part_reader(r.path, r.csv, range);
      read_part(part_reader, r.specs, r.schema, options, k, r.keep, reserve, r.first_failed, r.parts[k]);
    });
  });
}

// A gzip file: inflating is serial, so the calling thread inflates it in blocks of whole lines
// (gzip_block_bytes: 1 MiB parsed in 122 ms the census test file that one reader read in 195 ms, 4 MiB in
// 132-153, 256 KiB in 160-165) and every thread parses them as they come, the inflating one too when blocks
// wait (stream_work). Part 0 is the first reader's first record; block j is part j + 1. A broken stream
// is the error of the part after the whole lines before it.
void read_blocks(CsvReader& reader, PartsRead& r) {
  const ReadOptions& options = r.options;
  const size_t block_bytes = static_cast<size_t>(std::max<uint64_t>(options.gzip_block_bytes, 1));
  const uint64_t content = reader.content_bytes();
  const size_t estimate = reader.estimated_records();
  const size_t reserve = content ? static_cast<size_t>(static_cast<double>(estimate) * block_bytes / content * 1.25) + 16 : 16;
  CsvBlocks rest = reader.take_rest(block_bytes);
  Part& first = r.parts.emplace_back();
  guarded(0, first, r.first_failed, [&] {
    read_part(reader, r.specs, r.schema, options, 0, options.bad_row_samples, 16, r.first_failed, first);
  });
  struct Item {
    CsvBlock block;
    size_t k = 0;
    Part* part = nullptr;
  };
  // Only this thread grows r.parts (a deque: the parts being parsed elsewhere stay where they are).
  auto make = [&](Item& item) {
    if (r.first_failed.load() != kNoPart) return false;
    Part& part = r.parts.emplace_back();
    const size_t k = r.parts.size() - 1;
    bool more = false;
    guarded(k, part, r.first_failed, [&] { more = rest.next(item.block); });
    if (!more && !part.error) r.parts.pop_back();
    item.k = k;
    item.part = &part;
    return more;
  };
  auto parse = [&](size_t, Item&& item) {
    if (r.first_failed.load() < item.k) return;  // a part before it failed: it cannot matter
    guarded(item.k, *item.part, r.first_failed, [&] {
      CsvReader block_reader(r.path, r.csv, std::move(item.block), reader.n_fields());
      read_part(block_reader, r.specs, r.schema, options, item.k, r.keep, reserve, r.first_failed, *item.part);
    });
  };
  detail::stream_work<Item>(static_cast<size_t>(options.threads), 1, make, parse);
}

}  // namespace

RawTable read_table(const std::string& path, const Schema& schema, const ReadOptions& options) {
  const CsvOptions csv = schema.csv_options();
  CsvReader reader(path, csv);
  if (reader.n_fields() == 0) throw reader.error();  // a headerless file whose first record is bad: no shape
  const std::vector<ColumnSpec> specs = schema.bind(reader.header(), reader.n_fields(), path, options.labels_optional);
  const size_t n_fields = specs.size();

  // A large file is read in parts of whole lines on several threads, joined in file order, so the table is
  // the one a single reader makes (the same rows, codes, lines and errors).
  const size_t keep = std::max<size_t>(options.bad_row_samples,
                                       options.max_bad_rows >= 0 ? static_cast<size_t>(options.max_bad_rows) + 1 : 0);
  PartsRead r(path, csv, specs, schema, options, keep);
  if (reader.gzip() && options.threads > 1 && options.parallel_min_bytes > 0 &&
      reader.content_bytes() >= 2 * options.parallel_min_bytes)
    read_blocks(reader, r);
  else
    read_ranges(reader, r);
  std::deque<Part>& parts = r.parts;

  // Errors and bad rows first, in file order. The bad row over max_bad_rows may lie in a later part (which
  // does not apply the limit itself); it comes before whatever stopped that part. The first part applies it
  // as it reads.
  RawTable table;
  size_t skipped = 0, total_rows = 0, total_records = 0;
  for (size_t k = 0; k < parts.size(); ++k) {
    Part& part = parts[k];
    if (k > 0 && options.max_bad_rows >= 0 &&
        static_cast<int64_t>(skipped + part.skipped_lines.size()) > options.max_bad_rows) {
      const BadRow& last = part.bad_rows[static_cast<size_t>(options.max_bad_rows) - skipped];
      throw too_many_bad_rows(options, last.message, last.where);
    }
    if (part.error) std::rethrow_exception(part.error);  // the first error in file order
    for (BadRow& b : part.bad_rows)
      if (table.bad_rows.size() < options.bad_row_samples) table.bad_rows.push_back(std::move(b));
    skipped += part.skipped_lines.size();
    total_rows += part.rows;
    total_records += part.record_rows.size();
  }

  // Then the columns, and the row bookkeeping as one more: each is joined on its own, on the threads in turn
  // (joining 100 parts of the census training file took 43 ms on one).
  table.path = path;
  table.parts = parts.size();
  table.columns.resize(n_fields);
  for (size_t i = 0; i < n_fields; ++i) {
    RawColumn& c = table.columns[i];
    c.name = specs[i].name;
    c.kind = specs[i].kind;
    c.field = static_cast<int64_t>(i);
    c.task = specs[i].task;
  }
  const size_t join_threads = parts.size() > 1 ? static_cast<size_t>(std::clamp(options.threads, 1, 64)) : 1;
  detail::fork_join(join_threads, [&](size_t t) {
    for (size_t i = t; i <= n_fields; i += join_threads) {
      if (i == n_fields) join_rows(table, parts, total_rows, total_records);
      else join_column(table.columns[i], parts, i, total_rows);
    }
  });
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
