// The mmoe container: a preamble, a JSON header, aligned typed sections, CRC32 and an end marker (the byte
// layout is in include/mmoe/model_file.h). Reading is bounds-checked everywhere: a length read from the file
// is compared with the bytes that remain before it is used for anything, so a hostile file costs at most its
// own size in memory. Writing goes through a temporary file and a rename, so `path` is never half-written.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include "mmoe/error.h"
#include "mmoe/model_file.h"

namespace mmoe {

// Section data is written as the host's bytes; the format says little-endian.
static_assert(std::endian::native == std::endian::little, "the mmoe container writer assumes a little-endian host");

const char* to_string(FileKind kind) {
  switch (kind) {
    case FileKind::model: return "model file";
    case FileKind::checkpoint: return "checkpoint";
  }
  return "?";
}

const char* to_string(DType dtype) {
  switch (dtype) {
    case DType::f32: return "f32";
    case DType::i32: return "i32";
    case DType::u8: return "u8";
  }
  return "?";
}

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::f32: return 4;
    case DType::i32: return 4;
    case DType::u8: return 1;
  }
  return 0;
}

namespace {

bool valid_dtype(uint32_t code) { return code >= 1 && code <= 3; }

// zlib's crc32 takes a 32-bit length; feed it in chunks so multi-GiB arenas work too.
uLong crc_update(uLong crc, const void* data, uint64_t n) {
  const Bytef* p = static_cast<const Bytef*>(data);
  while (n > 0) {
    const uInt chunk = static_cast<uInt>(std::min<uint64_t>(n, uint64_t{1} << 30));
    crc = crc32(crc, p, chunk);
    p += chunk;
    n -= chunk;
  }
  return crc;
}

uint64_t pad_to_alignment(uint64_t pos) { return (kAlignment - pos % kAlignment) % kAlignment; }

uint32_t get_u32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
uint64_t get_u64(const uint8_t* p) { return uint64_t{get_u32(p)} | uint64_t{get_u32(p + 4)} << 32; }

// The first bytes of a file, printable, for "it starts with ..." messages.
std::string printable(const uint8_t* p, size_t n) {
  std::string out = "\"";
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = p[i];
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out + "\"";
}

std::string hex32(uint32_t x) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", x);
  return buf;
}

std::string errno_text(int err) { return std::strerror(err); }

// ---- reading the file --------------------------------------------------------------------------------------

std::vector<uint8_t> read_whole_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    throw Error(ErrorKind::io, "cannot open the file: " + errno_text(err), path,
                err == ENOENT ? "check the path; model files are written by `mmoe train`" : "");
  }
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw Error(ErrorKind::io, "cannot stat the file: " + errno_text(errno), path);
  if (S_ISDIR(st.st_mode)) throw Error(ErrorKind::io, "is a directory, not a model file", path);
  if (!S_ISREG(st.st_mode)) throw Error(ErrorKind::io, "is not a regular file", path);
  // st_size is the real size of a file on disk, so this allocation is bounded by what exists.
  std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + got, bytes.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(ErrorKind::io, "cannot read the file: " + errno_text(errno), path);
    }
    if (n == 0) break;  // shrank while we read it
    got += static_cast<size_t>(n);
  }
  bytes.resize(got);
  return bytes;
}

// Walks the frame after the preamble's version field: kind, header, section records, up to `limit`.
// In `diagnosing` mode the file is known to lack its end marker, and the walk only finds out where the
// bytes run out, so that a truncated file is reported at the byte and part where it ends.
class Walker {
 public:
  Walker(Container& c, uint64_t limit, bool diagnosing, const FileKind* expected = nullptr)
      : c_(c), b_(c.bytes.data()), limit_(limit), diagnosing_(diagnosing), expected_(expected) {}

