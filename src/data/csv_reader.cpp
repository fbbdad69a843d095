// CSV reading: chunked input (plain or gzip), line splitting, RFC-4180 fields, UTF-8 and count checks.
//
// Most of the time of a census load is spent here, so the common case is kept cheap: a line is found with
// memchr, a line without '"' is split with memchr on the separator, and a line of pure ASCII skips the UTF-8
// decoder after one 8-bytes-at-a-time scan. Quoted fields are unescaped in place in the line buffer (the
// unescaped text is never longer than the raw text), so even they cost no allocation.
#include "mmoe/csv.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <utility>

#include "data/open_file.h"

namespace mmoe {

namespace {

constexpr size_t kChunk = size_t{256} << 10;  // bytes read from the source per fill

// Offset of the first byte that is not part of valid UTF-8, or npos. Rejects overlong forms and surrogates.
size_t find_invalid_utf8(const unsigned char* s, size_t n) {
  size_t i = 0;
  while (i < n) {
    // ASCII fast path, 8 bytes at a time.
    while (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, s + i, 8);
      if (w & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= n) break;
    unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > n) return i;
    for (size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
      return i;
    i += len;
  }
  return std::string_view::npos;
}

bool is_space(char c) { return c == ' ' || c == '\t'; }

// The options every constructor keeps: a line limit of at least 1 byte.
CsvOptions with_line_limit(CsvOptions options) {
  if (options.max_line_bytes == 0) options.max_line_bytes = 1;
  return options;
}

}  // namespace

CsvSeparator parse_separator(const std::string& text, const std::string& key) {
  if (text == ",") return {',', false};
  if (text == ", ") return {',', true};
  if (text == "\t" || text == "tab") return {'\t', false};
  if (text == "|") return {'|', false};
  throw Error(ErrorKind::usage, "unknown separator " + quote_for_message(text) + R"( (use ",", ", ", "\t" or "|"))", key);
}

std::string to_string(const CsvSeparator& sep) {
  if (sep.ch == ',') return sep.trim ? ", " : ",";
  return std::string(1, sep.ch);
}

std::string quote_for_message(std::string_view text) {
  std::string out = "\"";
  size_t n = 0;
  for (unsigned char c : text) {
    if (++n > 40) {
      out += "...";
      break;
    }
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7F) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

bool parse_float(std::string_view text, float& out) {
  const char* b = text.data();
  const char* e = b + text.size();
  if (b != e && *b == '+') ++b;
  if (b == e) return false;
  auto [ptr, ec] = std::from_chars(b, e, out);
  return ec == std::errc() && ptr == e && std::isfinite(out);
}

std::FILE* detail::open_data_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw Error(ErrorKind::io, std::string("cannot open file: ") + std::strerror(errno), path);
  return f;
}

// The byte source: stdio for plain files, zlib's gz* for gzip (which inflates in its own chunks).
struct CsvReader::Source {
  std::FILE* file = nullptr;
  gzFile gz = nullptr;
  std::string path;
  uint64_t pos = 0;                            // plain file: the offset of the next byte read
  uint64_t limit = ~uint64_t{0};               // plain file: bytes from here on belong to another reader

  ~Source() {
    if (file) std::fclose(file);
    if (gz) gzclose(gz);
  }

