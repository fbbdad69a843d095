// read_table in parts on several threads (ReadOptions::threads, parallel_min_bytes): a plain file in byte
// ranges, a gzip file inflated on one thread in blocks of whole lines that every thread parses. The table,
// the skipped rows and every error must be exactly one reader's, wherever the cuts fall. Files of about a
// megabyte with a small parallel_min_bytes are cut in up to 4 ranges (plain) or about 7 blocks (gzip), with
// categorical values first met in a later part, blank and comment lines, CRLF line ends, bad rows on both
// sides of a cut, max_bad_rows crossed in a later part, the error policy with bad rows in one or several
// parts; for gzip also a broken stream after bad rows and an over-long line across blocks.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <unistd.h>

#include <gtest/gtest.h>
#include <zlib.h>

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

std::string write_gzip(const std::string& name, const std::string& text) {
  const std::string path = write_file(name, "");
  gzFile gz = gzopen(path.c_str(), "wb");
  EXPECT_NE(gz, nullptr);
  EXPECT_EQ(gzwrite(gz, text.data(), static_cast<unsigned>(text.size())), static_cast<int>(text.size()));
  gzclose(gz);
  return path;
}

// Both formats of every file: the plain one is read in byte ranges, the gzip one in blocks.
struct Format {
  bool gzip;
  std::string write(const std::string& name, const std::string& text) const {
    return gzip ? write_gzip(name + ".gz", text) : write_file(name, text);
  }
  const char* name() const { return gzip ? "gzip" : "plain"; }
};
const Format kFormats[] = {{false}, {true}};

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
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
  o.gzip_block_bytes = 25 << 10;     // a block per 256 KiB chunk read
  o.on_bad_row = policy;
  o.max_bad_rows = max_bad;
  o.bad_row_samples = 3;
  return o;
}

using mmoe::test::expect_same;

mmoe::Error error_of(const std::string& path, const mmoe::Schema& s, const mmoe::ReadOptions& o) {
  return mmoe::test::catch_error([&] { mmoe::read_table(path, s, o); });
}

// A gzip file of about 1.8 MB is parsed in about 7 blocks (one 256 KiB chunk read each, at least).
void expect_parts(const Format& f, const mmoe::RawTable& t, size_t plain_parts) {
  if (f.gzip) EXPECT_GE(t.parts, 5u);
  else EXPECT_EQ(t.parts, plain_parts);
}

TEST(ReadTableParts, EveryCutGivesOneReadersTable) {
  const mmoe::Schema s = mmoe::Schema::from_toml(kSchema);
  for (const Format& f : kFormats) {
    const std::string p = f.write("clean.csv", make_csv({}));
    const mmoe::RawTable one = mmoe::read_table(p, s, opts(1));
    ASSERT_EQ(one.rows, static_cast<size_t>(kRows));
    ASSERT_EQ(one.parts, 1u);
    ASSERT_GT(one.find("c")->dictionary.size(), 1000u);
    for (int threads : {2, 3, 64}) {
      const mmoe::RawTable many = mmoe::read_table(p, s, opts(threads));
      expect_parts(f, many, std::min<size_t>(static_cast<size_t>(threads), 4));
      expect_same(one, many, std::to_string(threads) + " threads, " + f.name());
    }
  }
}

TEST(ReadTableParts, SkippedRowsOnBothSidesOfTheCuts) {
  const mmoe::Schema s = mmoe::Schema::from_toml(kSchema);
  for (const Format& f : kFormats) {
    const std::string p = f.write("bad.csv", make_csv({0, 2, 30000, 30001, 60000, 79999}));
    const mmoe::RawTable one = mmoe::read_table(p, s, opts(1));
    ASSERT_EQ(one.n_bad_rows(), 6u);
    ASSERT_EQ(one.bad_rows.size(), 3u);
    for (int threads : {2, 4}) {
      const mmoe::RawTable many = mmoe::read_table(p, s, opts(threads));
      expect_parts(f, many, static_cast<size_t>(threads));
      expect_same(one, many, std::to_string(threads) + " threads, " + f.name());
    }
  }
}