  void run() {
    pos_ = 12;
    need(4, "kind");
    const uint32_t kind = get_u32(b_ + pos_);
    if (!diagnosing_ && kind != 1 && kind != 2)
      fail(pos_, "file kind", "unknown file kind " + std::to_string(kind) + " (1 = model, 2 = checkpoint)");
    c_.kind = static_cast<FileKind>(kind);
    if (!diagnosing_ && expected_ && c_.kind != *expected_) wrong_kind();
    pos_ += 4;

    need(8, "header length");
    const uint64_t header_len = get_u64(b_ + pos_);
    if (header_len > kMaxHeaderBytes)
      fail(pos_, "header length",
           "header length " + std::to_string(header_len) + " exceeds the limit of " +
               std::to_string(kMaxHeaderBytes) + " bytes");
    pos_ += 8;
    need(header_len, "header");
    if (!diagnosing_) parse_header(header_len);
    else check_expected_size(header_len);
    pos_ += header_len;

    std::set<std::string> names;
    for (size_t i = 0; pos_ < limit_; ++i) {
      if (diagnosing_ && expected_size_ && pos_ == expected_size_ - kTrailerBytes) break;
      const std::string record = "section #" + std::to_string(i);
      need(4, record + " name length");
      const uint32_t name_len = get_u32(b_ + pos_);
      if (name_len == 0 || name_len > kMaxSectionName)
        fail(pos_, record + " name length",
             "section name length " + std::to_string(name_len) + " is outside 1.." + std::to_string(kMaxSectionName));
      pos_ += 4;
      need(name_len, record + " name");
      Section s;
      s.name.assign(reinterpret_cast<const char*>(b_ + pos_), name_len);
      pos_ += name_len;
      const std::string part = "section " + s.name;
      if (!diagnosing_ && !names.insert(s.name).second) fail(pos_ - name_len, part, "duplicate section name");
      need(4, part + " dtype");
      const uint32_t dtype = get_u32(b_ + pos_);
      if (!valid_dtype(dtype)) fail(pos_, part, "unknown dtype " + std::to_string(dtype) + " (1 = f32, 2 = i32, 3 = u8)");
      s.dtype = static_cast<DType>(dtype);
      pos_ += 4;
      need(8, part + " element count");
      s.count = get_u64(b_ + pos_);
      pos_ += 8;
      need(pad_to_alignment(pos_), part + " alignment padding");
      pos_ += pad_to_alignment(pos_);
      // count * size may overflow: compare count with what the remaining bytes can hold instead.
      const uint64_t esize = dtype_size(s.dtype);
      if (s.count > (limit_ - pos_) / esize) {
        if (diagnosing_)
          throw Error(ErrorKind::format,
                      "truncated: the file ends at byte " + std::to_string(limit_) + " inside the data of section '" +
                          s.name + "' (" + std::to_string(s.count) + " " + to_string(s.dtype) +
                          " elements from byte " + std::to_string(pos_) + ")" + complete_size(),
                      c_.where(limit_, part));
        fail(pos_, part,
             "section '" + s.name + "' claims " + std::to_string(s.count) + " " + to_string(s.dtype) +
                 " elements, but only " + std::to_string(limit_ - pos_) + " bytes remain before the checksum");
      }
      s.offset = pos_;
      pos_ += s.count * esize;
      if (!diagnosing_) c_.sections.push_back(std::move(s));
    }
    if (diagnosing_ && expected_size_)
      throw Error(ErrorKind::format,
                  "truncated: the file ends at byte " + std::to_string(limit_) +
                      (limit_ == pos_ ? ", before" : " inside") + " the checksum and end marker \"MMOE_END\"" +
                      complete_size(),
                  c_.where(limit_, "trailer"));
    if (diagnosing_)
      throw Error(ErrorKind::format,
                  "truncated: the file ends at byte " + std::to_string(limit_) +
                      " where another section or the checksum and end marker \"MMOE_END\" should follow",
                  c_.where(limit_, "trailer"));
  }

 private:
  void need(uint64_t n, const std::string& part) {
    if (n <= limit_ - pos_) return;
    if (diagnosing_)
      throw Error(ErrorKind::format,
                  "truncated: the file ends at byte " + std::to_string(limit_) + " inside the " + part + " (" +
                      std::to_string(n) + " bytes from byte " + std::to_string(pos_) + ", only " +
                      std::to_string(limit_ - pos_) + " there)" + complete_size(),
                  c_.where(limit_, part));
    fail(pos_, part,
         "the " + part + " needs " + std::to_string(n) + " bytes, but only " + std::to_string(limit_ - pos_) +
             " remain before the checksum");
  }

