// Kill -9 a real `mmoe train` at several points, resume it from its last checkpoint, and require the final
// model to be bit-identical to an uninterrupted run; every checkpoint left behind by a kill must load.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "mmoe/model_file.h"

namespace fs = std::filesystem;

namespace {

pid_t spawn(const std::vector<std::string>& args) {
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int run(const std::vector<std::string>& args) { return wait_exit(spawn(args)); }

std::vector<float> params_of(const std::string& path) {
  mmoe::LoadedModel m = mmoe::load_model(path);
  return {m.model->params().begin(), m.model->params().end()};
}

class CheckpointResume : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mmoe_resume_" + std::to_string(getpid()));
    fs::create_directories(dir_);
    csv_ = (dir_ / "s.csv").string();
    ASSERT_EQ(run({MMOE_CLI_PATH, "synth", "--rows", "6000", "--seed", "3", "--out", csv_, "-q"}), 0);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<std::string> train_args(const std::string& out) const {
    return {MMOE_CLI_PATH, "train", "--train", csv_, "--split", "0.8,0.1,0.1", "--label", "y1:regression",
            "--label", "y2:regression", "--epochs", "4", "--batch-size", "32", "--threads", "2",
            "--patience", "2", "--seed", "7", "-q", "--out", out};
  }

  fs::path dir_;
  std::string csv_;
};

TEST_F(CheckpointResume, KilledRunsResumeBitIdentically) {
  const std::string reference = (dir_ / "reference.mmoe").string();
  ASSERT_EQ(run(train_args(reference)), 0);
  const std::vector<float> expected = params_of(reference);

  // Kill at different moments: right after the first checkpoint appears, and later.
  const std::vector<int> delays_ms = {0, 15, 60};
  int resumed_from_checkpoint = 0;
  for (int delay : delays_ms) {
    const std::string ckpt = (dir_ / ("ck" + std::to_string(delay) + ".mmoe")).string();
    const std::string out = (dir_ / ("out" + std::to_string(delay) + ".mmoe")).string();
    std::vector<std::string> args = train_args(out);
    args.insert(args.end(), {"--checkpoint", ckpt, "--checkpoint-every", "25"});
    const pid_t pid = spawn(args);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!fs::exists(ckpt) && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    kill(pid, SIGKILL);
    const int code = wait_exit(pid);
    if (code == 0) continue;  // finished before the kill landed: nothing to resume
    ASSERT_EQ(code, 128 + SIGKILL);
    ASSERT_TRUE(fs::exists(ckpt));
    // The checkpoint a kill left behind loads cleanly (writes are atomic).
    EXPECT_NO_THROW(mmoe::load_checkpoint(ckpt));
    args.insert(args.end(), {"--resume", ckpt});
    ASSERT_EQ(run(args), 0);
    EXPECT_EQ(params_of(out), expected) << "resumed after a kill at +" << delay << " ms";
    ++resumed_from_checkpoint;
  }
  EXPECT_GE(resumed_from_checkpoint, 1) << "every run finished before it could be killed";
}

TEST_F(CheckpointResume, RefusesAChangedSetting) {
  const std::string ckpt = (dir_ / "ck.mmoe").string();
  std::vector<std::string> args = train_args((dir_ / "a.mmoe").string());
  args.insert(args.end(), {"--checkpoint", ckpt, "--checkpoint-every", "50", "--max-steps", "60"});
  ASSERT_EQ(run(args), 0);
  std::vector<std::string> other = train_args((dir_ / "b.mmoe").string());
  other.insert(other.end(), {"--batch-size", "64", "--resume", ckpt});
  EXPECT_EQ(run(other), 2);
}

}  // namespace