  // Reads up to n bytes; 0 at end. Throws for read errors and broken gzip streams. `pending` (pending_len
  // bytes) is the data already read but not yet handed out, which starts at line `line`: a broken stream's
  // location is where that data ends (computed only then).
  size_t read(char* dst, size_t n, const char* pending, size_t pending_len, int64_t line) {
    if (file) {
      if (n > limit - pos) n = static_cast<size_t>(limit - pos);
      size_t got = n ? std::fread(dst, 1, n, file) : 0;
      if (got == 0 && n && std::ferror(file))
        throw Error(ErrorKind::io, std::string("cannot read file: ") + std::strerror(errno), path);
      pos += got;
      return got;
    }
    int got = gzread(gz, dst, static_cast<unsigned>(n));
    int err = Z_OK;
    const char* msg = nullptr;
    if (got <= 0) msg = gzerror(gz, &err);
    if (got < 0 || err != Z_OK) {
      std::string detail = msg ? msg : "unknown zlib error";
      // zlib prefixes its message with the path, which the location already gives.
      if (detail.compare(0, path.size() + 2, path + ": ") == 0) detail.erase(0, path.size() + 2);
      // Everything before (line, col) was decompressed intact; the fault lies there or after it.
      int64_t col = 1;
      for (size_t i = 0; i < pending_len; ++i) {
        ++col;
        if (pending[i] == '\n') ++line, col = 1;
      }
      if (err == Z_BUF_ERROR)
        throw Error(ErrorKind::input, "truncated gzip stream: the intact data ends here (" + detail + ")",
                    location(path, line, col),
                    "the file ends in the middle of compressed data; was the download or copy cut short?");
      if (err == Z_DATA_ERROR)
        throw Error(ErrorKind::input, "corrupt gzip stream: the intact data ends here (" + detail + ")",
                    location(path, line, col), "the compressed data is damaged; fetch or copy the file again");
      if (err == Z_ERRNO)
        throw Error(ErrorKind::io, std::string("cannot read file: ") + std::strerror(errno), path);
      throw Error(ErrorKind::input, "cannot decompress gzip stream (" + detail + ")", location(path, line, col));
    }
    return static_cast<size_t>(got);
  }
};

CsvReader::CsvReader(std::string path, CsvOptions options)
    : path_(std::move(path)), options_(with_line_limit(std::move(options))) {
  std::error_code ec;
  if (std::filesystem::is_directory(path_, ec))
    throw Error(ErrorKind::io, "cannot open file: it is a directory", path_);
  source_ = std::make_unique<Source>();
  source_->path = path_;
  std::FILE* f = detail::open_data_file(path_);
  unsigned char magic[2] = {0, 0};
  size_t got = std::fread(magic, 1, 2, f);
  gzip_ = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  std::fseek(f, 0, SEEK_END);
  long file_size = std::ftell(f);
  content_bytes_ = file_size > 0 ? static_cast<uint64_t>(file_size) : 0;
  file_bytes_ = content_bytes_;
  if (gzip_ && file_size >= 18) {
    // ISIZE, the last 4 bytes of a gzip member: the uncompressed size mod 2^32 (only a hint).
    unsigned char isize[4];
    std::fseek(f, -4, SEEK_END);
    if (std::fread(isize, 1, 4, f) == 4) {
      uint64_t n = isize[0] | (isize[1] << 8) | (isize[2] << 16) | (static_cast<uint64_t>(isize[3]) << 24);
      // Deflate expands at most 1032:1, so a larger claim is a damaged or crafted trailer: no estimate
      // (trusting it made read_table reserve gigabytes for a 30-byte file; found by fuzz_csv).
      const uint64_t fsize = static_cast<uint64_t>(file_size);
      content_bytes_ = n >= fsize && n / 1032 <= fsize ? n : 0;
    }
  }
  if (gzip_) {
    std::fclose(f);
    source_->gz = gzopen(path_.c_str(), "rb");
    if (!source_->gz) throw Error(ErrorKind::io, std::string("cannot open file: ") + std::strerror(errno), path_);
    gzbuffer(source_->gz, kChunk);
  } else {
    std::rewind(f);
    source_->file = f;
  }
  buf_.resize(options_.max_line_bytes + 1 + kChunk);

  if (options_.header) {
    CsvStatus st = next_record();
    if (st == CsvStatus::end) throw Error(ErrorKind::input, "file is empty (no header and no data rows)", path_);
    if (st == CsvStatus::bad) throw Error(ErrorKind::input, "bad header: " + bad_message_, location(path_, line_no_, bad_col_));
    header_.reserve(fields_.size());
    for (auto f2 : fields_) header_.emplace_back(f2);
    n_fields_ = header_.size();
    records_ = 0;
    const int64_t header_line = line_no_;
    pending_status_ = next_record();
    if (pending_status_ == CsvStatus::end)
      throw Error(ErrorKind::input, "file has a header but no data rows", location(path_, header_line));
  } else {
    pending_status_ = next_record();
    if (pending_status_ == CsvStatus::end)
      throw Error(ErrorKind::input, "file is empty (no data rows)", path_);
  }
  pending_ = true;
}

CsvReader::CsvReader(std::string path, CsvOptions options, const CsvRange& range)
    : path_(std::move(path)), options_(with_line_limit(std::move(options))) {
  source_ = std::make_unique<Source>();
  source_->path = path_;
  std::FILE* f = detail::open_data_file(path_);
  source_->file = f;
  unsigned char magic[2] = {0, 0};
  if (std::fread(magic, 1, 2, f) == 2 && magic[0] == 0x1f && magic[1] == 0x8b)
    throw Error(ErrorKind::usage, "a gzip file cannot be read in byte ranges", path_);
  if (std::fseek(f, static_cast<long>(range.begin), SEEK_SET) != 0)
    throw Error(ErrorKind::io, std::string("cannot seek in file: ") + std::strerror(errno), path_);
  source_->pos = range.begin;
  source_->limit = range.end;
  buf_.resize(options_.max_line_bytes + 1 + kChunk);
  next_line_no_ = range.first_line;
  n_fields_ = range.n_fields;
}

CsvReader::CsvReader(std::string path, CsvOptions options, CsvBlock block, size_t n_fields)
    : path_(std::move(path)), options_(with_line_limit(std::move(options))) {
  // The block is the whole input: the buffer holds it all, and there is nothing to fill it from.
  buf_ = std::move(block.text);
  end_ = buf_.size();
  eof_ = true;
  next_line_no_ = block.first_line;
  n_fields_ = n_fields;
}

bool CsvReader::stop_at(uint64_t offset) {
  if (!source_ || !source_->file || source_->pos > offset) return false;
  source_->limit = offset;
  return true;
}

size_t CsvReader::estimated_records() const {
  if (first_line_bytes_ == 0 || content_bytes_ == 0) return 0;
  return static_cast<size_t>(content_bytes_ / (first_line_bytes_ + 1)) + 1;
}

CsvReader::~CsvReader() = default;

CsvBlocks CsvReader::take_rest(size_t block_bytes) {
  CsvBlocks rest;
  rest.source_ = std::move(source_);
  rest.carry_.assign(buf_.data() + pos_, buf_.data() + end_);
  rest.next_line_ = next_line_no_;
  rest.block_bytes_ = std::max<size_t>(block_bytes, 1);
  rest.max_line_bytes_ = options_.max_line_bytes;
  rest.eof_ = eof_ || !rest.source_;
  // The current record's fields point into buf_ before pos_: the buffer stays, only its unread end goes.
  end_ = pos_;
  eof_ = true;
  return rest;
}

CsvBlocks::CsvBlocks(CsvBlocks&&) noexcept = default;
CsvBlocks::~CsvBlocks() = default;

bool CsvBlocks::next(CsvBlock& block) {
  if (error_) {
    std::exception_ptr e = std::exchange(error_, nullptr);
    eof_ = true;
    std::rethrow_exception(e);
  }
  std::vector<char>& text = block.text;
  text.clear();
  text.reserve(std::max(carry_.size(), block_bytes_) + kChunk);  // read into without growing
  text.assign(carry_.begin(), carry_.end());
  carry_.clear();
  block.first_line = next_line_;
  size_t cut = 0;     // just past the last line end in text
  int64_t lines = 0;  // line ends in text
  // Counts the line ends in text from `from` on; a line longer than the limit is cut short there.
  auto scan = [&](size_t from) {
    for (const char* p = text.data() + from; p < text.data() + text.size(); ++lines) {
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(text.data() + text.size() - p)));
      if (!nl) break;
      p = nl + 1;
      cut = static_cast<size_t>(p - text.data());
    }
    if (!dropping_ && text.size() - cut > max_line_bytes_ + 1) {
      text.resize(cut + max_line_bytes_ + 2);
      dropping_ = true;
    }
  };
  scan(0);
  while (!eof_ && (text.size() < block_bytes_ || cut == 0)) {
    const size_t old = text.size();
    text.resize(old + kChunk);
    size_t got = 0;
    try {
      // The reader's arguments: the partial line before the new bytes, which starts line `first_line + lines`
      // (a line being skipped to its end has none, as the reader's buffer holds none of it).
      got = source_->read(text.data() + old, kChunk, text.data() + cut, dropping_ ? 0 : old - cut, block.first_line + lines);
    } catch (...) {
      error_ = std::current_exception();
    }
    text.resize(old + got);
    if (error_ || got == 0) {
      eof_ = true;
      break;
    }
    if (dropping_) {  // the over-long line's end, after which its kept start goes on
      const char* nl = static_cast<const char*>(std::memchr(text.data() + old, '\n', got));
      if (!nl) {
        text.resize(old);
        continue;
      }
      text.erase(text.begin() + static_cast<std::ptrdiff_t>(old), text.begin() + (nl - text.data()));
      dropping_ = false;
    }
    scan(old);
  }
  if (!eof_ || error_) {
    // The partial last line starts the next block; before a broken stream it is never parsed (nor by a reader).
    if (!error_) carry_.assign(text.begin() + static_cast<std::ptrdiff_t>(cut), text.end());
    text.resize(cut);
    next_line_ = block.first_line + lines;
  }
  if (text.empty()) {
    if (error_) return next(block);
    return false;
  }
  return true;
}

