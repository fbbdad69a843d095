// mmoe/csv.h: a streaming CSV reader for plain and gzip files, with a line and column for every field.
//
// The reader hands out one record at a time as string_views into its own line buffer, so reading a file
// costs one buffer (about two lines' worth plus a 256 KiB chunk) however large the file is, and no heap
// allocation per field. A gzip file (detected by its magic bytes 1f 8b, not by its name) is inflated in
// chunks as it is read; the decompressed text is never held whole. take_rest() hands what a reader has not read
// yet over in blocks of whole lines, so that one thread can inflate while others parse (read_table does).
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
#include <exception>
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

// Whole lines of one file, held in memory: a piece of its input for parsing on another thread. `text` ends
// after a line end, or at the file's end; its first line is line number first_line.
struct CsvBlock {
  std::vector<char> text;
  int64_t first_line = 1;
};

class CsvBlocks;

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
  // Reads only the lines of `block` (no header; records of n_fields fields), which it takes over. `path`
  // names the file in locations.
  CsvReader(std::string path, CsvOptions options, CsvBlock block, size_t n_fields);
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
  // The size of the text: the file's size, or the gzip trailer's uncompressed size (0 if implausible).
  uint64_t content_bytes() const { return content_bytes_; }
  // Stops a plain file's reading at byte `offset`, a line start, so that another reader takes the rest.
  // false (and nothing changes) for gzip or when the reader has already read past it.
  bool stop_at(uint64_t offset);
  // Hands the rest of the input over, in blocks of whole lines of about block_bytes: what the reader has
  // buffered past its current record (a constructor reads the first one ahead), then the rest of the file.
  // The reader itself then returns only that first record, if not returned yet, and then end. For parsing
  // a gzip file on several threads: its inflating is serial, its parsing need not be (read_table does).
  CsvBlocks take_rest(size_t block_bytes);

 private:
  friend class CsvBlocks;
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

// The rest of a CsvReader's input cut after line ends, in file order (CsvReader::take_rest).
class CsvBlocks {
 public:
  CsvBlocks(CsvBlocks&&) noexcept;
  ~CsvBlocks();
  // The next block: at least block_bytes (or the rest of the file), read in the reader's chunks, up to the
  // last line end read. false at the end of the input. A broken gzip stream or a read error throws the
  // reader's error (same message and location), but only on the call after the one that returned the whole
  // lines before the fault, which a reader would have handed out first. A line over the reader's
  // max_line_bytes is cut to max_line_bytes + 2 bytes, so that it is still refused as too long without
  // being held whole.
  bool next(CsvBlock& block);

 private:
  friend class CsvReader;
  CsvBlocks() = default;
  std::unique_ptr<CsvReader::Source> source_;
  std::vector<char> carry_;     // read past the last block's final line end: the start of the next line
  int64_t next_line_ = 1;       // line number of carry_'s first line
  size_t block_bytes_ = 0, max_line_bytes_ = 0;
  bool dropping_ = false;       // carry_ is an over-long line cut short: skip to its end
  bool eof_ = false;
  std::exception_ptr error_;    // thrown by the next call
};

// Parses a whole field as a finite float (leading '+' allowed). false for empty, trailing junk, NaN or Inf.
bool parse_float(std::string_view text, float& out);

// Quotes a string for messages: "abc" (truncated past 40 bytes, control bytes escaped).
std::string quote_for_message(std::string_view text);

}  // namespace mmoe
