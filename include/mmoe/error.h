// mmoe/error.h: the one exception type the library throws.
//
// The library never exits and never prints; it throws mmoe::Error with a kind that says who is at fault
// and a `where` that says exactly where (a "file:line:col", a config key, a byte offset in a model file).
// Only the CLI maps kinds to exit codes: usage/input/io/format -> 2, internal -> 1.
//
//   throw mmoe::Error(mmoe::ErrorKind::input, "expected a number, got \"abc\"", "train.csv:12:7");
//   MMOE_CHECK(rows > 0, "batch has no rows");   // an invariant: throws ErrorKind::internal
#pragma once

#include <stdexcept>
#include <string>

namespace mmoe {

enum class ErrorKind {
  usage,     // bad command line or config: unknown key, wrong type, out-of-range value
  input,     // bad data: malformed CSV row, bad label, schema mismatch
  io,        // a file that cannot be opened, read or written
  format,    // a model file or checkpoint that fails its magic, version, bounds or checksum
  internal,  // a broken invariant: a bug in mmoe
};

const char* to_string(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message, std::string where = {}, std::string hint = {});

  ErrorKind kind() const { return kind_; }
  // The bare message, without location or hint.
  const std::string& message() const { return message_; }
  // Where the fault is: "path:line:col", "path:line", "key 'train.lr'", "model.mmoe@1234 (section weights)".
  const std::string& where() const { return where_; }
  const std::string& hint() const { return hint_; }

 private:
  ErrorKind kind_;
  std::string message_;
  std::string where_;
  std::string hint_;
};

// "file:line:col" (col omitted when 0, line omitted when 0).
std::string location(const std::string& file, long long line = 0, long long col = 0);

[[noreturn]] void fail_check(const char* expr, const char* file, int line, const std::string& message);

}  // namespace mmoe

// Always-on invariant check; a failure is a bug in mmoe (ErrorKind::internal).
#define MMOE_CHECK(cond, message)                                                 \
  do {                                                                            \
    if (!(cond)) ::mmoe::fail_check(#cond, __FILE__, __LINE__, (message));        \
  } while (0)
