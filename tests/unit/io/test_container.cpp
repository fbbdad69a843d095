// The mmoe container (model_file.h): byte layout as documented, and refusal of every kind of bad file —
// truncated at every byte, a flipped byte at every position, wrong magic, newer version, crafted lengths
// and counts — always as mmoe::Error naming "path@byte (part)", never a crash or a huge allocation.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "mmoe/error.h"
#include "mmoe/model_file.h"
#include "error_capture.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A fresh directory per test, removed afterwards.
struct TempDir {
  fs::path dir;
  TempDir() {
    static int counter = 0;
    dir = fs::temp_directory_path() /
          ("mmoe_io_container_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string path(const std::string& name) const { return (dir / name).string(); }
};

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

uint32_t u32_at(const std::vector<uint8_t>& b, size_t at) {
  return uint32_t{b[at]} | uint32_t{b[at + 1]} << 8 | uint32_t{b[at + 2]} << 16 | uint32_t{b[at + 3]} << 24;
}
uint64_t u64_at(const std::vector<uint8_t>& b, size_t at) { return u32_at(b, at) | uint64_t{u32_at(b, at + 4)} << 32; }

void put_u32(std::vector<uint8_t>& b, uint32_t x) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(x >> (8 * i)));
}
void put_u64(std::vector<uint8_t>& b, uint64_t x) {
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(x >> (8 * i)));
}
void set_u32(std::vector<uint8_t>& b, size_t at, uint32_t x) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(x >> (8 * i));
}

// Recomputes the trailing CRC32 after a deliberate edit, so that a later check is the one that fires.
void fix_crc(std::vector<uint8_t>& b) {
  const size_t body = b.size() - 12;
  set_u32(b, body, static_cast<uint32_t>(crc32(0L, b.data(), static_cast<uInt>(body))));
}

// An independent writer of the documented layout, for crafting files the library would never write.
struct RawSection {
  std::string name;
  uint32_t dtype = 1;
  uint64_t count = 0;       // as written in the record
  std::vector<uint8_t> data;  // as written after the padding
};
std::vector<uint8_t> craft(uint32_t version, uint32_t kind, const std::string& header,
                           const std::vector<RawSection>& sections, uint64_t header_len_override = 0) {
  std::vector<uint8_t> b(mmoe::kFileMagic, mmoe::kFileMagic + 8);
  put_u32(b, version);
  put_u32(b, kind);
  put_u64(b, header_len_override ? header_len_override : header.size());
  b.insert(b.end(), header.begin(), header.end());
  for (const RawSection& s : sections) {
    put_u32(b, static_cast<uint32_t>(s.name.size()));
    b.insert(b.end(), s.name.begin(), s.name.end());
    put_u32(b, s.dtype);
    put_u64(b, s.count);
    while (b.size() % 64) b.push_back(0);
    b.insert(b.end(), s.data.begin(), s.data.end());
  }
  put_u32(b, 0);
  b.insert(b.end(), mmoe::kFileEndMagic, mmoe::kFileEndMagic + 8);
  fix_crc(b);
  return b;
}

using mmoe::test::expect_error;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A small two-section container: an f32 array and a u8 array of odd length.
std::string write_sample(const TempDir& tmp, const std::string& name = "sample.mmoe") {
  static const std::vector<float> floats = {1.0f, -2.5f, 3.25f, 1e-30f, -0.0f};
  static const std::vector<uint8_t> raw = {1, 2, 3};
  const std::string path = tmp.path(name);
  mmoe::write_container(path, mmoe::FileKind::model, json{{"format", "test"}, {"note", "h\u00e9llo"}},
                        {{"floats", mmoe::DType::f32, floats.data(), floats.size()},
                         {"raw", mmoe::DType::u8, raw.data(), raw.size()}});
  return path;
}