TEST(ReadTableParts, MaxBadRowsCrossedInALaterPart) {
  const mmoe::Schema s = mmoe::Schema::from_toml(kSchema);
  for (const Format& f : kFormats) {
    const std::string p = f.write("many_bad.csv", make_csv({1, 20000, 36000, 36001, 70000}));
    for (int64_t max_bad : {0, 2, 3, 4}) {
      const mmoe::Error want = error_of(p, s, opts(1, mmoe::BadRowPolicy::skip, max_bad));
      ASSERT_NE(want.message().find("bad rows (data.max_bad_rows)"), std::string::npos) << want.what();
      for (int threads : {2, 4, 64}) {
        const mmoe::Error got = error_of(p, s, opts(threads, mmoe::BadRowPolicy::skip, max_bad));
        EXPECT_EQ(got.message(), want.message()) << threads << " threads, max " << max_bad << ", " << f.name();
        EXPECT_EQ(got.where(), want.where()) << threads << " threads, max " << max_bad << ", " << f.name();
      }
    }
    // At the limit nothing throws, and the table is one reader's.
    expect_same(mmoe::read_table(p, s, opts(1, mmoe::BadRowPolicy::skip, 5)),
                mmoe::read_table(p, s, opts(4, mmoe::BadRowPolicy::skip, 5)), std::string("max 5, ") + f.name());
  }
}

TEST(ReadTableParts, TheFirstBadRowInTheFileStopsTheRead) {
  const mmoe::Schema s = mmoe::Schema::from_toml(kSchema);
  for (const Format& f : kFormats) {
    for (const std::vector<int>& bad : std::vector<std::vector<int>>{{76000}, {24000, 76100}, {3, 40000}, {19500, 20500}}) {
      const std::string p = f.write("stop.csv", make_csv(bad));
      const mmoe::Error want = error_of(p, s, opts(1, mmoe::BadRowPolicy::error));
      EXPECT_NE(want.message().find("expected a finite number"), std::string::npos) << want.what();
      for (int threads : {2, 4, 64}) {
        const mmoe::Error got = error_of(p, s, opts(threads, mmoe::BadRowPolicy::error));
        EXPECT_EQ(got.message(), want.message()) << threads << " threads, " << f.name();
        EXPECT_EQ(got.where(), want.where()) << threads << " threads, " << f.name();
      }
    }
  }
}

// A gzip stream that breaks after bad rows: with on_bad_row = error the first bad row before the break wins;
// with skip, the break's location is the one reader's (where the intact data ends), after the bad rows.
TEST(ReadTableParts, ABrokenGzipStreamAfterBadRows) {
  const mmoe::Schema s = mmoe::Schema::from_toml(kSchema);
  const std::string bytes = read_bytes(write_gzip("whole.csv.gz", make_csv({5, 30000, 50000})));
  // Truncated at 70% but with the trailer's size kept (so the file still looks large enough to split), and
  // corrupted at 70% (bytes flipped mid-stream).
  std::string cut = bytes.substr(0, bytes.size() * 7 / 10) + bytes.substr(bytes.size() - 4);
  std::string flipped = bytes;
  for (size_t i = bytes.size() * 7 / 10; i < bytes.size() * 7 / 10 + 64; ++i) flipped[i] = static_cast<char>(flipped[i] ^ 0x5a);
  for (const auto& [name, data] : {std::pair{"cut.csv.gz", cut}, std::pair{"flipped.csv.gz", flipped}}) {
    const std::string p = write_file(name, data);
    for (mmoe::BadRowPolicy policy : {mmoe::BadRowPolicy::error, mmoe::BadRowPolicy::skip}) {
      const mmoe::Error want = error_of(p, s, opts(1, policy));
      if (policy == mmoe::BadRowPolicy::skip) EXPECT_NE(want.message().find("gzip"), std::string::npos) << want.what();
      else EXPECT_NE(want.message().find("expected a finite number"), std::string::npos) << want.what();
      for (int threads : {2, 3}) {
        const mmoe::Error got = error_of(p, s, opts(threads, policy));
        EXPECT_EQ(got.message(), want.message()) << name << ", " << threads << " threads";
        EXPECT_EQ(got.where(), want.where()) << name << ", " << threads << " threads";
      }
    }
  }
}