  std::string complete_size() const {
    return expected_size_ ? "; the complete file is " + std::to_string(expected_size_) + " bytes" : "";
  }

  [[noreturn]] void fail(uint64_t at, const std::string& part, const std::string& message) {
    if (diagnosing_)  // nonsense where a length should be: not a clean cut, so say both
      throw Error(ErrorKind::format,
                  "truncated or damaged: the file does not end with \"MMOE_END\", and at byte " + std::to_string(at) +
                      ": " + message,
                  c_.where(at, part));
    throw Error(ErrorKind::format, message, c_.where(at, part));
  }

  // Diagnosing: when the header survived, its section table says how long the file should be. A file of
  // that length (or longer) is not truncated, its end marker is damaged; a shorter one is walked further.
  void check_expected_size(uint64_t header_len) {
    const char* text = reinterpret_cast<const char*>(b_ + pos_);
    const nlohmann::json h = nlohmann::json::parse(text, text + header_len, nullptr, /*allow_exceptions=*/false);
    if (!h.is_object() || !h.contains("sections") || !h["sections"].is_array()) return;
    uint64_t expected = pos_ + header_len;
    for (const nlohmann::json& e : h["sections"]) {
      if (!e.is_object() || !e.contains("offset") || !e["offset"].is_number_unsigned() || !e.contains("count") ||
          !e["count"].is_number_unsigned() || !e.contains("dtype") || !e["dtype"].is_string())
        return;
      const std::string dtype = e["dtype"].get<std::string>();
      const uint64_t esize = dtype == "u8" ? 1 : 4, offset = e["offset"].get<uint64_t>(), count = e["count"].get<uint64_t>();
      if (offset > limit_ + (uint64_t{1} << 40) || count > (uint64_t{1} << 60)) return;  // nonsense: no estimate
      expected = std::max(expected, offset + count * esize);
    }
    expected += kTrailerBytes;
    if (limit_ < expected) {
      expected_size_ = expected;
      return;
    }
    if (limit_ == expected)
      throw Error(ErrorKind::format,
                  "damaged: the end marker should be \"MMOE_END\" but is " + printable(b_ + limit_ - 8, 8),
                  c_.where(limit_ - 8, "end magic"));
    throw Error(ErrorKind::format,
                "damaged: the file should end with \"MMOE_END\" at byte " + std::to_string(expected) + " but is " +
                    std::to_string(limit_) + " bytes long",
                c_.where(expected, "end magic"));
  }

  void parse_header(uint64_t header_len) {
    const char* text = reinterpret_cast<const char*>(b_ + pos_);
    try {
      c_.header = nlohmann::json::parse(text, text + header_len);
    } catch (const nlohmann::json::parse_error& e) {
      const uint64_t at = pos_ + (e.byte > 0 ? std::min<uint64_t>(e.byte - 1, header_len) : 0);
      throw Error(ErrorKind::format, std::string("malformed JSON header: ") + e.what(), c_.where(at, "header"));
    } catch (const nlohmann::json::exception& e) {
      // Not only syntax: a number too large for a double ("1e999") throws out_of_range (found by fuzzing).
      throw Error(ErrorKind::format, std::string("malformed JSON header: ") + e.what(), c_.where(pos_, "header"));
    }
    if (!c_.header.is_object())
      throw Error(ErrorKind::format, "the JSON header is not an object", c_.where(pos_, "header"));
  }

  [[noreturn]] void wrong_kind() {
    const bool is_ckpt = c_.kind == FileKind::checkpoint;
    throw Error(ErrorKind::format,
                std::string("this is an mmoe ") + to_string(c_.kind) + ", not a" +
                    (*expected_ == FileKind::model ? " model file" : " checkpoint"),
                c_.where(12, "file kind"),
                is_ckpt ? "a checkpoint resumes training (load_checkpoint); the final model is saved separately"
                        : "a model file cannot resume training; give a checkpoint written during training");
  }