TEST(Container, RoundTripAndDocumentedLayout) {
  TempDir tmp;
  const std::string path = write_sample(tmp);
  const std::vector<uint8_t> b = read_bytes(path);
  ASSERT_GE(b.size(), 36u);
  EXPECT_EQ(std::memcmp(b.data(), "MMOEFILE", 8), 0);
  EXPECT_EQ(u32_at(b, 8), mmoe::kFormatVersion);
  EXPECT_EQ(u32_at(b, 12), 1u);  // model
  const uint64_t header_len = u64_at(b, 16);
  const json header = json::parse(b.begin() + 24, b.begin() + 24 + static_cast<long>(header_len));
  EXPECT_EQ(header["note"], "h\u00e9llo");
  ASSERT_EQ(header["sections"].size(), 2u);
  // First record right after the header: name length, name, dtype, count, padding, data at a 64-multiple.
  size_t at = 24 + header_len;
  EXPECT_EQ(u32_at(b, at), 6u);
  EXPECT_EQ(std::string(b.begin() + static_cast<long>(at) + 4, b.begin() + static_cast<long>(at) + 10), "floats");
  EXPECT_EQ(u32_at(b, at + 10), 1u);
  EXPECT_EQ(u64_at(b, at + 14), 5u);
  const uint64_t data_at = header["sections"][0]["offset"].get<uint64_t>();
  EXPECT_EQ(data_at % 64, 0u);
  EXPECT_GE(data_at, at + 22);
  EXPECT_LT(data_at, at + 22 + 64);
  float first;
  std::memcpy(&first, b.data() + data_at, 4);
  EXPECT_EQ(first, 1.0f);
  EXPECT_EQ(header["sections"][1]["offset"].get<uint64_t>() % 64, 0u);
  // Trailer: CRC32 of everything before it, then the end magic.
  EXPECT_EQ(std::memcmp(b.data() + b.size() - 8, "MMOE_END", 8), 0);
  EXPECT_EQ(u32_at(b, b.size() - 12), static_cast<uint32_t>(crc32(0L, b.data(), static_cast<uInt>(b.size() - 12))));

  const mmoe::Container c = mmoe::read_container(path, mmoe::FileKind::model);
  EXPECT_EQ(c.version, 1u);
  EXPECT_EQ(c.header["format"], "test");
  const std::vector<float> floats = c.read_f32("floats");
  ASSERT_EQ(floats.size(), 5u);
  EXPECT_EQ(floats[3], 1e-30f);
  EXPECT_TRUE(std::signbit(floats[4]));
  const mmoe::Section& raw = c.section("raw", mmoe::DType::u8);
  EXPECT_EQ(raw.count, 3u);
  EXPECT_EQ(c.data(raw)[2], 3);
  EXPECT_EQ(c.find("nope"), nullptr);
  expect_error([&] { c.section("raw", mmoe::DType::f32); }, mmoe::ErrorKind::format);
  expect_error([&] { c.section("nope", mmoe::DType::f32); }, mmoe::ErrorKind::format);
  std::vector<float> wrong(4);
  expect_error([&] { c.copy_f32("floats", wrong); }, mmoe::ErrorKind::format);
}

TEST(Container, EmptySectionsAndNoSections) {
  TempDir tmp;
  const std::string path = tmp.path("empty_sections.mmoe");
  mmoe::write_container(path, mmoe::FileKind::checkpoint, json::object(), {{"none", mmoe::DType::f32, nullptr, 0}});
  const mmoe::Container c = mmoe::read_container(path);
  EXPECT_EQ(c.kind, mmoe::FileKind::checkpoint);
  EXPECT_TRUE(c.read_f32("none").empty());
  mmoe::write_container(path, mmoe::FileKind::model, json::object(), {});
  EXPECT_TRUE(mmoe::read_container(path).sections.empty());
}

TEST(Container, TruncatedAtEveryByteIsAFormatError) {
  TempDir tmp;
  const std::string path = write_sample(tmp);
  const std::vector<uint8_t> full = read_bytes(path);
  const std::string cut = tmp.path("cut.mmoe");
  for (size_t len = 0; len < full.size(); ++len) {
    write_bytes(cut, std::vector<uint8_t>(full.begin(), full.begin() + static_cast<long>(len)));
    const mmoe::Error e = expect_error([&] { mmoe::read_container(cut); }, mmoe::ErrorKind::format);
    const std::string msg = e.message();
    EXPECT_TRUE(len == 0 ? contains(msg, "empty file") : contains(msg, "truncated")) << "length " << len << ": " << msg;
    EXPECT_TRUE(e.where().rfind(cut + "@", 0) == 0) << e.where();
  }
}

