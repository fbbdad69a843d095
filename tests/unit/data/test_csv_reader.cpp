// CsvReader: dialects, quoting, gzip, and every error with its exact location.
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include <gtest/gtest.h>

#include "mmoe/csv.h"
#include "error_capture.h"

namespace {

namespace fs = std::filesystem;

std::string temp_path(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("mmoe_csv_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return (dir / name).string();
}

std::string write_file(const std::string& name, const std::string& text) {
  std::string path = temp_path(name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::string write_gz(const std::string& name, const std::string& text) {
  std::string path = temp_path(name);
  gzFile gz = gzopen(path.c_str(), "wb");
  gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
  gzclose(gz);
  return path;
}

mmoe::CsvOptions opts(const std::string& sep = ",", bool header = true, const std::string& comment = "") {
  mmoe::CsvOptions o;
  o.separator = mmoe::parse_separator(sep);
  o.header = header;
  o.comment = comment;
  return o;
}

// Reads every record; returns them as strings joined by '|', bad records as "!msg@line:col".
std::vector<std::string> read_all(mmoe::CsvReader& r) {
  std::vector<std::string> out;
  for (;;) {
    mmoe::CsvStatus st = r.next();
    if (st == mmoe::CsvStatus::end) break;
    if (st == mmoe::CsvStatus::bad) {
      out.push_back("!" + r.error().where());
      continue;
    }
    std::string rec;
    for (size_t i = 0; i < r.size(); ++i) rec += (i ? "|" : "") + std::string(r.field(i));
    out.push_back(rec);
  }
  return out;
}

using mmoe::test::catch_error;

TEST(CsvReader, HeaderFieldsLinesAndColumns) {
  std::string p = write_file("basic.csv", "a,b,c\n1,22,333\n\n4,,6\r\n");
  mmoe::CsvReader r(p, opts());
  EXPECT_EQ(r.header(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(r.n_fields(), 3u);
  ASSERT_EQ(r.next(), mmoe::CsvStatus::ok);
  EXPECT_EQ(r.line(), 2);
  EXPECT_EQ(r.field(2), "333");
  EXPECT_EQ(r.column(0), 1);
  EXPECT_EQ(r.column(1), 3);
  EXPECT_EQ(r.column(2), 6);
  EXPECT_EQ(r.where(2), p + ":2:6");
  ASSERT_EQ(r.next(), mmoe::CsvStatus::ok);  // the blank line 3 is skipped
  EXPECT_EQ(r.line(), 4);
  EXPECT_EQ(r.field(1), "");
  EXPECT_EQ(r.field(2), "6");  // "\r\n" stripped
  EXPECT_EQ(r.next(), mmoe::CsvStatus::end);
  EXPECT_EQ(r.records(), 2);
}

TEST(CsvReader, CommaSpaceTrimsAndKeepsInnerSpaces) {
  std::string p = write_file("census_like.csv", "73, Not in universe, - 50000.\n38, Private , 50000+.\n");
  mmoe::CsvReader r(p, opts(", ", false));
  ASSERT_EQ(r.next(), mmoe::CsvStatus::ok);
  EXPECT_EQ(r.field(1), "Not in universe");
  EXPECT_EQ(r.field(2), "- 50000.");
  EXPECT_EQ(r.column(1), 5);
  ASSERT_EQ(r.next(), mmoe::CsvStatus::ok);
  EXPECT_EQ(r.field(1), "Private");
  EXPECT_EQ(r.column(2), 15);
}

TEST(CsvReader, TabAndPipeSeparators) {
  std::string p = write_file("t.tsv", "x\ty\n1,5\t2\n");
  mmoe::CsvReader r(p, opts("tab"));
  ASSERT_EQ(r.next(), mmoe::CsvStatus::ok);
  EXPECT_EQ(r.field(0), "1,5");
  std::string q = write_file("p.psv", "x|y\n1|2\n");
  mmoe::CsvReader r2(q, opts("|"));
  ASSERT_EQ(r2.next(), mmoe::CsvStatus::ok);
  EXPECT_EQ(r2.field(1), "2");
  EXPECT_EQ(catch_error([] { mmoe::parse_separator(";"); }).where(), "schema.separator");
}

TEST(CsvReader, Rfc4180Quotes) {
  std::string p = write_file("q.csv", "a,b,c\n\"x,y\",\"say \"\"hi\"\"\",\"\"\n");
  mmoe::CsvReader r(p, opts());
  ASSERT_EQ(r.next(), mmoe::CsvStatus::ok);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r.field(0), "x,y");
  EXPECT_EQ(r.field(1), "say \"hi\"");
  EXPECT_EQ(r.field(2), "");
  EXPECT_EQ(r.column(1), 7);
  EXPECT_EQ(r.column(2), 20);
}

TEST(CsvReader, QuotedFieldsWithCommaSpace) {
  std::string p = write_file("q2.csv", "1, \"a, b\" , c\n");
  mmoe::CsvReader r(p, opts(", ", false));
  ASSERT_EQ(r.next(), mmoe::CsvStatus::ok);
  EXPECT_EQ(r.field(1), "a, b");
  EXPECT_EQ(r.field(2), "c");
}

TEST(CsvReader, CommentsAndBlankLinesSkipped) {
  std::string p = write_file("c.csv", "# a comment\na,b\n# another\n\n   \n1,2\n");
  mmoe::CsvReader r(p, opts(",", true, "#"));
  EXPECT_EQ(r.header()[0], "a");
  ASSERT_EQ(r.next(), mmoe::CsvStatus::ok);
  EXPECT_EQ(r.line(), 6);
  EXPECT_EQ(r.next(), mmoe::CsvStatus::end);
}

TEST(CsvReader, LastLineWithoutNewline) {
  std::string p = write_file("nonl.csv", "a\n1\n2");
  mmoe::CsvReader r(p, opts());
  EXPECT_EQ(read_all(r), (std::vector<std::string>{"1", "2"}));
}

TEST(CsvReader, GzipDetectedByMagicNotName) {
  std::string text = "a,b\n";
  for (int i = 0; i < 50000; ++i) text += std::to_string(i) + "," + std::to_string(i * 2) + "\n";
  std::string p = write_gz("data.bin", text);  // no .gz suffix on purpose
  mmoe::CsvReader r(p, opts());
  EXPECT_TRUE(r.gzip());
  int64_t n = 0;
  while (r.next() == mmoe::CsvStatus::ok) {
    ASSERT_EQ(r.field(0), std::to_string(n));
    ++n;
  }
  EXPECT_EQ(n, 50000);
  EXPECT_EQ(r.line(), 50001);
  EXPECT_GT(r.estimated_records(), 40000u);
}

TEST(CsvReader, TruncatedGzipIsAnInputError) {
  std::string text = "a,b\n";
  for (int i = 0; i < 200000; ++i) text += std::to_string(i * 7919 % 100003) + "," + std::to_string(i) + "\n";
  std::string full = write_gz("full.gz", text);
  std::ifstream in(full, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string p = write_file("cut.gz", bytes.substr(0, bytes.size() / 2));
  mmoe::Error e = catch_error([&] {
    mmoe::CsvReader r(p, opts());
    while (r.next() != mmoe::CsvStatus::end) {
    }
  });
  EXPECT_EQ(e.kind(), mmoe::ErrorKind::input);
  EXPECT_NE(e.message().find("truncated gzip"), std::string::npos) << e.what();
  EXPECT_EQ(e.where().rfind(p + ":", 0), 0u) << e.where();
}

TEST(CsvReader, CorruptGzipIsAnInputError) {
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "x,y\n";
  std::string full = write_gz("ok.gz", text);
  std::ifstream in(full, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (size_t i = 20; i < bytes.size() - 8; i += 3) bytes[i] = static_cast<char>(bytes[i] ^ 0x5a);
  std::string p = write_file("bad.gz", bytes);
  mmoe::Error e = catch_error([&] {
    mmoe::CsvReader r(p, opts());
    while (r.next() != mmoe::CsvStatus::end) {
    }
  });
  EXPECT_EQ(e.kind(), mmoe::ErrorKind::input);
  EXPECT_TRUE(e.message().find("gzip") != std::string::npos) << e.what();
}

TEST(CsvReader, MissingFileIsIoNamingThePath) {
  mmoe::Error e = catch_error([] { mmoe::CsvReader r("/nonexistent/dir/x.csv", opts()); });
  EXPECT_EQ(e.kind(), mmoe::ErrorKind::io);
  EXPECT_EQ(e.where(), "/nonexistent/dir/x.csv");
  mmoe::Error d = catch_error([] { mmoe::CsvReader r(std::filesystem::temp_directory_path().string(), opts()); });
  EXPECT_EQ(d.kind(), mmoe::ErrorKind::io);
}

TEST(CsvReader, EmptyFileAndHeaderOnly) {
  std::string empty = write_file("empty.csv", "");
  mmoe::Error e = catch_error([&] { mmoe::CsvReader r(empty, opts()); });
  EXPECT_EQ(e.kind(), mmoe::ErrorKind::input);
  EXPECT_EQ(e.where(), empty);
  EXPECT_NE(e.message().find("empty"), std::string::npos);

  std::string blank = write_file("blank.csv", "\n\n# only comments\n");
  e = catch_error([&] { mmoe::CsvReader r(blank, opts(",", false, "#")); });
  EXPECT_NE(e.message().find("empty"), std::string::npos);

  std::string head = write_file("head.csv", "a,b,c\n\n");
  e = catch_error([&] { mmoe::CsvReader r(head, opts()); });
  EXPECT_EQ(e.kind(), mmoe::ErrorKind::input);
  EXPECT_NE(e.message().find("header but no data"), std::string::npos);
  EXPECT_EQ(e.where(), head + ":1");
}

TEST(CsvReader, WrongFieldCountSaysExpectedAndGot) {
  std::string p = write_file("count.csv", "a,b,c\n1,2,3\n1,2\n1,2,3,4\n");
  mmoe::CsvReader r(p, opts());
  ASSERT_EQ(r.next(), mmoe::CsvStatus::ok);
  ASSERT_EQ(r.next(), mmoe::CsvStatus::bad);
  EXPECT_EQ(r.bad_message(), "expected 3 fields, got 2");
  EXPECT_EQ(r.error().where(), p + ":3:4");  // just past the end of "1,2"
  ASSERT_EQ(r.next(), mmoe::CsvStatus::bad);
  EXPECT_EQ(r.bad_message(), "expected 3 fields, got 4");
  EXPECT_EQ(r.error().where(), p + ":4:7");  // where the extra field starts
  EXPECT_EQ(r.next(), mmoe::CsvStatus::end);
}

TEST(CsvReader, HeaderlessCountFromFirstRecord) {
  std::string p = write_file("nh.csv", "1,2\n3\n");
  mmoe::CsvReader r(p, opts(",", false));
  EXPECT_EQ(r.n_fields(), 2u);
  ASSERT_EQ(r.next(), mmoe::CsvStatus::ok);
  ASSERT_EQ(r.next(), mmoe::CsvStatus::bad);
  EXPECT_EQ(r.error().where(), p + ":2:2");
}

TEST(CsvReader, StrayQuoteAndUnterminatedQuote) {
  std::string p = write_file("quote.csv", "a,b\nab\"c,1\n\"open,1\n\"x\"y,1\n");
  mmoe::CsvReader r(p, opts());
  ASSERT_EQ(r.next(), mmoe::CsvStatus::bad);
  EXPECT_NE(r.bad_message().find("stray quote"), std::string::npos);
  EXPECT_EQ(r.error().where(), p + ":2:3");
  ASSERT_EQ(r.next(), mmoe::CsvStatus::bad);
  EXPECT_NE(r.bad_message().find("unterminated"), std::string::npos);
  EXPECT_EQ(r.error().where(), p + ":3:1");
  ASSERT_EQ(r.next(), mmoe::CsvStatus::bad);
  EXPECT_NE(r.bad_message().find("after a closing quote"), std::string::npos);
  EXPECT_EQ(r.error().where(), p + ":4:4");
}

TEST(CsvReader, InvalidUtf8) {
  std::string p = write_file("utf.csv", "a,b\n\xc3\xa9t\xc3\xa9,ok\nfine,b\xff\n\xed\xa0\x80,x\n");
  mmoe::CsvReader r(p, opts());
  ASSERT_EQ(r.next(), mmoe::CsvStatus::ok);  // valid 2-byte sequences
  EXPECT_EQ(r.field(0), "\xc3\xa9t\xc3\xa9");
  ASSERT_EQ(r.next(), mmoe::CsvStatus::bad);
  EXPECT_NE(r.bad_message().find("invalid UTF-8"), std::string::npos);
  EXPECT_EQ(r.error().where(), p + ":3:7");
  ASSERT_EQ(r.next(), mmoe::CsvStatus::bad);  // an encoded surrogate
  EXPECT_EQ(r.error().where(), p + ":4:1");
}

TEST(CsvReader, OverlongLineIsBadAndReadingContinues) {
  mmoe::CsvOptions o = opts();
  o.max_line_bytes = 64;
  std::string big(5000, 'x');
  std::string p = write_file("long.csv", "a,b\n1,2\n" + big + ",1\n3,4\n");
  mmoe::CsvReader r(p, o);
  ASSERT_EQ(r.next(), mmoe::CsvStatus::ok);
  ASSERT_EQ(r.next(), mmoe::CsvStatus::bad);
  EXPECT_NE(r.bad_message().find("longer than the limit of 64 bytes"), std::string::npos);
  EXPECT_EQ(r.error().where(), p + ":3:65");  // the first byte over the limit
  ASSERT_EQ(r.next(), mmoe::CsvStatus::ok);
  EXPECT_EQ(r.line(), 4);
  EXPECT_EQ(r.field(0), "3");
}

TEST(CsvReader, LinesSpanningChunkBoundaries) {
  // Lines of varied length over several 256 KiB chunks: every field must come back intact.
  std::string text = "k,v\n";
  for (int i = 0; i < 30000; ++i) text += std::to_string(i) + "," + std::string(static_cast<size_t>(i % 97), 'z') + "\n";
  std::string p = write_file("chunks.csv", text);
  mmoe::CsvReader r(p, opts());
  int i = 0;
  while (r.next() == mmoe::CsvStatus::ok) {
    ASSERT_EQ(r.field(0), std::to_string(i));
    ASSERT_EQ(r.field(1).size(), static_cast<size_t>(i % 97));
    ++i;
  }
  EXPECT_EQ(i, 30000);
}

TEST(ParseFloat, AcceptsFiniteRejectsJunkNanInf) {
  float x = 0;
  EXPECT_TRUE(mmoe::parse_float("1.5", x));
  EXPECT_FLOAT_EQ(x, 1.5f);
  EXPECT_TRUE(mmoe::parse_float("+2e3", x));
  EXPECT_FLOAT_EQ(x, 2000.0f);
  EXPECT_TRUE(mmoe::parse_float("-0.25", x));
  EXPECT_FALSE(mmoe::parse_float("", x));
  EXPECT_FALSE(mmoe::parse_float("abc", x));
  EXPECT_FALSE(mmoe::parse_float("1.5x", x));
  EXPECT_FALSE(mmoe::parse_float("nan", x));
  EXPECT_FALSE(mmoe::parse_float("inf", x));
  EXPECT_FALSE(mmoe::parse_float("-Infinity", x));
  EXPECT_FALSE(mmoe::parse_float("1e999", x));
}

}  // namespace
