// Kill -9 a real `mmoe train` at several points, resume it from its last checkpoint, and require the final
// model to be bit-identical to an uninterrupted run; every checkpoint left behind by a kill must load.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "cli/cli_harness.h"
#include "mmoe/model_file.h"

namespace {

using namespace mmoe_cli_test;  // CliDir, CliProcess, CliResult

std::vector<float> params_of(const std::string& path) {
  mmoe::LoadedModel m = mmoe::load_model(path);
  return {m.model->params().begin(), m.model->params().end()};
}

class CheckpointResume : public ::testing::Test {
 protected:
  void SetUp() override {
    const CliResult r = dir_.run({"synth", "--rows", "6000", "--seed", "3", "--out", "s.csv", "-q"});
    ASSERT_EQ(r.code, 0) << r.err;
  }

  // Paths are relative to dir_, where the binary runs.
  static std::vector<std::string> train_args(const std::string& out) {
    return {"train", "--train", "s.csv", "--split", "0.8,0.1,0.1", "--label", "y1:regression",
            "--label", "y2:regression", "--epochs", "4", "--batch-size", "32", "--threads", "2",
            "--patience", "2", "--seed", "7", "-q", "--out", out};
  }

  CliDir dir_;
};

TEST_F(CheckpointResume, KilledRunsResumeBitIdentically) {
  CliResult r = dir_.run(train_args("reference.mmoe"));
  ASSERT_EQ(r.code, 0) << r.err;
  const std::vector<float> expected = params_of(dir_.path("reference.mmoe"));

  // Kill at different moments: right after the first checkpoint appears, and later.
  const std::vector<int> delays_ms = {0, 15, 60};
  int resumed_from_checkpoint = 0;
  for (int delay : delays_ms) {
    const std::string ckpt = "ck" + std::to_string(delay) + ".mmoe";
    const std::string out = "out" + std::to_string(delay) + ".mmoe";
    std::vector<std::string> args = train_args(out);
    args.insert(args.end(), {"--checkpoint", ckpt, "--checkpoint-every", "25"});
    CliProcess training = dir_.start(args);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!dir_.exists(ckpt) && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    training.signal(SIGKILL);
    const int code = training.wait().code;
    if (code == 0) continue;  // finished before the kill landed: nothing to resume
    ASSERT_EQ(code, 128 + SIGKILL);
    ASSERT_TRUE(dir_.exists(ckpt));
    // The checkpoint a kill left behind loads cleanly (writes are atomic).
    EXPECT_NO_THROW(mmoe::load_checkpoint(dir_.path(ckpt)));
    args.insert(args.end(), {"--resume", ckpt});
    r = dir_.run(args);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(params_of(dir_.path(out)), expected) << "resumed after a kill at +" << delay << " ms";
    ++resumed_from_checkpoint;
  }
  EXPECT_GE(resumed_from_checkpoint, 1) << "every run finished before it could be killed";
}

TEST_F(CheckpointResume, RefusesAChangedSetting) {
  std::vector<std::string> args = train_args("a.mmoe");
  args.insert(args.end(), {"--checkpoint", "ck.mmoe", "--checkpoint-every", "50", "--max-steps", "60"});
  const CliResult r = dir_.run(args);
  ASSERT_EQ(r.code, 0) << r.err;
  // Another batch size (train_args sets 32: replace it, a second --batch-size would be a usage error of its own).
  std::vector<std::string> other = train_args("b.mmoe");
  *(std::find(other.begin(), other.end(), "--batch-size") + 1) = "64";
  other.insert(other.end(), {"--resume", "ck.mmoe"});
  CliResult refused = dir_.run(other);
  EXPECT_EQ(refused.code, 2);
  EXPECT_TRUE(refused.err_has("usage error: train.batch_size: the checkpoint was written with batch_size = 32, "
                              "this run has 64")) << refused.err;
  other = train_args("c.mmoe");
  other.insert(other.end(), {"--experts", "3", "--resume", "ck.mmoe"});
  refused = dir_.run(other);
  EXPECT_EQ(refused.code, 2);
  EXPECT_TRUE(refused.err_has("ck.mmoe: the model settings differ from the checkpoint's")) << refused.err;
}

}  // namespace
