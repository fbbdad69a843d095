// tests/shared_data.h: where the shared real-data samples (AliExpress, Ali-CCP, KuaiRand) are.
//
// They live in ../shared/data beside the checkout and are not part of the repository (their licences are not all
// verified for redistribution). A clone elsewhere finds them through MMOE_SHARED_DATA, which test.sh sets from
// the clone's origin; without either the tests that need them skip.
#pragma once

#include <cstdlib>
#include <string>

namespace mmoe::test {

inline std::string shared_data_dir() {
  if (const char* env = std::getenv("MMOE_SHARED_DATA"); env != nullptr && *env != '\0') return env;
  return std::string(MMOE_SOURCE_DIR) + "/../shared/data";
}

}  // namespace mmoe::test
