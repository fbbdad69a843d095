// Two RawTables compared field by field: rows, lines, record map, skipped rows and bad-row samples, and
// every column (name, kind, codes, dictionary, values bit for bit, NaN included).
#pragma once

#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "mmoe/features.h"

namespace mmoe::test {

inline void expect_same(const mmoe::RawTable& a, const mmoe::RawTable& b, const std::string& where) {
  SCOPED_TRACE(where);
  ASSERT_EQ(a.rows, b.rows);
  EXPECT_EQ(a.lines, b.lines);
  EXPECT_EQ(a.record_rows, b.record_rows);
  EXPECT_EQ(a.skipped_lines, b.skipped_lines);
  ASSERT_EQ(a.bad_rows.size(), b.bad_rows.size());
  for (size_t i = 0; i < a.bad_rows.size(); ++i) {
    EXPECT_EQ(a.bad_rows[i].line, b.bad_rows[i].line);
    EXPECT_EQ(a.bad_rows[i].where, b.bad_rows[i].where);
    EXPECT_EQ(a.bad_rows[i].message, b.bad_rows[i].message);
  }
  ASSERT_EQ(a.columns.size(), b.columns.size());
  for (size_t i = 0; i < a.columns.size(); ++i) {
    const mmoe::RawColumn &x = a.columns[i], &y = b.columns[i];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.kind, y.kind);
    EXPECT_EQ(x.codes, y.codes) << x.name;
    EXPECT_EQ(x.dictionary, y.dictionary) << x.name;
    ASSERT_EQ(x.values.size(), y.values.size()) << x.name;
    if (!x.values.empty()) {  // bit-identical, NaN (missing) included
      EXPECT_EQ(std::memcmp(x.values.data(), y.values.data(), x.values.size() * sizeof(float)), 0) << x.name;
    }
  }
}

}  // namespace mmoe::test
