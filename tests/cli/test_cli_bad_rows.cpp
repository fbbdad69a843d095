// --on-bad-row error|skip through the real binary: error (the default) stops at the first bad row; skip
// counts the bad rows and lists the first few with their locations; predict keeps one output row per input
// record, in order, a skipped one marked "skipped" in the status column.
#include "cli/cli_harness.h"

namespace {

using namespace mmoe_cli_test;  // CliDir, CliResult, clean_csv, quick_train, expect_refused

// 8 data records (lines 2-9); lines 4, 6 and 8 are bad in three different ways.
const char* kMixed =
    "x1,x2,y\n"
    "1,2,1\n"
    "3,4,0\n"
    "5,abc,1\n"   // line 4: not a number
    "6,7,0\n"
    "8,9\n"       // line 6: a field short
    "10,11,1\n"
    "12,\"13,0\n" // line 8: unterminated quote
    "14,15,0\n";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

class CliBadRows : public ::testing::Test {
 protected:
  void SetUp() override {
    MMOE_REQUIRE_CLI();
    dir_.write("clean.csv", clean_csv());
    dir_.write("mixed.csv", kMixed);
    const CliResult r = dir_.run(quick_train({"train", "--train", "clean.csv", "--label", "y:binary", "--out", "m.mmoe"}));
    ASSERT_EQ(r.code, 0) << r.err;
  }
  CliDir dir_;
};

TEST_F(CliBadRows, ErrorIsTheDefault) {
  for (const char* command : {"train", "eval", "predict"}) {
    CliResult r;
    if (std::string(command) == "train")
      r = dir_.run(quick_train({"train", "--train", "mixed.csv", "--label", "y:binary"}));
    else
      r = dir_.run({command, "--model", "m.mmoe", "--data", "mixed.csv"});
    mmoe_cli_test::expect_refused(r, "input error",
                                  "mixed.csv:4:3: expected a finite number in dense column 'x2', got \"abc\"");
  }
}

TEST_F(CliBadRows, TrainSkipReportsCountAndLines) {
  const CliResult r =
      dir_.run(quick_train({"train", "--train", "mixed.csv", "--label", "y:binary", "--on-bad-row", "skip"}));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.err_has("data: skipped 3 bad rows of mixed.csv")) << r.err;
  EXPECT_TRUE(r.err_has("data: skipped mixed.csv:4:3: expected a finite number in dense column 'x2'")) << r.err;
  EXPECT_TRUE(r.err_has("data: skipped mixed.csv:6:4: expected 3 fields, got 2")) << r.err;
  EXPECT_TRUE(r.err_has("data: skipped mixed.csv:8:4: unterminated quoted field")) << r.err;
  EXPECT_TRUE(r.err_has("rows train 5,")) << r.err;
}

TEST_F(CliBadRows, SkipListsTheFirstFewThenLineNumbers) {
  std::string text = "x1,x2,y\n";
  for (int i = 0; i < 30; ++i) text += i % 3 == 0 ? "1,x,0\n" : "1,2," + std::to_string(i % 2) + "\n";
  dir_.write("many.csv", text);  // bad rows on lines 2, 5, 8, ..., 29: ten of them
  const CliResult r =
      dir_.run(quick_train({"train", "--train", "many.csv", "--label", "y:binary", "--on-bad-row", "skip"}));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.err_has("data: skipped 10 bad rows of many.csv")) << r.err;
  EXPECT_TRUE(r.err_has("data: skipped many.csv:2:3: ")) << r.err;
  EXPECT_TRUE(r.err_has("data: skipped many.csv:14:3: ")) << r.err;
  EXPECT_FALSE(r.err_has("data: skipped many.csv:17:3: ")) << r.err;  // only the first five in full
  EXPECT_TRUE(r.err_has("data: skipped ... and 5 more, at lines 17, 20, 23, 26, 29")) << r.err;
}

