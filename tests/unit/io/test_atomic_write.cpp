// A write killed with SIGKILL in the middle leaves the previous file whole. Both writers are checked in a real
// process killed while its temporary file is being filled: write_container (model files and checkpoints) and
// write_file_atomic (metrics, predictions).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "mmoe/fs.h"
#include "mmoe/model_file.h"

namespace {

namespace fs = std::filesystem;

// The temporary file of the write in progress ("<path>.tmp.<pid>"), if there is one.
bool temporary_exists(const fs::path& dir, const std::string& name) {
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().filename().string().rfind(name + ".tmp.", 0) == 0) return true;
  return false;
}

constexpr size_t kBig = size_t{64} << 20;  // floats (256 MiB): long enough to be caught mid-write

enum class Writer { container, plain };

// The previous file, and a huge replacement, through the given writer.
void write_previous(Writer w, const std::string& path) {
  if (w == Writer::plain) {
    mmoe::write_file_atomic(path, "the previous file\n");
    return;
  }
  const float weights[4] = {1, 2, 3, 4};
  mmoe::write_container(path, mmoe::FileKind::checkpoint, {{"note", "the previous checkpoint"}},
                        {{"weights", mmoe::DType::f32, weights, 4}});
}
void write_huge(Writer w, const std::string& path) {
  const std::vector<float> big(kBig, 0.5f);
  if (w == Writer::plain) {
    mmoe::write_file_atomic(path, std::string_view(reinterpret_cast<const char*>(big.data()), kBig * sizeof(float)));
    return;
  }
  mmoe::write_container(path, mmoe::FileKind::checkpoint, {{"note", "the new checkpoint"}},
                        {{"weights", mmoe::DType::f32, big.data(), kBig}});
}
// True when the file at `path` is the previous one, whole.
bool is_previous(Writer w, const std::string& path) {
  if (w == Writer::plain) return mmoe::read_file(path) == "the previous file\n";
  const mmoe::Container c = mmoe::read_container(path, mmoe::FileKind::checkpoint);  // checksum-verified
  return c.header.at("note") == "the previous checkpoint";
}

class AtomicWrite : public ::testing::TestWithParam<Writer> {};

TEST_P(AtomicWrite, KilledMidWriteLeavesThePreviousFileWhole) {
  const Writer w = GetParam();
  const fs::path dir = fs::temp_directory_path() / ("mmoe_atomic_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "checkpoint.mmoe").string();
  write_previous(w, path);

  int killed_mid_write = 0;
  for (int attempt = 0; attempt < 5 && killed_mid_write == 0; ++attempt) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      write_huge(w, path);
      ::_exit(0);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!temporary_exists(dir, "checkpoint.mmoe") && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    const bool caught = temporary_exists(dir, "checkpoint.mmoe");
    ::kill(child, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    if (caught && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) ++killed_mid_write;
    // Whatever the moment of the kill, the file is the old one or the whole new one (a torn file would fail
    // the container's checksum, or the size check).
    if (!is_previous(w, path)) {
      if (w == Writer::plain) EXPECT_EQ(fs::file_size(path), kBig * sizeof(float)) << "a torn file";
      else EXPECT_NO_THROW(mmoe::read_container(path, mmoe::FileKind::checkpoint));
      write_previous(w, path);  // the write won the race: try again
    }
  }
  EXPECT_GE(killed_mid_write, 1) << "the writer was never caught in the middle of its write";
  EXPECT_TRUE(is_previous(w, path));
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Writers, AtomicWrite, ::testing::Values(Writer::container, Writer::plain),
                         [](const ::testing::TestParamInfo<Writer>& p) {
                           return p.param == Writer::container ? std::string("Container") : std::string("PlainFile");
                         });

}  // namespace
