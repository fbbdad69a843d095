// The data module's one way to open a file for reading: the CSV reader's constructors and read_table's byte
// scans (the cuts between parts, the line count before a part) give the same error for a file they cannot open.
#pragma once

#include <cstdio>
#include <string>

namespace mmoe::detail {

// fopen(path, "rb"), or throws ErrorKind::io "cannot open file: <reason>" naming the path.
std::FILE* open_data_file(const std::string& path);

}  // namespace mmoe::detail