TEST(Container, TruncationNamesTheByteAndPart) {
  TempDir tmp;
  const std::string path = write_sample(tmp);
  const std::vector<uint8_t> full = read_bytes(path);
  const mmoe::Container c = mmoe::read_container(path);
  const std::string cut = tmp.path("cut.mmoe");
  // Cut in the middle of the first section's data.
  const size_t len = c.sections[0].offset + 6;
  write_bytes(cut, std::vector<uint8_t>(full.begin(), full.begin() + static_cast<long>(len)));
  const mmoe::Error e = expect_error([&] { mmoe::read_container(cut); }, mmoe::ErrorKind::format);
  EXPECT_EQ(e.where(), cut + "@" + std::to_string(len) + " (section floats)");
  EXPECT_TRUE(contains(e.message(), "section 'floats'")) << e.message();
  // Cut inside the JSON header.
  write_bytes(cut, std::vector<uint8_t>(full.begin(), full.begin() + 40));
  const mmoe::Error h = expect_error([&] { mmoe::read_container(cut); }, mmoe::ErrorKind::format);
  EXPECT_EQ(h.where(), cut + "@40 (header)");
}

TEST(Container, FlippedByteAnywhereIsRefused) {
  TempDir tmp;
  const std::string path = write_sample(tmp);
  const std::vector<uint8_t> good = read_bytes(path);
  const std::string bad = tmp.path("bad.mmoe");
  for (uint8_t mask : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xff}}) {
    for (size_t i = 0; i < good.size(); ++i) {
      std::vector<uint8_t> b = good;
      b[i] ^= mask;
      write_bytes(bad, b);
      const mmoe::Error e = expect_error([&] { mmoe::read_container(bad); }, mmoe::ErrorKind::format);
      const std::string msg = e.message();
      std::string expected;
      if (i < 8) expected = "not an mmoe model file";
      else if (i < 12) expected = "format version";
      else if (i >= good.size() - 8) expected = "end marker";
      else expected = "checksum mismatch";
      EXPECT_TRUE(contains(msg, expected)) << "byte " << i << " mask " << int(mask) << ": " << msg;
    }
  }
}

TEST(Container, WrongMagicAndEmptyFile) {
  TempDir tmp;
  const std::string path = tmp.path("x.csv");
  write_bytes(path, {'a', ',', 'b', '\n', '1', ',', '2', '\n', '3', ',', '4', '\n'});
  mmoe::Error e = expect_error([&] { mmoe::read_container(path); }, mmoe::ErrorKind::format);
  EXPECT_TRUE(contains(e.message(), "not an mmoe model file")) << e.message();
  EXPECT_EQ(e.where(), path + "@0 (magic)");
  write_bytes(path, {'M', 'X'});
  e = expect_error([&] { mmoe::read_container(path); }, mmoe::ErrorKind::format);
  EXPECT_TRUE(contains(e.message(), "not an mmoe model file")) << e.message();
  write_bytes(path, {});
  e = expect_error([&] { mmoe::read_container(path); }, mmoe::ErrorKind::format);
  EXPECT_TRUE(contains(e.message(), "empty file")) << e.message();
}

TEST(Container, NewerVersionIsReportedAsSuchEvenWithAValidChecksum) {
  TempDir tmp;
  const std::string path = write_sample(tmp);
  std::vector<uint8_t> b = read_bytes(path);
  set_u32(b, 8, 2);
  fix_crc(b);
  write_bytes(path, b);
  mmoe::Error e = expect_error([&] { mmoe::read_container(path); }, mmoe::ErrorKind::format);
  EXPECT_EQ(e.message(), "written by a newer mmoe: format version 2, this build reads up to 1");
  EXPECT_EQ(e.where(), path + "@8 (format version)");
  EXPECT_FALSE(e.hint().empty());
  // A future version may change everything after the version field; it is still named as a newer version.
  std::vector<uint8_t> future(mmoe::kFileMagic, mmoe::kFileMagic + 8);
  put_u32(future, 7);
  future.insert(future.end(), {'?', '?', '?'});
  write_bytes(path, future);
  e = expect_error([&] { mmoe::read_container(path); }, mmoe::ErrorKind::format);
  EXPECT_TRUE(contains(e.message(), "format version 7")) << e.message();
}