  Container& c_;
  const uint8_t* b_;
  uint64_t limit_;
  uint64_t pos_ = 0;
  bool diagnosing_;
  const FileKind* expected_;
  uint64_t expected_size_ = 0;  // diagnosing: the full file size the intact header implies, 0 = unknown
};

// The header's "sections" table must list the same sections as the records, in order.
void cross_check_sections(const Container& c) {
  const auto it = c.header.find("sections");
  const std::string where = c.where(c.header_offset(), "header");
  if (it == c.header.end() || !it->is_array())
    throw Error(ErrorKind::format, "the JSON header has no \"sections\" array", where);
  if (it->size() != c.sections.size())
    throw Error(ErrorKind::format,
                "the JSON header lists " + std::to_string(it->size()) + " sections, the file holds " +
                    std::to_string(c.sections.size()),
                where);
  for (size_t i = 0; i < c.sections.size(); ++i) {
    const nlohmann::json& e = (*it)[i];
    const Section& s = c.sections[i];
    const bool agree = e.is_object() && e.contains("name") && e["name"].is_string() &&
                       e["name"].get<std::string>() == s.name && e.contains("dtype") && e["dtype"].is_string() &&
                       e["dtype"].get<std::string>() == to_string(s.dtype) && e.contains("count") &&
                       e["count"].is_number_unsigned() && e["count"].get<uint64_t>() == s.count &&
                       e.contains("offset") && e["offset"].is_number_unsigned() &&
                       e["offset"].get<uint64_t>() == s.offset;
    if (!agree)
      throw Error(ErrorKind::format,
                  "the JSON header's entry " + e.dump() + " disagrees with the section record (name '" + s.name +
                      "', dtype " + to_string(s.dtype) + ", count " + std::to_string(s.count) + ", offset " +
                      std::to_string(s.offset) + ")",
                  c.where(s.offset, "section " + s.name));
  }
}

// ---- writing -----------------------------------------------------------------------------------------------

void put_u32(std::string& out, uint32_t x) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((x >> (8 * i)) & 0xff));
}
void put_u64(std::string& out, uint64_t x) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((x >> (8 * i)) & 0xff));
}

// Streams bytes to the temporary file while keeping the running CRC.
class TempFile {
 public:
  TempFile(const std::string& path) : path_(path), tmp_(path + ".tmp." + std::to_string(::getpid())) {
    file_ = std::fopen(tmp_.c_str(), "wb");
    if (!file_) fail("cannot create the temporary file " + tmp_);
    created_ = true;
  }
  ~TempFile() {
    if (file_) std::fclose(file_);
    if (created_) std::remove(tmp_.c_str());
  }

  void put(const void* data, uint64_t n) {
    if (n == 0) return;
    if (std::fwrite(data, 1, n, file_) != n) fail("cannot write " + tmp_);
    crc_ = crc_update(crc_, data, n);
    pos_ += n;
  }
  void put(const std::string& s) { put(s.data(), s.size()); }
  uint64_t pos() const { return pos_; }
  uint32_t crc() const { return static_cast<uint32_t>(crc_); }

  // fflush + fsync + close + rename over `path` + fsync of the directory.
  void commit() {
    if (std::fflush(file_) != 0) fail("cannot write " + tmp_);
    if (::fsync(::fileno(file_)) != 0) fail("cannot sync " + tmp_);
    FILE* f = file_;
    file_ = nullptr;
    if (std::fclose(f) != 0) fail("cannot close " + tmp_);
    if (std::rename(tmp_.c_str(), path_.c_str()) != 0) fail("cannot rename " + tmp_ + " over the file");
    created_ = false;
    // Make the rename itself durable. Best effort: the file is complete and in place either way, and some
    // file systems refuse fsync on directories.
    const size_t slash = path_.find_last_of('/');
    const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path_.substr(0, slash);
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      (void)::fsync(dfd);
      ::close(dfd);
    }
  }

 private:
  [[noreturn]] void fail(const std::string& what) {
    const int err = errno;
    throw Error(ErrorKind::io, "cannot write the file (" + what + ": " + errno_text(err) + ")", path_,
                err == ENOENT ? "does the directory exist?" : "");
  }

  std::string path_, tmp_;
  FILE* file_ = nullptr;
  bool created_ = false;
  uLong crc_ = crc32(0L, Z_NULL, 0);
  uint64_t pos_ = 0;
};

}  // namespace

