// read_table over a plain file in byte ranges, one thread each (ReadOptions::threads, parallel_min_bytes):
// the table, the skipped rows and every error must be exactly one reader's, wherever the cuts fall. Files of
// about a megabyte with a small parallel_min_bytes are cut in up to 4 parts, with categorical values first met in a later
// part, blank and comment lines, CRLF line ends, bad rows on both sides of a cut, max_bad_rows crossed in a
// later part, and the error policy with bad rows in one or several parts.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include <gtest/gtest.h>

#include "mmoe/features.h"
#include "error_capture.h"
#include "unit/features/raw_table_compare.h"

namespace {

namespace fs = std::filesystem;

std::string write_file(const std::string& name, const std::string& text) {
  fs::path dir = fs::temp_directory_path() / ("mmoe_parts_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string path = (dir / name).string();
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

const char* kSchema = R"(
[schema]
missing = ["", "NA"]
comment = "#"
[schema.columns]
c = "categorical"
y = { kind = "label", positive = ["yes"], negative = ["no"] }
r = { kind = "label", task = "regression" }
)";

constexpr int kRows = 80000;  // 1.8 MB: the first reader reads its first 256 KB at once, so cuts lie beyond

// kRows rows: x counts up (missing every 17th), c cycles through values that keep appearing for the first
// time late in the file, with blank lines, comments and CRLF ends mixed in; `bad` rows (by index) get a
// value that does not parse.
std::string make_csv(const std::vector<int>& bad) {
  std::string text = "x,c,y,r\n";
  for (int i = 0; i < kRows; ++i) {
    if (i % 41 == 7) text += "\n";
    if (i % 53 == 11) text += "# a comment line\n";
    const bool is_bad = std::find(bad.begin(), bad.end(), i) != bad.end();
    text += (i % 17 == 3 ? std::string("NA") : std::to_string(i * 0.25)) + (is_bad ? "x" : "") + ",v" +
            std::to_string(int64_t{i} * i % (7 + i / 20)) + "," + (i % 3 ? "yes" : "no") + "," + std::to_string(i % 5) +
            (i % 29 == 5 ? "\r\n" : "\n");
  }
  return text;
}

mmoe::ReadOptions opts(int threads, mmoe::BadRowPolicy policy = mmoe::BadRowPolicy::skip, int64_t max_bad = -1) {
  mmoe::ReadOptions o;
  o.threads = threads;
  o.parallel_min_bytes = 400 << 10;  // up to 4 parts
  o.on_bad_row = policy;
  o.max_bad_rows = max_bad;
  o.bad_row_samples = 3;
  return o;
}

using mmoe::test::expect_same;

mmoe::Error error_of(const std::string& path, const mmoe::Schema& s, const mmoe::ReadOptions& o) {
  return mmoe::test::catch_error([&] { mmoe::read_table(path, s, o); });
}

TEST(ReadTableParts, EveryCutGivesOneReadersTable) {
  const mmoe::Schema s = mmoe::Schema::from_toml(kSchema);
  const std::string p = write_file("clean.csv", make_csv({}));
  const mmoe::RawTable one = mmoe::read_table(p, s, opts(1));
  ASSERT_EQ(one.rows, static_cast<size_t>(kRows));
  ASSERT_EQ(one.parts, 1u);
  ASSERT_GT(one.find("c")->dictionary.size(), 1000u);
  for (int threads : {2, 3, 64}) {
    const mmoe::RawTable many = mmoe::read_table(p, s, opts(threads));
    EXPECT_EQ(many.parts, std::min<size_t>(static_cast<size_t>(threads), 4));
    expect_same(one, many, std::to_string(threads) + " threads");
  }
}

TEST(ReadTableParts, SkippedRowsOnBothSidesOfTheCuts) {
  const mmoe::Schema s = mmoe::Schema::from_toml(kSchema);
  const std::string p = write_file("bad.csv", make_csv({0, 2, 30000, 30001, 60000, 79999}));
  const mmoe::RawTable one = mmoe::read_table(p, s, opts(1));
  ASSERT_EQ(one.n_bad_rows(), 6u);
  ASSERT_EQ(one.bad_rows.size(), 3u);
  for (int threads : {2, 4}) {
    const mmoe::RawTable many = mmoe::read_table(p, s, opts(threads));
    EXPECT_EQ(many.parts, static_cast<size_t>(threads));
    expect_same(one, many, std::to_string(threads) + " threads");
  }
}

TEST(ReadTableParts, MaxBadRowsCrossedInALaterPart) {
  const mmoe::Schema s = mmoe::Schema::from_toml(kSchema);
  const std::string p = write_file("many_bad.csv", make_csv({1, 20000, 36000, 36001, 70000}));
  for (int64_t max_bad : {0, 2, 3, 4}) {
    const mmoe::Error want = error_of(p, s, opts(1, mmoe::BadRowPolicy::skip, max_bad));
    ASSERT_NE(want.message().find("bad rows (data.max_bad_rows)"), std::string::npos) << want.what();
    for (int threads : {2, 4, 64}) {
      const mmoe::Error got = error_of(p, s, opts(threads, mmoe::BadRowPolicy::skip, max_bad));
      EXPECT_EQ(got.message(), want.message()) << threads << " threads, max " << max_bad;
      EXPECT_EQ(got.where(), want.where()) << threads << " threads, max " << max_bad;
    }
  }
  // At the limit nothing throws, and the table is one reader's.
  expect_same(mmoe::read_table(p, s, opts(1, mmoe::BadRowPolicy::skip, 5)),
              mmoe::read_table(p, s, opts(4, mmoe::BadRowPolicy::skip, 5)), "max 5");
}

TEST(ReadTableParts, TheFirstBadRowInTheFileStopsTheRead) {
  const mmoe::Schema s = mmoe::Schema::from_toml(kSchema);
  for (const std::vector<int>& bad : std::vector<std::vector<int>>{{76000}, {24000, 76100}, {3, 40000}, {19500, 20500}}) {
    const std::string p = write_file("stop.csv", make_csv(bad));
    const mmoe::Error want = error_of(p, s, opts(1, mmoe::BadRowPolicy::error));
    EXPECT_NE(want.message().find("expected a finite number"), std::string::npos) << want.what();
    for (int threads : {2, 4, 64}) {
      const mmoe::Error got = error_of(p, s, opts(threads, mmoe::BadRowPolicy::error));
      EXPECT_EQ(got.message(), want.message()) << threads << " threads";
      EXPECT_EQ(got.where(), want.where()) << threads << " threads";
    }
  }
}

TEST(ReadTableParts, AHeaderlessFileAndATinyOne) {
  mmoe::Schema s = mmoe::Schema::from_toml(R"(
[schema]
header = false
names = ["x", "c", "r"]
[schema.columns]
x = "dense"
c = "categorical"
r = { kind = "label", task = "regression" }
)");
  std::string text;
  for (int i = 0; i < 150000; ++i) text += std::to_string(i) + ",k" + std::to_string(i % 13 * (i / 50)) + "," + std::to_string(i % 7) + "\n";
  const std::string p = write_file("headerless.csv", text);
  const mmoe::RawTable many = mmoe::read_table(p, s, opts(8));
  EXPECT_GT(many.parts, 1u);
  expect_same(mmoe::read_table(p, s, opts(1)), many, "headerless");
  // Fewer bytes than one part: read by one reader.
  const std::string small = write_file("small.csv", "0,a,1\n1,b,2\n");
  const mmoe::RawTable tiny = mmoe::read_table(small, s, opts(8));
  EXPECT_EQ(tiny.parts, 1u);
  expect_same(mmoe::read_table(small, s, opts(1)), tiny, "small");
}

}  // namespace