bool CsvReader::fill() {
  if (eof_) return false;
  if (pos_ > 0) {
    std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
  }
  size_t room = buf_.size() - end_;
  size_t want = room < kChunk ? room : kChunk;
  size_t got = source_->read(buf_.data() + end_, want, buf_.data(), end_, next_line_no_);
  if (got == 0) eof_ = true;
  end_ += got;
  return got > 0;
}

bool CsvReader::read_line(char*& begin, size_t& len, bool& too_long) {
  too_long = false;
  for (;;) {
    char* start = buf_.data() + pos_;
    size_t avail = end_ - pos_;
    char* nl = avail ? static_cast<char*>(std::memchr(start, '\n', avail)) : nullptr;
    if (nl || (eof_ && (avail > 0 || too_long))) {
      begin = start;
      len = nl ? static_cast<size_t>(nl - start) : avail;
      pos_ += nl ? len + 1 : len;
      if (len > 0 && begin[len - 1] == '\r') --len;
      if (len > options_.max_line_bytes) too_long = true;
      if (too_long) len = 0;
      ++next_line_no_;
      return true;
    }
    if (eof_) return false;
    // The line is not complete in the buffer. If it is already over the limit, drop what we have and keep
    // looking for its end, so one huge line costs no more than one buffer.
    if (avail > options_.max_line_bytes) {
      too_long = true;
      pos_ = end_;
    }
    fill();
  }
}

