#include "mmoe/error.h"
#include "mmoe/features.h"

namespace mmoe {

RawTable select_rows(const RawTable& table, const std::vector<size_t>& rows) {
  RawTable out;
  out.path = table.path;
  out.rows = rows.size();
  out.columns.reserve(table.columns.size());
  for (const RawColumn& col : table.columns) {
    RawColumn c;
    c.name = col.name;
    c.kind = col.kind;
    c.field = col.field;
    c.task = col.task;
    c.dictionary = col.dictionary;
    if (!col.values.empty()) {
      c.values.resize(rows.size());
      for (size_t i = 0; i < rows.size(); ++i) c.values[i] = col.values[rows[i]];
    }
    if (!col.codes.empty()) {
      c.codes.resize(rows.size());
      for (size_t i = 0; i < rows.size(); ++i) c.codes[i] = col.codes[rows[i]];
    }
    out.columns.push_back(std::move(c));
  }
  out.lines.resize(rows.size());
  out.record_rows.resize(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    MMOE_CHECK(rows[i] < table.rows, "row out of range");
    out.lines[i] = table.lines[rows[i]];
    out.record_rows[i] = static_cast<int64_t>(i);
  }
  return out;
}

}  // namespace mmoe
