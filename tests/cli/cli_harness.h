// tests/cli/cli_harness.h: runs the real `mmoe` binary (MMOE_CLI_PATH) in a scratch directory and captures
// its exit code, stdout and stderr, for the golden tests of tests/cli/.
//
//   CliDir dir;                                       // a fresh directory, removed afterwards
//   dir.write("bad.csv", "x,y\n1,2\n3\n");
//   CliResult r = dir.run({"train", "--train", "bad.csv", "--label", "y:binary"});
//   EXPECT_EQ(r.code, 2);
//   EXPECT_TRUE(r.err_has("bad.csv:3:2: expected 2 fields, got 1")) << r.err;
//
// The binary runs with the scratch directory as its working directory, so paths in messages are the short
// relative names the test gave.
//
// A test that must act on the process while it runs (kill it mid-training, say) starts it instead:
//
//   CliProcess p = dir.start({"train", ...});
//   ... wait for a file to appear ...
//   p.signal(SIGKILL);
//   EXPECT_EQ(p.wait().code, 128 + SIGKILL);
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#ifndef MMOE_CLI_PATH
#define MMOE_CLI_PATH ""
#endif

namespace mmoe_cli_test {

struct CliResult {
  int code = -1;  // exit code; 128 + signal number when killed by a signal
  std::string out, err;
  bool err_has(const std::string& part) const { return err.find(part) != std::string::npos; }
  bool out_has(const std::string& part) const { return out.find(part) != std::string::npos; }
};

inline bool have_cli() { return std::string(MMOE_CLI_PATH).size() > 0 && std::filesystem::exists(MMOE_CLI_PATH); }

#define MMOE_REQUIRE_CLI() \
  if (!::mmoe_cli_test::have_cli()) GTEST_SKIP() << "the mmoe binary is not built (MMOE_BUILD_CLI=OFF)"

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The lines of `text`, without their '\n' (a last line without one counts too), as std::getline reads them.
inline std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// A `mmoe` process started by CliDir::start, running in the background. wait() reaps it and returns what
// CliDir::run would have; a process never waited for is killed (SIGKILL) and reaped by the destructor, so a
// failed ASSERT does not leave it running.
class CliProcess {
 public:
  CliProcess(pid_t pid, std::string out_file, std::string err_file)
      : pid_(pid), out_file_(std::move(out_file)), err_file_(std::move(err_file)) {}
  CliProcess(CliProcess&& other) noexcept
      : pid_(std::exchange(other.pid_, -1)), out_file_(std::move(other.out_file_)),
        err_file_(std::move(other.err_file_)) {}
  CliProcess(const CliProcess&) = delete;
  CliProcess& operator=(const CliProcess&) = delete;
  CliProcess& operator=(CliProcess&&) = delete;
  ~CliProcess() {
    if (pid_ > 0) {
      signal(SIGKILL);
      wait();
    }
  }

  // Sends `sig` to the process (true if it was delivered); only before wait().
  bool signal(int sig) const { return pid_ > 0 && ::kill(pid_, sig) == 0; }

  // Waits for the process to end: its exit code (128 + signal number when killed), stdout and stderr.
  // Call once; code is -1 if the process could not be started or waited for.
  CliResult wait() {
    CliResult r;
    int status = 0;
    const pid_t pid = std::exchange(pid_, -1);
    if (pid < 0 || ::waitpid(pid, &status, 0) != pid) return r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = slurp(out_file_);
    r.err = slurp(err_file_);
    return r;
  }

 private:
  pid_t pid_;
  std::string out_file_, err_file_;
};

class CliDir {
 public:
  CliDir() {
    static int counter = 0;
    dir_ = std::filesystem::temp_directory_path() /
           ("mmoe_cli_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~CliDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  CliDir(const CliDir&) = delete;
  CliDir& operator=(const CliDir&) = delete;

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string write(const std::string& name, const std::string& bytes) const {
    std::ofstream(path(name), std::ios::binary) << bytes;
    return name;
  }
  std::string read(const std::string& name) const { return slurp(path(name)); }
  bool exists(const std::string& name) const { return std::filesystem::exists(path(name)); }

  // Runs `mmoe args...` in this directory (fork + exec, no shell), stdout and stderr to files.
  CliResult run(const std::vector<std::string>& args) const { return start(args).wait(); }

  // Starts `mmoe args...` as run() does, without waiting for it. The output files are this directory's, so
  // a CliDir runs one process at a time: wait() for one before starting or running the next.
  CliProcess start(const std::vector<std::string>& args) const {
    const std::string out_file = path(".stdout"), err_file = path(".stderr"), cwd = dir_.string();
    // Everything the child needs is built before fork: between fork and exec it only makes system calls.
    std::string exe = MMOE_CLI_PATH;
    std::vector<std::string> copy = args;
    std::vector<char*> argv{exe.data()};
    for (std::string& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
      if (::chdir(cwd.c_str()) != 0) ::_exit(126);
      const int o = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int e = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (o < 0 || e < 0 || ::dup2(o, 1) < 0 || ::dup2(e, 2) < 0) ::_exit(126);
      ::execv(exe.c_str(), argv.data());
      ::_exit(127);
    }
    return CliProcess(pid, out_file, err_file);
  }

 private:
  std::filesystem::path dir_;
};

// A small, clean binary-task CSV: x1, x2 dense, y in {0, 1}; n rows.
inline std::string clean_csv(int n = 40) {
  std::string s = "x1,x2,y\n";
  for (int i = 0; i < n; ++i)
    s += std::to_string(i % 7) + "." + std::to_string(i % 3) + "," + std::to_string((i * 5) % 11) + "," +
         std::to_string(i % 2) + "\n";
  return s;
}

// `args` plus the flags of a quick training run (tiny model, one epoch), each unless `args` sets it already.
inline std::vector<std::string> quick_train(std::vector<std::string> args) {
  const std::pair<const char*, const char*> quick[] = {{"--experts", "2"}, {"--expert-units", "4"},
                                                       {"--tower-units", "2"}, {"--epochs", "1"},
                                                       {"--threads", "1"}, {"--batch-size", "16"}};
  for (const auto& [flag, value] : quick)
    if (std::find(args.begin(), args.end(), flag) == args.end()) args.insert(args.end(), {flag, value});
  return args;
}

// What every refusal must look like: exit code 2, one "mmoe: <kind>: " line, and no sign of a crash.
inline void expect_refused(const CliResult& r, const std::string& kind, const std::string& where_and_message) {
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_TRUE(r.err_has("mmoe: " + kind + ": ")) << r.err;
  EXPECT_TRUE(r.err_has(where_and_message)) << "expected \"" << where_and_message << "\" in:\n" << r.err;
  EXPECT_FALSE(r.err_has("internal error")) << r.err;
  EXPECT_FALSE(r.err_has("AddressSanitizer")) << r.err;
}

}  // namespace mmoe_cli_test