bool CsvReader::split(char* begin, size_t len) {
  fields_.clear();
  cols_.clear();
  char* const e = begin + len;
  const char sep = options_.separator.ch;
  const bool trim = options_.separator.trim;
  auto emit = [&](char* fb, char* fe) {
    if (trim) {
      while (fb < fe && is_space(*fb)) ++fb;
      while (fe > fb && is_space(fe[-1])) --fe;
    }
    fields_.emplace_back(fb, static_cast<size_t>(fe - fb));
    cols_.push_back(fb - begin + 1);
  };

  if (!std::memchr(begin, '"', len)) {
    // Fast path: no quotes anywhere on the line.
    char* fs = begin;
    for (;;) {
      char* s = static_cast<char*>(std::memchr(fs, sep, static_cast<size_t>(e - fs)));
      if (!s) {
        emit(fs, e);
        return true;
      }
      emit(fs, s);
      fs = s + 1;
    }
  }

  char* fs = begin;
  for (;;) {
    char* q = fs;
    if (trim)
      while (q < e && is_space(*q)) ++q;
    if (q < e && *q == '"') {
      // Quoted field: unescape in place starting at q.
      char* out = q;
      char* r = q + 1;
      for (;;) {
        char* quote = static_cast<char*>(std::memchr(r, '"', static_cast<size_t>(e - r)));
        if (!quote) {
          bad_message_ = "unterminated quoted field (a quoted field may not span lines)";
          bad_col_ = q - begin + 1;
          return false;
        }
        size_t n = static_cast<size_t>(quote - r);
        std::memmove(out, r, n);
        out += n;
        if (quote + 1 < e && quote[1] == '"') {
          *out++ = '"';
          r = quote + 2;
          continue;
        }
        r = quote + 1;
        break;
      }
      fields_.emplace_back(q, static_cast<size_t>(out - q));
      cols_.push_back(q - begin + 1);
      if (trim)
        while (r < e && is_space(*r)) ++r;
      if (r == e) return true;
      if (*r != sep) {
        bad_message_ = "unexpected character " + quote_for_message(std::string_view(r, 1)) + " after a closing quote";
        bad_col_ = r - begin + 1;
        return false;
      }
      fs = r + 1;
      continue;
    }
    char* s = static_cast<char*>(std::memchr(q, sep, static_cast<size_t>(e - q)));
    char* fe = s ? s : e;
    if (char* stray = static_cast<char*>(std::memchr(q, '"', static_cast<size_t>(fe - q)))) {
      bad_message_ = "stray quote in an unquoted field (quote the whole field and double the quote: \"a\"\"b\")";
      bad_col_ = stray - begin + 1;
      return false;
    }
    emit(fs, fe);
    if (!s) return true;
    fs = s + 1;
  }
}

