// Inputs the fuzzers (tests/fuzz/) found trouble with, replayed as unit tests. Each case names the target
// and what went wrong; the same bytes are in the seed corpus so the fuzzers start from them too.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "mmoe/csv.h"
#include "mmoe/error.h"
#include "mmoe/features.h"
#include "mmoe/model_file.h"
#include "mmoe/schema.h"

namespace {

std::string write_temp(const std::string& name, const std::string& bytes) {
  const std::string p = (std::filesystem::temp_directory_path() /
                         ("mmoe_fuzzreg_" + std::to_string(::getpid()) + "_" + name)).string();
  std::ofstream(p, std::ios::binary) << bytes;
  return p;
}

// fuzz_csv: a 25-byte gzip file whose trailer claims 853 MB of text. The reader took the claim as its size
// estimate and read_table reserved column storage for ~10^8 rows (a multi-gigabyte allocation: a timeout
// under the fuzzer, "out of memory" and exit 1 for a user). A claim beyond deflate's 1032:1 limit is now
// ignored, and the file is refused as the truncated stream it is.
TEST(FuzzRegressions, CsvGzipTrailerClaimingHugeSizeIsNotTrusted) {
  const unsigned char bytes[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xab, 0x30,
                                 0xd4, 0xa9, 0x30, 0xd2, 0xa9, 0xe4, 0x32, 0xd4, 0x31, 0xd2, 0x31, 0xe4, 0x32};
  const std::string p = write_temp("isize.csv.gz", std::string(reinterpret_cast<const char*>(bytes), sizeof bytes));
  const mmoe::Schema schema = mmoe::Schema::plain({{"y", mmoe::TaskKind::binary, 1.0f}});
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_THROW(mmoe::read_table(p, schema), mmoe::Error);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 2.0);

  std::remove(p.c_str());
}

// fuzz_model_file: a model file (valid frame and checksum) whose JSON header holds a number beyond double
// range ("0.034e89659"). nlohmann::json throws out_of_range for it, not parse_error, and the container only
// caught the latter: the exception left the library as a plain std::exception, which the CLI reports as an
// internal error (exit 1) instead of a damaged file (exit 2). Now any JSON failure is a format error.
TEST(FuzzRegressions, ModelHeaderNumberBeyondDoubleIsAFormatError) {
  const std::string header = "{\"format\":\"mmoe-model\",\"meta\":0.034e89659}";
  std::vector<uint8_t> file(mmoe::kFileMagic, mmoe::kFileMagic + 8);
  auto put = [&](uint64_t x, int bytes) {
    for (int i = 0; i < bytes; ++i) file.push_back(static_cast<uint8_t>(x >> (8 * i)));
  };
  put(mmoe::kFormatVersion, 4);
  put(static_cast<uint32_t>(mmoe::FileKind::model), 4);
  put(header.size(), 8);
  file.insert(file.end(), header.begin(), header.end());
  put(crc32(crc32(0L, Z_NULL, 0), file.data(), static_cast<uInt>(file.size())), 4);
  file.insert(file.end(), mmoe::kFileEndMagic, mmoe::kFileEndMagic + 8);
  try {
    mmoe::load_model_bytes(file, "overflow.mmoe");
    ADD_FAILURE() << "the file was accepted";
  } catch (const mmoe::Error& e) {
    EXPECT_EQ(e.kind(), mmoe::ErrorKind::format) << e.what();
    EXPECT_NE(std::string(e.what()).find("overflow.mmoe@24 (header): malformed JSON header"), std::string::npos)
        << e.what();
  }
}

// fuzz_config (10-minute run, 2026-11-25): a schema whose only key is the empty string, `"" = "r"`. The
// unknown-key error was right but its location (the key) was empty, and every error must name a key or a
// position. It now carries the key's position.
TEST(FuzzRegressions, EmptyTopLevelSchemaKeyErrorNamesItsPosition) {
  try {
    (void)mmoe::Schema::from_toml("\"\"= \"r\"", "fuzz.toml");
    FAIL() << "an empty key was accepted";
  } catch (const mmoe::Error& e) {
    EXPECT_EQ(e.where(), "fuzz.toml:1:1");
    EXPECT_NE(std::string(e.what()).find("unknown key ''"), std::string::npos) << e.what();
  }
}

}  // namespace