TEST_F(CliBadRows, MaxBadRowsStopsSkipping) {
  dir_.write("c.toml", "[schema.columns]\ny = \"label\"\n[data]\non_bad_row = \"skip\"\nmax_bad_rows = 2\n");
  const CliResult r = dir_.run(quick_train({"train", "--config", "c.toml", "--train", "mixed.csv"}));
  mmoe_cli_test::expect_refused(r, "input error", "mixed.csv:8:4: more than 2 bad rows (data.max_bad_rows)");
}

TEST_F(CliBadRows, EvalSkipReportsCount) {
  const CliResult r = dir_.run({"eval", "--model", "m.mmoe", "--data", "mixed.csv", "--on-bad-row", "skip",
                                "--metrics-out", "e.json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.err_has("data: skipped 3 bad rows of mixed.csv, scored 5")) << r.err;
  EXPECT_TRUE(r.err_has("data: skipped mixed.csv:6:4: expected 3 fields, got 2")) << r.err;
  const nlohmann::json j = nlohmann::json::parse(dir_.read("e.json"));
  EXPECT_EQ(j["data"]["rows"], 5);
  EXPECT_EQ(j["data"]["skipped_rows"], 3);
}

TEST_F(CliBadRows, PredictKeepsOneRowPerRecordInOrder) {
  const CliResult r =
      dir_.run({"predict", "--model", "m.mmoe", "--data", "mixed.csv", "--on-bad-row", "skip", "--out", "p.csv"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.err_has("wrote 8 predictions to p.csv (3 input rows skipped, marked)")) << r.err;
  EXPECT_TRUE(r.err_has("skipped mixed.csv:4:3: ")) << r.err;
  const std::vector<std::string> out = lines_of(dir_.read("p.csv"));
  ASSERT_EQ(out.size(), 9u) << dir_.read("p.csv");  // header + one per input record
  EXPECT_EQ(out[0], "y,status");
  const char* expected[] = {"ok", "ok", "skipped", "ok", "skipped", "ok", "skipped", "ok"};
  for (size_t i = 0; i < 8; ++i) {
    const std::string& line = out[i + 1];
    const std::string status = line.substr(line.rfind(',') + 1);
    EXPECT_EQ(status, expected[i]) << "record " << i << ": " << line;
    if (status == "skipped") EXPECT_EQ(line, ",skipped");
    else EXPECT_GT(line.find(','), 0u) << line;  // a prediction before the status
  }

  // The kept rows' predictions are those of the same rows predicted from a clean file (to rounding: the
  // batches differ).
  dir_.write("kept.csv", "x1,x2,y\n1,2,1\n3,4,0\n6,7,0\n10,11,1\n14,15,0\n");
  ASSERT_EQ(dir_.run({"predict", "--model", "m.mmoe", "--data", "kept.csv", "--out", "k.csv"}).code, 0);
  const std::vector<std::string> kept = lines_of(dir_.read("k.csv"));
  ASSERT_EQ(kept.size(), 6u);
  size_t k = 1;
  for (size_t i = 1; i < out.size(); ++i) {
    if (out[i] == ",skipped") continue;
    EXPECT_NEAR(std::stod(out[i]), std::stod(kept[k++]), 1e-5) << out[i];
  }
}

TEST_F(CliBadRows, PredictToStdoutStillReportsOnStderr) {
  const CliResult r = dir_.run({"predict", "--model", "m.mmoe", "--data", "mixed.csv", "--on-bad-row", "skip"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(lines_of(r.out).size(), 9u) << r.out;
  EXPECT_TRUE(r.err_has("(3 input rows skipped, marked)")) << r.err;
}

TEST_F(CliBadRows, AllRowsBad) {
  dir_.write("allbad.csv", "x1,x2,y\n1,a,1\n2,b,0\n");
  const CliResult r = dir_.run({"predict", "--model", "m.mmoe", "--data", "allbad.csv", "--on-bad-row", "skip"});
  mmoe_cli_test::expect_refused(r, "input error", "allbad.csv: no usable data rows (all 2 rows were bad)");
}

}  // namespace