// ---- Container ---------------------------------------------------------------------------------------------

const Section* Container::find(const std::string& name) const {
  for (const Section& s : sections)
    if (s.name == name) return &s;
  return nullptr;
}

const Section& Container::section(const std::string& name, DType dtype) const {
  const Section* s = find(name);
  if (!s) throw Error(ErrorKind::format, "the file has no section '" + name + "'", where(header_offset(), "header"));
  if (s->dtype != dtype)
    throw Error(ErrorKind::format,
                "section '" + name + "' has dtype " + to_string(s->dtype) + ", expected " + to_string(dtype),
                where(s->offset, "section " + name));
  return *s;
}

std::span<const uint8_t> Container::data(const Section& s) const {
  return {bytes.data() + s.offset, static_cast<size_t>(s.count * dtype_size(s.dtype))};
}

void Container::copy_f32(const std::string& name, std::span<float> out) const {
  const Section& s = section(name, DType::f32);
  if (s.count != out.size())
    throw Error(ErrorKind::format,
                "section '" + name + "' holds " + std::to_string(s.count) + " floats, expected " +
                    std::to_string(out.size()),
                where(s.offset, "section " + name));
  if (!out.empty()) std::memcpy(out.data(), bytes.data() + s.offset, out.size() * sizeof(float));
}

std::vector<float> Container::read_f32(const std::string& name) const {
  const Section& s = section(name, DType::f32);
  std::vector<float> out(static_cast<size_t>(s.count));  // bounded: the section lies inside the file
  copy_f32(name, out);
  return out;
}

std::string Container::where(uint64_t offset, const std::string& part) const {
  return path + "@" + std::to_string(offset) + " (" + part + ")";
}

// ---- read / write ------------------------------------------------------------------------------------------

static Container read_impl(std::vector<uint8_t> bytes, const std::string& path, const FileKind* expected) {
  Container c;
  c.path = path;
  c.bytes = std::move(bytes);
  const uint8_t* b = c.bytes.data();
  const uint64_t size = c.bytes.size();

  // 1. magic
  if (size == 0) throw Error(ErrorKind::format, "empty file (0 bytes): not an mmoe model file", c.where(0, "magic"));
  const size_t head = static_cast<size_t>(std::min<uint64_t>(size, 8));
  if (std::memcmp(b, kFileMagic, head) != 0)
    throw Error(ErrorKind::format,
                "not an mmoe model file: it starts with " + printable(b, head) + ", not \"MMOEFILE\"",
                c.where(0, "magic"), "mmoe model files and checkpoints start with the 8 bytes \"MMOEFILE\"");
  if (size < 12)
    throw Error(ErrorKind::format,
                "truncated: the file is only " + std::to_string(size) + " bytes and ends inside the " +
                    (size < 8 ? "magic" : "format version"),
                c.where(size, size < 8 ? "magic" : "format version"));

  // 2. version, before the checksum: a newer format may place or compute its checksum differently.
  c.version = get_u32(b + 8);
  if (c.version > kFormatVersion)
    throw Error(ErrorKind::format,
                "written by a newer mmoe: format version " + std::to_string(c.version) + ", this build reads up to " +
                    std::to_string(kFormatVersion),
                c.where(8, "format version"), "upgrade mmoe to read this file");
  if (c.version == 0)
    throw Error(ErrorKind::format, "invalid format version 0 (versions start at 1): the file is damaged",
                c.where(8, "format version"));

  // 3. end marker: its absence is how truncation shows; walk the frame to say where the bytes run out.
  if (size < kPreambleBytes + kTrailerBytes || std::memcmp(b + size - 8, kFileEndMagic, 8) != 0)
    Walker(c, size, /*diagnosing=*/true).run();  // always throws

  // 4. checksum over everything before it, so a flipped byte anywhere is reported as corruption.
  const uint32_t stored = get_u32(b + size - kTrailerBytes);
  const uint32_t actual = static_cast<uint32_t>(crc_update(crc32(0L, Z_NULL, 0), b, size - kTrailerBytes));
  if (stored != actual)
    throw Error(ErrorKind::format,
                "corrupt: checksum mismatch \u2014 the file was modified or damaged (stored CRC32 " + hex32(stored) +
                    ", computed " + hex32(actual) + ")",
                c.where(size - kTrailerBytes, "checksum"));

  // 5.-6. kind (a flipped kind byte is corruption, hence after the checksum), header, section records; then the two section tables must agree.
  Walker(c, size - kTrailerBytes, /*diagnosing=*/false, expected).run();
  cross_check_sections(c);
  return c;
}

