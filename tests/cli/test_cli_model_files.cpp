// Damaged model files and models from another feature schema, through the real binary: predict and eval
// refuse each with exit code 2 and a message that says which fault it is and where (file@byte (part)).
// The byte-level cases are covered in depth by tests/unit/io; these check what a user of the tool sees.
#include "cli/cli_harness.h"

namespace {

using namespace mmoe_cli_test;  // CliDir, CliResult, clean_csv, quick_train, expect_refused

class CliModelFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    MMOE_REQUIRE_CLI();
    dir_.write("clean.csv", clean_csv());
    const CliResult r = dir_.run(quick_train({"train", "--train", "clean.csv", "--label", "y:binary", "--out", "m.mmoe"}));
    ASSERT_EQ(r.code, 0) << r.err;
    model_ = dir_.read("m.mmoe");
    ASSERT_GT(model_.size(), 200u);
  }

  // predict and eval on `file` must both be refused with `expected` in the message.
  void expect_both_refuse(const std::string& file, const std::string& kind, const std::string& expected,
                          const std::string& data = "clean.csv") {
    expect_refused(dir_.run({"predict", "--model", file, "--data", data}), kind, expected);
    expect_refused(dir_.run({"eval", "--model", file, "--data", data}), kind, expected);
  }

  CliDir dir_;
  std::string model_;
};

TEST_F(CliModelFiles, IntactModelWorks) {
  const CliResult r = dir_.run({"predict", "--model", "m.mmoe", "--data", "clean.csv"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.out.rfind("y\n", 0) == 0) << r.out;
}

TEST_F(CliModelFiles, Truncated) {
  dir_.write("cut.mmoe", model_.substr(0, model_.size() / 2));
  expect_both_refuse("cut.mmoe", "format error", "cut.mmoe@" + std::to_string(model_.size() / 2) + " (");
  const CliResult r = dir_.run({"predict", "--model", "cut.mmoe", "--data", "clean.csv"});
  EXPECT_TRUE(r.err_has("truncated: the file ends at byte " + std::to_string(model_.size() / 2))) << r.err;
  // Cut inside the trailer: the checksum and end marker are named.
  dir_.write("cut2.mmoe", model_.substr(0, model_.size() - 5));
  expect_both_refuse("cut2.mmoe", "format error", "(trailer): truncated: the file ends at byte");
}

TEST_F(CliModelFiles, FlippedByte) {
  for (size_t at : {size_t{40}, model_.size() / 2, model_.size() - 20}) {  // header JSON, middle, near the end
    std::string bad = model_;
    bad[at] = static_cast<char>(bad[at] ^ 0x10);
    dir_.write("flip.mmoe", bad);
    expect_both_refuse("flip.mmoe", "format error", "(checksum): corrupt: checksum mismatch");
  }
}

TEST_F(CliModelFiles, WrongMagic) {
  std::string bad = model_;
  bad[0] = 'X';
  dir_.write("magic.mmoe", bad);
  expect_both_refuse("magic.mmoe", "format error",
                     "magic.mmoe@0 (magic): not an mmoe model file: it starts with \"XMOEFILE\", not \"MMOEFILE\"");
  // A CSV given where the model should be.
  expect_both_refuse("clean.csv", "format error", "clean.csv@0 (magic): not an mmoe model file: it starts with \"x1,x2,y");
  dir_.write("empty.mmoe", "");
  expect_both_refuse("empty.mmoe", "format error", "empty.mmoe@0 (magic): empty file (0 bytes)");
}

TEST_F(CliModelFiles, NewerFormatVersion) {
  std::string bad = model_;
  bad[8] = 2;  // u32 little-endian version at byte 8
  dir_.write("v2.mmoe", bad);
  expect_both_refuse("v2.mmoe", "format error",
                     "v2.mmoe@8 (format version): written by a newer mmoe: format version 2, this build reads up to 1");
}

TEST_F(CliModelFiles, MissingOrDirectory) {
  expect_both_refuse("nope.mmoe", "i/o error", "nope.mmoe: cannot open the file: No such file or directory");
  std::filesystem::create_directory(dir_.path("adir"));
  expect_both_refuse("adir", "i/o error", "adir: is a directory, not a model file");
}

TEST_F(CliModelFiles, DifferentFeatureSchema) {
  // Other column names: the first training column missing from the file is named.
  dir_.write("other.csv", "a,b,y\n1,2,1\n3,4,0\n");
  expect_both_refuse("m.mmoe", "input error", "other.csv: column 'x1' (dense) of the training data is missing from this file",
                     "other.csv");
  // One column fewer.
  dir_.write("fewer.csv", "x1,y\n1,1\n3,0\n");
  expect_both_refuse("m.mmoe", "input error", "fewer.csv: column 'x2' (dense) of the training data is missing", "fewer.csv");
  // One column more.
  dir_.write("more.csv", "x1,x2,x3,y\n1,2,3,1\n3,4,5,0\n");
  expect_both_refuse("m.mmoe", "input error", "more.csv: column 'x3' (dense) was not in the training data", "more.csv");
  // eval needs the labels; predict does not.
  dir_.write("nolabel.csv", "x1,x2\n1,2\n3,4\n");
  EXPECT_EQ(dir_.run({"predict", "--model", "m.mmoe", "--data", "nolabel.csv"}).code, 0);
  const CliResult r = dir_.run({"eval", "--model", "m.mmoe", "--data", "nolabel.csv"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_TRUE(r.err_has("nolabel.csv")) << r.err;
  EXPECT_TRUE(r.err_has("'y'")) << r.err;
}

}  // namespace
