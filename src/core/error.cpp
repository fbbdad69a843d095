#include "mmoe/error.h"

namespace mmoe {

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::usage: return "usage error";
    case ErrorKind::input: return "input error";
    case ErrorKind::io: return "i/o error";
    case ErrorKind::format: return "format error";
    case ErrorKind::internal: return "internal error";
  }
  return "error";
}

static std::string compose(const std::string& message, const std::string& where, const std::string& hint) {
  std::string text = where.empty() ? message : where + ": " + message;
  if (!hint.empty()) text += "\n  hint: " + hint;
  return text;
}

Error::Error(ErrorKind kind, const std::string& message, std::string where, std::string hint)
    : std::runtime_error(compose(message, where, hint)),
      kind_(kind),
      message_(message),
      where_(std::move(where)),
      hint_(std::move(hint)) {}

std::string location(const std::string& file, long long line, long long col) {
  std::string out = file;
  if (line > 0) {
    out += ":" + std::to_string(line);
    if (col > 0) out += ":" + std::to_string(col);
  }
  return out;
}

void fail_check(const char* expr, const char* file, int line, const std::string& message) {
  throw Error(ErrorKind::internal, message + " (check failed: " + expr + ")", location(file, line));
}

}  // namespace mmoe
