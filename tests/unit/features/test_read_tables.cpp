// read_tables reads several files at once (threads > 1) or in turn, and gives what reading each with read_table
// gives, in the order asked: the tables (a gzip file among them), and of several failing files the error of the
// first in that order, even when a later one fails sooner.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>
#include <zlib.h>

#include <gtest/gtest.h>

#include "mmoe/error.h"
#include "mmoe/features.h"
#include "error_capture.h"
#include "unit/features/raw_table_compare.h"

namespace {

namespace fs = std::filesystem;

fs::path test_dir() {
  fs::path dir = fs::temp_directory_path() / ("mmoe_read_tables_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

std::string write_plain(const std::string& name, const std::string& text) {
  const std::string path = (test_dir() / name).string();
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::string write_gzip(const std::string& name, const std::string& text) {
  const std::string path = (test_dir() / name).string();
  gzFile gz = gzopen(path.c_str(), "wb");
  EXPECT_NE(gz, nullptr);
  EXPECT_EQ(gzwrite(gz, text.data(), static_cast<unsigned>(text.size())), static_cast<int>(text.size()));
  gzclose(gz);
  return path;
}

// A table of n rows: x dense, c categorical (values first seen in this file's order), y label.
std::string rows_text(size_t n, size_t salt) {
  std::string text = "x,c,y\n";
  for (size_t i = 0; i < n; ++i)
    text += std::to_string(static_cast<double>(i * salt % 97) / 8.0) + ",v" + std::to_string((i + salt) % 7) + "," +
            std::to_string(i % 2) + "\n";
  return text;
}

const char* kSchema = "[schema]\n[schema.columns]\nc = \"categorical\"\ny = \"label\"\n";

using mmoe::test::expect_same;

mmoe::Error error_of(const std::vector<std::string>& paths, const mmoe::Schema& s, int threads) {
  mmoe::ReadOptions o;
  o.threads = threads;
  return mmoe::test::catch_error([&] { mmoe::read_tables(paths, s, o); });
}

TEST(ReadTables, GivesEachFilesTableInOrder) {
  const mmoe::Schema s = mmoe::Schema::from_toml(kSchema);
  const std::vector<std::string> paths = {write_plain("a.csv", rows_text(3000, 3)), write_gzip("b.csv.gz", rows_text(500, 5)),
                                          write_plain("c.csv", rows_text(20, 11))};
  for (int threads : {1, 2}) {
    SCOPED_TRACE(threads);
    mmoe::ReadOptions o;
    o.threads = threads;
    const std::vector<mmoe::RawTable> tables = mmoe::read_tables(paths, s, o);
    ASSERT_EQ(tables.size(), 3u);
    for (size_t k = 0; k < paths.size(); ++k) {
      EXPECT_EQ(tables[k].path, paths[k]);
      expect_same(tables[k], mmoe::read_table(paths[k], s, o), paths[k]);
    }
    EXPECT_EQ(tables[1].rows, 500u);
  }
}

TEST(ReadTables, NamesTheFirstFailingFileInOrder) {
  const mmoe::Schema s = mmoe::Schema::from_toml(kSchema);
  // The second file is long and fails at its end; the third is missing and fails at once.
  std::string long_bad = rows_text(20000, 7);
  long_bad += "1.5,v1\n";  // one field short, on the last line
  const std::string good = write_plain("good.csv", rows_text(100, 2));
  const std::string bad = write_plain("bad.csv", long_bad);
  const std::string missing = (test_dir() / "no_such_file.csv").string();
  for (int threads : {1, 2}) {
    SCOPED_TRACE(threads);
    const mmoe::Error e = error_of({good, bad, missing}, s, threads);
    EXPECT_EQ(e.kind(), mmoe::ErrorKind::input);
    EXPECT_EQ(e.where().rfind(bad + ":20002:", 0), 0u) << e.where();
    const mmoe::Error m = error_of({missing, bad}, s, threads);
    EXPECT_EQ(m.kind(), mmoe::ErrorKind::io);
    EXPECT_EQ(m.where(), missing);
  }
}

}  // namespace
