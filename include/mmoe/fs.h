// mmoe/fs.h: whole-file reads and atomic writes.
//
// An atomic write goes to "<path>.tmp.<pid>", is flushed and fsync'ed, then renamed over <path> (and the
// directory fsync'ed), so a reader, or a crash at any moment, sees either the old file or the new one.
//
//   std::string text = mmoe::read_file("run.toml");          // throws ErrorKind::io naming the path
//   mmoe::write_file_atomic("metrics.json", json.dump(2));    // throws ErrorKind::io naming the path
#pragma once

#include <string>
#include <string_view>

namespace mmoe {

std::string read_file(const std::string& path);
void write_file_atomic(const std::string& path, std::string_view bytes);
bool file_exists(const std::string& path);

}  // namespace mmoe