Container read_container(const std::string& path) { return read_impl(read_whole_file(path), path, nullptr); }
Container read_container(const std::string& path, FileKind expected) {
  return read_impl(read_whole_file(path), path, &expected);
}
Container read_container_bytes(std::vector<uint8_t> bytes, const std::string& name, FileKind expected) {
  return read_impl(std::move(bytes), name, &expected);
}

void write_container(const std::string& path, FileKind kind, const nlohmann::json& header,
                     const std::vector<SectionData>& sections) {
  MMOE_CHECK(header.is_object(), "a container header must be a JSON object");
  MMOE_CHECK(!header.contains("sections"), "\"sections\" is written by write_container itself");
  std::set<std::string> names;
  for (const SectionData& s : sections) {
    MMOE_CHECK(!s.name.empty() && s.name.size() <= kMaxSectionName, "bad section name length");
    MMOE_CHECK(names.insert(s.name).second, "duplicate section name '" + s.name + "'");
    MMOE_CHECK(s.count == 0 || s.data != nullptr, "section '" + s.name + "' has no data");
  }

  // The header gives absolute data offsets, which depend on the header's own length: iterate to the fixed
  // point. The length only grows with the offsets' digits, so this ends after a step or two.
  nlohmann::json full = header;
  std::string text;
  uint64_t header_len = 0;
  for (;;) {
    nlohmann::json table = nlohmann::json::array();
    uint64_t pos = kPreambleBytes + header_len;
    for (const SectionData& s : sections) {
      pos += 4 + s.name.size() + 4 + 8;
      pos += pad_to_alignment(pos);
      table.push_back({{"name", s.name}, {"dtype", to_string(s.dtype)}, {"count", s.count}, {"offset", pos}});
      pos += s.count * dtype_size(s.dtype);
    }
    full["sections"] = std::move(table);
    try {
      text = full.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
    } catch (const nlohmann::json::type_error& e) {
      throw Error(ErrorKind::input, std::string("cannot save: the header holds text that is not valid UTF-8 (") +
                                        e.what() + ")",
                  path);
    }
    if (text.size() == header_len) break;
    header_len = text.size();
  }
  if (header_len > kMaxHeaderBytes)
    throw Error(ErrorKind::input,
                "cannot save: the JSON header would be " + std::to_string(header_len) + " bytes, more than the " +
                    std::to_string(kMaxHeaderBytes) + " the format allows",
                path, "a very large pipeline (vocabulary) is the usual cause; cap the vocabulary size");

  TempFile out(path);
  std::string small;
  small.append(kFileMagic, 8);
  put_u32(small, kFormatVersion);
  put_u32(small, static_cast<uint32_t>(kind));
  put_u64(small, header_len);
  out.put(small);
  out.put(text);
  static const char kZeros[kAlignment] = {};
  for (const SectionData& s : sections) {
    small.clear();
    put_u32(small, static_cast<uint32_t>(s.name.size()));
    small += s.name;
    put_u32(small, static_cast<uint32_t>(s.dtype));
    put_u64(small, s.count);
    out.put(small);
    out.put(kZeros, pad_to_alignment(out.pos()));
    out.put(s.data, s.count * dtype_size(s.dtype));
  }
  small.clear();
  put_u32(small, out.crc());
  small.append(kFileEndMagic, 8);
  out.put(small);
  out.commit();
}

}  // namespace mmoe
