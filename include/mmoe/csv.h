// mmoe/csv.h: a streaming CSV reader for plain and gzip files, with a line and column for every field.
//
// The reader hands out one record at a time as string_views into its own line buffer, so reading a file
// costs one buffer (about two lines' worth plus a 256 KiB chunk) however large the file is, and no heap
// allocation per field. A gzip file (detected by its magic bytes 1f 8b, not by its name) is inflated in
// chunks as it is read; the decompressed text is never held whole.
//
// Dialect: one record per line ("\n" or "\r\n"), RFC-4180 double quotes ("a,b" keeps the comma, "" is a
// quote), separator "," / ", " (comma, then whitespace around fields is trimmed) / "\t" / "|". Blank lines and
// lines that start with the comment prefix are skipped. A quoted field may not span lines.
//
// Errors. Faults of the file as a whole throw mmoe::Error at once: a missing or unreadable file (io), an
// empty file, a header without data rows, a truncated or corrupt gzip stream (input). Faults of one record
// (wrong field count, stray quote, invalid UTF-8, an over-long line) do not throw: next() returns
// CsvStatus::bad and error() describes it, so the caller can stop or skip the row (see on_bad_row in
// features.h). Every location is "path:line:col", 1-based, col counted in bytes.
//
//   mmoe::CsvOptions opt;
//   opt.separator = mmoe::parse_separator(", ");
//   mmoe::CsvReader reader("census-income.data.gz", opt);
//   while (true) {
//     mmoe::CsvStatus st = reader.next();
//     if (st == mmoe::CsvStatus::end) break;
//     if (st == mmoe::CsvStatus::bad) throw reader.error();
//     float age;
//     if (!mmoe::parse_float(reader.field(0), age)) throw mmoe::Error(..., reader.where(0));
//   }
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mmoe/error.h"

namespace mmoe {

struct CsvSeparator {
  char ch = ',';
  bool trim = false;  // strip spaces and tabs around every field (the ", " dialect)
};

// Accepts ",", ", ", "\t" (a real tab) or "tab", "|". Throws ErrorKind::usage naming `key` otherwise.
CsvSeparator parse_separator(const std::string& text, const std::string& key = "schema.separator");
// The spelling parse_separator accepts back: ",", ", ", "\t", "|".
std::string to_string(const CsvSeparator& sep);

struct CsvOptions {
  CsvSeparator separator;
  bool header = true;                     // the first record names the columns
  std::string comment;                    // lines starting with this prefix are skipped; empty = none
  size_t max_line_bytes = size_t{1} << 20;  // a longer line is a bad record (guards against binary input)
};

enum class CsvStatus { ok, bad, end };

// A byte range of a plain (not gzip) file that starts at the beginning of a line, for reading one file in
// parts on several threads (read_table does): [begin, end) holds whole lines only, the first of them line
// number first_line, each with n_fields fields. No header is read from it.
struct CsvRange {
  uint64_t begin = 0, end = 0;
  int64_t first_line = 1;
  size_t n_fields = 0;
};

class CsvReader {
 public:
  // Opens the file and reads the header (if any) and the first data record's position.
  // Throws io (cannot open), input (empty file, header only, corrupt gzip).
  CsvReader(std::string path, CsvOptions options = {});
  // Reads only the lines of `range` (a plain file; throws usage for gzip). Its records may be none.
  CsvReader(std::string path, CsvOptions options, const CsvRange& range);
  ~CsvReader();
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  // The next data record. ok: fields are valid until the next call. bad: the record was consumed and
  // error() says why. end: no more records. Throws for a corrupt or truncated gzip stream or a read error.
  CsvStatus next();

  const std::vector<std::string>& header() const { return header_; }
  // Fields per record: the header's count, or the first data record's count for headerless files.
  size_t n_fields() const { return n_fields_; }

  size_t size() const { return fields_.size(); }
  std::string_view field(size_t i) const { return fields_[i]; }
  // 1-based byte column where field i starts (after trimming).
  int64_t column(size_t i) const { return cols_[i]; }
  // 1-based line number of the current record.
  int64_t line() const { return line_no_; }
  const std::string& path() const { return path_; }
  // "path:line:col" of field i of the current record.
  std::string where(size_t i) const { return location(path_, line_no_, cols_[i]); }

  // After next() == bad: the error for the bad record (ErrorKind::input, where = path:line:col).
  Error error() const { return Error(ErrorKind::input, bad_message_, location(path_, line_no_, bad_col_)); }
  const std::string& bad_message() const { return bad_message_; }

  // Data records returned so far (ok or bad).
  int64_t records() const { return records_; }
  bool gzip() const { return gzip_; }
  // A guess at the number of data records (0 = no idea): the (decompressed) size over the first data
  // line's length. Callers use it to reserve column storage once instead of growing it.
  size_t estimated_records() const;
  // The file's size in bytes (gzip: the compressed size).
  uint64_t file_bytes() const { return file_bytes_; }
  // Stops a plain file's reading at byte `offset`, a line start, so that another reader takes the rest.
  // false (and nothing changes) for gzip or when the reader has already read past it.
  bool stop_at(uint64_t offset);

 private:
  struct Source;
  // The next physical line, without its "\n" / "\r\n". false at end of input.
  bool read_line(char*& begin, size_t& len, bool& too_long);
  bool fill();
  // Splits the line into fields_/cols_; false (with bad_message_/bad_col_) on a malformed line.
  bool split(char* begin, size_t len);
  // Next non-blank, non-comment line as fields; status as next().
  CsvStatus next_record();

  std::string path_;
  CsvOptions options_;
  std::unique_ptr<Source> source_;
  bool gzip_ = false;
  std::vector<char> buf_;  // (capacity) chunked input; lines are views into it
  size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
  int64_t next_line_no_ = 1;  // line number of the next physical line
  int64_t line_no_ = 0;       // line number of the current record
  int64_t records_ = 0;
  std::vector<std::string> header_;
  size_t n_fields_ = 0;
  std::vector<std::string_view> fields_;
  std::vector<int64_t> cols_;
  std::string bad_message_;
  int64_t bad_col_ = 0;
  uint64_t content_bytes_ = 0;  // file size, or the gzip trailer's uncompressed size (mod 4 GiB)
  uint64_t file_bytes_ = 0;
  size_t first_line_bytes_ = 0;
  bool pending_ = false;  // the first data record was read by the constructor and not yet returned
  CsvStatus pending_status_ = CsvStatus::end;
};

// Parses a whole field as a finite float (leading '+' allowed). false for empty, trailing junk, NaN or Inf.
bool parse_float(std::string_view text, float& out);

// Quotes a string for messages: "abc" (truncated past 40 bytes, control bytes escaped).
std::string quote_for_message(std::string_view text);

}  // namespace mmoe