CsvStatus CsvReader::next_record() {
  char* b;
  size_t len;
  bool too_long;
  const std::string& comment = options_.comment;
  for (;;) {
    if (!read_line(b, len, too_long)) return CsvStatus::end;
    line_no_ = next_line_no_ - 1;
    if (too_long) {
      ++records_;
      bad_message_ = "line is longer than the limit of " + std::to_string(options_.max_line_bytes) +
                     " bytes (schema.max_line_bytes)";
      bad_col_ = static_cast<int64_t>(options_.max_line_bytes) + 1;  // the first byte over the limit
      return CsvStatus::bad;
    }
    // Blank (or whitespace-only) lines are skipped.
    size_t k = 0;
    while (k < len && (is_space(b[k]))) ++k;
    if (k == len) continue;
    if (!comment.empty() && len >= comment.size() && std::memcmp(b, comment.data(), comment.size()) == 0) continue;
    ++records_;
    size_t bad_utf8 = find_invalid_utf8(reinterpret_cast<const unsigned char*>(b), len);
    if (bad_utf8 != std::string_view::npos) {
      bad_message_ = "invalid UTF-8 (byte 0x";
      char hex[4];
      std::snprintf(hex, sizeof hex, "%02x", static_cast<unsigned char>(b[bad_utf8]));
      bad_message_ += hex;
      bad_message_ += ")";
      bad_col_ = static_cast<int64_t>(bad_utf8) + 1;
      return CsvStatus::bad;
    }
    if (!split(b, len)) return CsvStatus::bad;
    if (n_fields_ != 0 && fields_.size() != n_fields_) {
      bad_message_ = "expected " + std::to_string(n_fields_) + " fields, got " + std::to_string(fields_.size());
      bad_col_ = fields_.size() > n_fields_ ? cols_[n_fields_] : static_cast<int64_t>(len) + 1;
      return CsvStatus::bad;
    }
    if (n_fields_ == 0 && !options_.header) n_fields_ = fields_.size();
    if (first_line_bytes_ == 0 && (records_ > 1 || !options_.header || !header_.empty())) first_line_bytes_ = len;
    return CsvStatus::ok;
  }
}

CsvStatus CsvReader::next() {
  if (pending_) {
    pending_ = false;
    return pending_status_;
  }
  return next_record();
}

}  // namespace mmoe