TEST(Container, WrongKind) {
  TempDir tmp;
  const std::string path = write_sample(tmp);  // a model-kind container
  mmoe::Error e = expect_error([&] { mmoe::read_container(path, mmoe::FileKind::checkpoint); }, mmoe::ErrorKind::format);
  EXPECT_EQ(e.message(), "this is an mmoe model file, not a checkpoint");
  EXPECT_EQ(e.where(), path + "@12 (file kind)");
  std::vector<uint8_t> b = read_bytes(path);
  set_u32(b, 12, 9);
  fix_crc(b);
  write_bytes(path, b);
  e = expect_error([&] { mmoe::read_container(path); }, mmoe::ErrorKind::format);
  EXPECT_TRUE(contains(e.message(), "unknown file kind 9")) << e.message();
}

TEST(Container, IoErrorsNameThePath) {
  TempDir tmp;
  const std::string missing = tmp.path("missing.mmoe");
  mmoe::Error e = expect_error([&] { mmoe::read_container(missing); }, mmoe::ErrorKind::io);
  EXPECT_EQ(e.where(), missing);
  e = expect_error([&] { mmoe::read_container(tmp.dir.string()); }, mmoe::ErrorKind::io);
  EXPECT_EQ(e.where(), tmp.dir.string());
  EXPECT_TRUE(contains(e.message(), "directory")) << e.message();

  const std::string no_dir = tmp.path("no/such/dir/model.mmoe");
  e = expect_error([&] { mmoe::write_container(no_dir, mmoe::FileKind::model, json::object(), {}); },
                   mmoe::ErrorKind::io);
  EXPECT_EQ(e.where(), no_dir);
  // The target is a directory: the temporary file is written, the rename fails, the temporary is removed.
  fs::create_directory(tmp.path("adir"));
  e = expect_error([&] { mmoe::write_container(tmp.path("adir"), mmoe::FileKind::model, json::object(), {}); },
                   mmoe::ErrorKind::io);
  EXPECT_EQ(e.where(), tmp.path("adir"));
  for (const auto& entry : fs::directory_iterator(tmp.dir))
    EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << entry.path();
}

TEST(Container, AtomicWriteLeavesNoTempFileAndKeepsOldFileOnFailure) {
  TempDir tmp;
  const std::string path = write_sample(tmp, "model.mmoe");
  write_sample(tmp, "model.mmoe");  // overwrite in place
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(tmp.dir)) names.push_back(entry.path().filename().string());
  EXPECT_EQ(names, std::vector<std::string>{"model.mmoe"});
  const std::vector<uint8_t> old = read_bytes(path);

  // Make the write fail half-way: a file size limit turns write() into EFBIG (even for root).
  const std::vector<float> big(1 << 16, 0.5f);
  auto previous_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  rlimit limited = saved;
  limited.rlim_cur = 4096;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limited), 0);
  mmoe::Error e = expect_error(
      [&] {
        mmoe::write_container(path, mmoe::FileKind::model, json::object(),
                              {{"big", mmoe::DType::f32, big.data(), big.size()}});
      },
      mmoe::ErrorKind::io);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &saved), 0);
  std::signal(SIGXFSZ, previous_handler);
  EXPECT_EQ(e.where(), path);
  EXPECT_EQ(read_bytes(path), old);
  names.clear();
  for (const auto& entry : fs::directory_iterator(tmp.dir)) names.push_back(entry.path().filename().string());
  EXPECT_EQ(names, std::vector<std::string>{"model.mmoe"});
  EXPECT_NO_THROW(mmoe::read_container(path));
}

// ---- crafted files: valid checksum and end marker, lying lengths ------------------------------------------

std::string sections_json(const std::vector<RawSection>& sections, size_t header_len) {
  json table = json::array();
  uint64_t pos = 24 + header_len;
  for (const RawSection& s : sections) {
    pos += 16 + s.name.size();
    pos += (64 - pos % 64) % 64;
    table.push_back({{"name", s.name}, {"dtype", s.dtype == 1 ? "f32" : s.dtype == 2 ? "i32" : "u8"},
                     {"count", s.count}, {"offset", pos}});
    pos += s.data.size();
  }
  return table.dump();
}

mmoe::Error read_crafted(const TempDir& tmp, const std::vector<uint8_t>& bytes) {
  const std::string path = tmp.path("crafted.mmoe");
  write_bytes(path, bytes);
  return expect_error([&] { mmoe::read_container(path); }, mmoe::ErrorKind::format);
}

