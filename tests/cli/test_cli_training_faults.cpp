// Training that goes numerically wrong, through the real binary: a loss or a gradient that stops being
// finite ends the run with exit code 2 and a message naming the step, the task and the layer (with the expert,
// gate or task owning the bad element); --clip-grad-norm is accepted and checked.
#include "cli/cli_harness.h"

namespace {

using namespace mmoe_cli_test;  // CliDir, CliResult, clean_csv, quick_train, expect_refused

// n rows of a regression label y whose values are `label` (alternating sign if `alternate`).
std::string regression_csv(int n, const std::string& label, bool alternate) {
  std::string s = "x1,x2,y\n";
  for (int i = 0; i < n; ++i)
    s += std::to_string(i) + "," + std::to_string(i * 2) + "," + (alternate && i % 2 ? "-" : "") + label + "\n";
  return s;
}

TEST(CliTrainingFaults, LossBecomesNonFinite) {
  MMOE_REQUIRE_CLI();
  CliDir dir;
  // Labels near FLT_MAX and plain SGD at the largest allowed rate: the first update blows the weights up,
  // and the second step's loss is no longer a number.
  dir.write("huge.csv", regression_csv(50, "3e38", true));
  const CliResult r = dir.run({"train", "--train", "huge.csv", "--label", "y:regression", "--optimizer", "sgd",
                               "--lr", "1000", "--epochs", "5", "--threads", "1", "--seed", "1"});
  expect_refused(r, "input error", "training diverged: the loss of task 'y' became NaN at step 2 (epoch 2)");
  // The layer is named too: here the first SGD update overflowed the output layer's weights.
  EXPECT_TRUE(r.err_has("; the weights of layer 'tower.")) << r.err;
  EXPECT_TRUE(r.err_has("(task 'y') are no longer finite")) << r.err;
  EXPECT_TRUE(r.err_has("hint: lower the learning rate or set train.clip_grad_norm")) << r.err;
  EXPECT_FALSE(dir.exists("m.mmoe"));
}

TEST(CliTrainingFaults, GradientBecomesNonFinite) {
  MMOE_REQUIRE_CLI();
  CliDir dir;
  // Every label at 3.4e38: the loss (summed in double) is finite, the float gradient of the last tower
  // layer overflows at the first step.
  dir.write("max.csv", regression_csv(200, "3.4e38", false));
  const CliResult r = dir.run({"train", "--train", "max.csv", "--label", "y:regression", "--epochs", "1",
                               "--threads", "1", "--out", "m.mmoe"});
  expect_refused(r, "input error", "training diverged: the gradient of layer 'tower.");
  EXPECT_TRUE(r.err_has("(task 'y') is not finite at step 1 (epoch 1) (task losses: y 1.156e+77)")) << r.err;
  EXPECT_FALSE(dir.exists("m.mmoe"));  // no model is written from a diverged run
}

TEST(CliTrainingFaults, ClipGradNormIsAcceptedAndChecked) {
  MMOE_REQUIRE_CLI();
  CliDir dir;
  dir.write("ok.csv", clean_csv());
  CliResult r = dir.run(quick_train({"train", "--train", "ok.csv", "--label", "y:binary", "--clip-grad-norm", "0.5",
                                     "--metrics-out", "m.json"}));
  EXPECT_EQ(r.code, 0) << r.err;
  r = dir.run(quick_train({"train", "--train", "ok.csv", "--label", "y:binary", "--clip-grad-norm", "-1"}));
  expect_refused(r, "usage error", "--clip-grad-norm: 'train.clip_grad_norm' must be in [0, 1e+12], got -1");
  // Clipping keeps a large-rate SGD run finite where the unclipped run diverges.
  dir.write("big.csv", regression_csv(64, "1e6", true));
  const std::vector<std::string> base = {"train", "--train", "big.csv", "--label", "y:regression", "--optimizer",
                                         "sgd", "--lr", "10", "--epochs", "20", "--threads", "1", "--batch-size", "16"};
  r = dir.run(base);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_TRUE(r.err_has("training diverged")) << r.err;
  std::vector<std::string> clipped = base;
  clipped.insert(clipped.end(), {"--clip-grad-norm", "1"});
  r = dir.run(clipped);
  EXPECT_EQ(r.code, 0) << r.err;
}

}  // namespace
