// bench_args.h: what the benchmark drivers (mmoe_throughput, gemm_ceiling) share to read their flags.
#pragma once

#include <cstdlib>
#include <string>
#include <vector>

namespace mmoe_bench {

// "1,32,256" -> {1, 32, 256}; empty items are skipped.
inline std::vector<int> parse_list(const std::string& s) {
  std::vector<int> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    const size_t comma = s.find(',', pos);
    const std::string item = s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (!item.empty()) out.push_back(std::atoi(item.c_str()));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

}  // namespace mmoe_bench