TEST(Container, CraftedWellFormedFileIsAccepted) {
  // The independent crafter agrees with the reader: a sanity check for the tests below.
  TempDir tmp;
  std::vector<RawSection> secs = {{"a", 1, 2, std::vector<uint8_t>(8, 0)}};
  std::string header;
  for (size_t len = 0;;) {  // fixed point of the header length, as the writer does
    header = "{\"sections\":" + sections_json(secs, len) + "}";
    if (header.size() == len) break;
    len = header.size();
  }
  const std::string path = tmp.path("ok.mmoe");
  write_bytes(path, craft(1, 1, header, secs));
  EXPECT_EQ(mmoe::read_container(path).read_f32("a").size(), 2u);
}

TEST(Container, CraftedHugeLengthsAreRefusedWithoutAllocating) {
  TempDir tmp;
  const std::vector<uint8_t> f(8, 0);
  // A section claiming 2^60 floats.
  mmoe::Error e = read_crafted(tmp, craft(1, 1, "{}", {{"params", 1, uint64_t{1} << 60, f}}));
  EXPECT_TRUE(contains(e.message(), "claims")) << e.message();
  EXPECT_TRUE(contains(e.where(), "(section params)")) << e.where();
  // A count whose byte size overflows 64 bits.
  e = read_crafted(tmp, craft(1, 1, "{}", {{"params", 1, ~uint64_t{0}, f}}));
  EXPECT_TRUE(contains(e.message(), "claims")) << e.message();
  // A header of 2^62 bytes, and one longer than the file but under the cap.
  e = read_crafted(tmp, craft(1, 1, "{}", {}, uint64_t{1} << 62));
  EXPECT_TRUE(contains(e.message(), "exceeds the limit")) << e.message();
  EXPECT_EQ(e.where(), tmp.path("crafted.mmoe") + "@16 (header length)");
  e = read_crafted(tmp, craft(1, 1, "{}", {}, 1000));
  EXPECT_TRUE(contains(e.message(), "needs 1000 bytes")) << e.message();
  // A name length of 2^31 and of 0, an unknown dtype.
  std::vector<uint8_t> b = craft(1, 1, "{}", {{"x", 1, 0, {}}});
  set_u32(b, 24 + 2, 0x80000000u);
  fix_crc(b);
  e = read_crafted(tmp, b);
  EXPECT_TRUE(contains(e.message(), "name length")) << e.message();
  set_u32(b, 24 + 2, 0);
  fix_crc(b);
  e = read_crafted(tmp, b);
  EXPECT_TRUE(contains(e.message(), "name length")) << e.message();
  e = read_crafted(tmp, craft(1, 1, "{}", {{"x", 7, 0, {}}}));
  EXPECT_TRUE(contains(e.message(), "unknown dtype 7")) << e.message();
}

TEST(Container, CraftedHeaderProblems) {
  TempDir tmp;
  mmoe::Error e = read_crafted(tmp, craft(1, 1, "{\"a\": [1, 2", {}));
  EXPECT_TRUE(contains(e.message(), "malformed JSON header")) << e.message();
  EXPECT_TRUE(contains(e.where(), "(header)")) << e.where();
  e = read_crafted(tmp, craft(1, 1, "[1, 2]", {}));
  EXPECT_TRUE(contains(e.message(), "not an object")) << e.message();
  e = read_crafted(tmp, craft(1, 1, "{}", {}));
  EXPECT_TRUE(contains(e.message(), "no \"sections\"")) << e.message();
  // The header's section table disagrees with the records: a count, then the number of sections.
  std::vector<RawSection> secs = {{"a", 1, 2, std::vector<uint8_t>(8, 0)}};
  std::string header;
  for (size_t len = 0;;) {
    header = "{\"sections\":" + sections_json(secs, len) + "}";
    if (header.size() == len) break;
    len = header.size();
  }
  secs[0].count = 1;
  secs[0].data.resize(4);
  e = read_crafted(tmp, craft(1, 1, header, secs));
  EXPECT_TRUE(contains(e.message(), "disagrees")) << e.message();
  EXPECT_TRUE(contains(e.where(), "(section a)")) << e.where();
  e = read_crafted(tmp, craft(1, 1, "{\"sections\":[]}", secs));
  EXPECT_TRUE(contains(e.message(), "lists 0 sections")) << e.message();
  // Duplicate names.
  e = read_crafted(tmp, craft(1, 1, "{}", {{"a", 1, 0, {}}, {"a", 1, 0, {}}}));
  EXPECT_TRUE(contains(e.message(), "duplicate")) << e.message();
}

}  // namespace
