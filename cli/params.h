// cli/params.h: every setting of the mmoe tool, declared once.
//
// Each Param has its TOML key ("train.lr"), its flag ("--lr"), type, default, bounds and doc. From this one
// table come the TOML reader (unknown keys are errors with a suggestion), the command-line flags of each
// subcommand, their --help text and docs/cli.md (`mmoe help --markdown`; a test keeps the file in sync).
// Precedence: default < preset < --config file < command-line flag.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace mmoe::cli {

enum class ParamType { integer, number, text, boolean, int_list };

struct Param {
  std::string key;       // TOML key, "section.name"
  std::string flag;      // "--name" (empty: config file only)
  ParamType type;
  std::string fallback;  // default, as text
  std::string doc;
  double min = -1e300, max = 1e300;     // bounds for numbers
  std::vector<std::string> choices;     // allowed values for text
  std::vector<std::string> commands;    // subcommands that take it
};

const std::vector<Param>& params();
const Param* find_param(const std::string& key);

// Resolved settings: key -> value text, plus where each value came from (for messages).
class Settings {
 public:
  explicit Settings(const std::string& command);  // all defaults of the command's params

  // Applies a TOML document's [model] and [train] tables (and top-level keys). [data] and [schema] belong to
  // the data layer (mmoe/schema.h), which checks its own keys. Throws usage for unknown keys (with the
  // nearest valid key), wrong types and out-of-range values, naming "file:line:col" and the key.
  void apply_toml(const std::string& text, const std::string& source);
  void set(const std::string& key, const std::string& value, const std::string& source);

  std::string text(const std::string& key) const;
  long long integer(const std::string& key) const;
  double number(const std::string& key) const;
  bool boolean(const std::string& key) const;
  std::vector<int> int_list(const std::string& key) const;
  bool given(const std::string& key) const;  // set by a preset, config or flag (not just the default)
  const std::string& command() const { return command_; }

 private:
  void check(const Param& p, const std::string& value, const std::string& where) const;
  std::string command_;
  std::map<std::string, std::string> values_;
  std::map<std::string, std::string> sources_;
};

// Adds the command's flags to a CLI11 app; values land in `raw` (flag key -> text) when given.
void add_flags(CLI::App& app, const std::string& command, std::map<std::string, std::string>& raw,
               std::map<std::string, std::vector<std::string>>& raw_lists);

// docs/cli.md body for all commands.
std::string params_markdown();

}  // namespace mmoe::cli
