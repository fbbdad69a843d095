#include "settings_setup.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "mmoe/error.h"
#include "mmoe/fs.h"
#include "presets.inc"  // generated: kPresets[] = {{name, toml text}, ...}

#ifndef MMOE_SOURCE_DIR
#define MMOE_SOURCE_DIR "."
#endif

namespace mmoe::cli {

std::vector<std::string> preset_names() {
  std::vector<std::string> names;
  for (const auto& preset : kPresets) names.emplace_back(preset.name);
  return names;
}

std::string preset_text(const std::string& name) {
  for (const auto& preset : kPresets)
    if (name == preset.name) return preset.text;
  std::string list;
  for (const std::string& n : preset_names()) list += (list.empty() ? "" : ", ") + n;
  const std::string near = nearest_word(name, preset_names());
  throw Error(ErrorKind::usage, "unknown preset '" + name + "' (available: " + list + ")", "--preset",
              near.empty() ? "" : "did you mean '" + near + "'?");
}

static bool has_data_tables(const std::string& text) {
  return text.find("[data]") != std::string::npos || text.find("[schema") != std::string::npos;
}

ResolvedConfig resolve_config(const std::string& command, const CommonArgs& args) {
  ResolvedConfig rc{Settings(command), false, {}, "."};
  if (!args.preset.empty()) {
    const std::string text = preset_text(args.preset);
    const std::string source = "preset " + args.preset;
    rc.settings.apply_toml(text, source);
    if (has_data_tables(text)) {
      rc.data = parse_data_config(text, source);
      rc.has_data_setup = true;
    }
  }
  if (!args.config.empty()) {
    const std::string text = read_file(args.config);
    rc.settings.apply_toml(text, args.config);
    if (has_data_tables(text)) {
      rc.data = parse_data_config(text, args.config);
      rc.has_data_setup = true;
    }
    const size_t slash = args.config.rfind('/');
    rc.base_dir = slash == std::string::npos ? "." : args.config.substr(0, slash);
  }
  for (const auto& [key, value] : args.raw) {
    if (value.empty()) continue;
    const Param* p = find_param(key);
    rc.settings.set(key, value, p ? p->flag : key);
  }
  return rc;
}

std::string find_data_path(const std::string& path, const std::string& base_dir) {
  if (path.empty() || path[0] == '/' || file_exists(path)) return path;
  for (const std::string& dir : {base_dir, std::string(MMOE_SOURCE_DIR)}) {
    const std::string candidate = dir + "/" + path;
    if (file_exists(candidate)) return candidate;
  }
  return path;
}

int checked_threads(const Settings& settings) {
  const long long threads = settings.integer("train.threads");
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  if (threads > static_cast<long long>(cores))
    throw Error(ErrorKind::usage,
                "--threads " + std::to_string(threads) + " is more than this machine's " + std::to_string(cores) +
                    " cores",
                "train.threads");
  return static_cast<int>(threads);
}

void check_output_path(const std::string& path, const std::string& flag) {
  if (path.empty() || path == "-") return;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw Error(ErrorKind::io, "cannot write " + flag + ": the path is a directory", path, "give a file name");
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw Error(ErrorKind::io, "cannot write " + flag + ": the directory '" + dir + "' does not exist", path,
                "create it first (mkdir -p " + dir + ")");
  // The file goes in as a temporary file renamed over `path`, so it is the directory that must be writable.
  if (::access(dir.c_str(), W_OK) != 0)
    throw Error(ErrorKind::io,
                "cannot write " + flag + ": no permission to create files in '" + dir + "' (" + std::strerror(errno) + ")",
                path);
}

}  // namespace mmoe::cli
