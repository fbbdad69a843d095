// cli/settings_setup.h: from presets, a --config file and flags to resolved Settings (+ the data setup).
#pragma once

#include <memory>
#include <string>

#include "commands.h"
#include "mmoe/schema.h"
#include "params.h"

namespace mmoe::cli {

// The TOML text of a built-in preset (examples/NAME.toml, compiled in). Throws usage listing the presets.
std::string preset_text(const std::string& name);
std::vector<std::string> preset_names();

struct ResolvedConfig {
  Settings settings;
  bool has_data_setup = false;  // the preset or config carried [data] / [schema]
  DataSetup data;
  std::string base_dir;         // directory relative data paths are tried against (the config's)
};

// Applies, in order: defaults, the preset, the --config file, the flags. `command` picks the settings.
ResolvedConfig resolve_config(const std::string& command, const CommonArgs& args);

// A data path as written, or, when relative and absent from the working directory, found next to the config
// file or in the mmoe source tree. Returns the path unchanged when nothing exists (the reader then reports it).
std::string find_data_path(const std::string& path, const std::string& base_dir);

// Refuses --threads beyond the machine's cores (ErrorKind::usage).
int checked_threads(const Settings& settings);

// Refuses, before any work is done, an output path that cannot be written: its directory is missing or not
// writable, or the path is a directory (ErrorKind::io naming the path and `flag`). Empty and "-" pass.
void check_output_path(const std::string& path, const std::string& flag);

}  // namespace mmoe::cli