// A bad row among the last whole lines before the break (in the block the break cuts short): those lines are
// parsed before the break is reported, as one reader parses them.
TEST(ReadTableParts, ABadRowJustBeforeABrokenGzipStream) {
  const mmoe::Schema s = mmoe::Schema::from_toml(kSchema);
  auto cut_file = [](const std::string& name, const std::vector<int>& bad) {
    const std::string bytes = read_bytes(write_gzip(name + ".whole.gz", make_csv(bad)));
    return write_file(name, bytes.substr(0, bytes.size() * 7 / 10) + bytes.substr(bytes.size() - 4));
  };
  // Where the intact data of the clean file ends, as a row index (make_csv adds a blank line every 41 rows
  // and a comment every 53 after the header); a bad row 150 rows before it barely moves the break.
  const mmoe::Error clean = error_of(cut_file("clean_cut.csv.gz", {}), s, opts(1));
  const std::string line_col = clean.where().substr(clean.where().rfind(':', clean.where().rfind(':') - 1) + 1);
  const int64_t break_line = std::stoll(line_col);  // stoll stops at the ':' of "line:col"
  const int row = static_cast<int>(static_cast<double>(break_line - 2) / (1.0 + 1.0 / 41 + 1.0 / 53)) - 150;
  const std::string p = cut_file("late_bad.csv.gz", {row});
  const mmoe::Error want = error_of(p, s, opts(1, mmoe::BadRowPolicy::error));
  ASSERT_NE(want.message().find("expected a finite number"), std::string::npos) << want.what();
  for (int threads : {2, 3}) {
    mmoe::ReadOptions o = opts(threads, mmoe::BadRowPolicy::error);
    o.gzip_block_bytes = 600 << 10;  // three 256 KiB chunks: the break falls after whole lines of its block
    const mmoe::Error got = error_of(p, s, o);
    EXPECT_EQ(got.message(), want.message()) << threads << " threads";
    EXPECT_EQ(got.where(), want.where()) << threads << " threads";
  }
}

// Lines longer than max_line_bytes, one spanning several blocks, one at the very end without a line end:
// refused as too long at their own line, and the lines after them read as one reader reads them.
TEST(ReadTableParts, OverLongLinesInAGzipFile) {
  const mmoe::Schema s = mmoe::Schema::from_toml(std::string(kSchema).replace(std::string(kSchema).find("comment"), 0,
                                                                              "max_line_bytes = 70000\n"));
  std::string text = make_csv({});
  text.insert(text.find('\n', text.size() / 3) + 1, "1," + std::string(900000, 'z') + ",yes,1\n");
  text.insert(text.find('\n', text.size() / 2) + 1, "2," + std::string(70001, 'w') + "\r\n");
  text += "3," + std::string(200000, 'q');
  const std::string p = write_gzip("long.csv.gz", text);
  const mmoe::RawTable one = mmoe::read_table(p, s, opts(1));
  ASSERT_EQ(one.n_bad_rows(), 3u);
  ASSERT_NE(one.bad_rows[0].message.find("longer than the limit"), std::string::npos) << one.bad_rows[0].message;
  for (int threads : {2, 4}) {
    const mmoe::RawTable many = mmoe::read_table(p, s, opts(threads));
    EXPECT_GE(many.parts, 5u);
    expect_same(one, many, std::to_string(threads) + " threads");
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
