// Bad input through the real binary: every class of broken data file, schema, config, flag and output path
// is refused with exit code 2 and a message that names the file, line and column (or the config key).
// docs/reliability.md quotes these messages; keep the two in step.
#include <zlib.h>

#include <regex>

#include "cli/cli_harness.h"

namespace {

using namespace mmoe_cli_test;  // CliDir, CliResult, clean_csv, quick_train, expect_refused

CliResult train_on(const CliDir& dir, const std::string& csv, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"train", "--train", csv, "--label", "y:binary"};
  args.insert(args.end(), extra.begin(), extra.end());
  return dir.run(quick_train(args));
}

// One malformed CSV, the location and message it must be refused with.
struct BadCsv {
  const char* name;
  std::string text;
  const char* expected;  // "file:line:col: message" as printed
};

class CliBadCsv : public ::testing::TestWithParam<BadCsv> {};

TEST_P(CliBadCsv, RefusedWithFileLineAndColumn) {
  MMOE_REQUIRE_CLI();
  CliDir dir;
  const BadCsv& c = GetParam();
  const std::string file = dir.write(std::string(c.name) + ".csv", c.text);
  expect_refused(train_on(dir, file), "input error", c.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Classes, CliBadCsv,
    ::testing::Values(
        BadCsv{"header_only", "x1,x2,y\n", "header_only.csv:1: file has a header but no data rows"},
        BadCsv{"too_few_fields", "x1,x2,y\n1,2,1\n3,4\n", "too_few_fields.csv:3:4: expected 3 fields, got 2"},
        BadCsv{"too_many_fields", "x1,x2,y\n1,2,1,9\n", "too_many_fields.csv:2:7: expected 3 fields, got 4"},
        BadCsv{"non_numeric", "x1,x2,y\n1,2,1\n3,abc,0\n",
               "non_numeric.csv:3:3: expected a finite number in dense column 'x2', got \"abc\""},
        BadCsv{"nan", "x1,x2,y\n1,2,1\nNaN,4,0\n", "nan.csv:3:1: expected a finite number in dense column 'x1', got \"NaN\""},
        BadCsv{"inf", "x1,x2,y\n1,2,1\n3,-inf,0\n", "inf.csv:3:3: expected a finite number in dense column 'x2', got \"-inf\""},
        BadCsv{"huge", "x1,x2,y\n1,2,1\n3,1e39,0\n", "huge.csv:3:3: expected a finite number in dense column 'x2', got \"1e39\""},
        BadCsv{"binary_label", "x1,x2,y\n1,2,1\n3,4,2\n", "binary_label.csv:3:5: binary label 'y' must be 0 or 1, got \"2\""},
        BadCsv{"label_nan", "x1,x2,y\n1,2,1\n3,4,nan\n", "label_nan.csv:3:5: expected a finite number for label 'y', got \"nan\""},
        BadCsv{"invalid_utf8", "x1,x2,y\n1,2,1\n3,\xff\xfe,0\n", "invalid_utf8.csv:3:3: invalid UTF-8 (byte 0xff)"},
        BadCsv{"truncated_utf8", "x1,x2,y\n1,2,1\n3,4\xc3,0\n", "truncated_utf8.csv:3:4: invalid UTF-8 (byte 0xc3)"},
        BadCsv{"stray_quote", "x1,x2,y\n1,2,1\n3,4\"5,0\n", "stray_quote.csv:3:4: stray quote in an unquoted field"},
        BadCsv{"unterminated_quote", "x1,x2,y\n1,2,1\n3,\"4,0\n",
               "unterminated_quote.csv:3:3: unterminated quoted field"},
        BadCsv{"after_closing_quote", "x1,x2,y\n\"1\"x,2,1\n",
               "after_closing_quote.csv:2:4: unexpected character \"x\" after a closing quote"},
        // The default line limit is 1 MiB: a 1.2 MB line (a binary file, a missing newline) is refused.
        BadCsv{"long_line", "x1,x2,y\n1,2,1\n1," + std::string(1200000, '9') + ",0\n",
               "long_line.csv:3:1048577: line is longer than the limit of 1048576 bytes"}),
    [](const ::testing::TestParamInfo<BadCsv>& param_info) { return std::string(param_info.param.name); });

TEST(CliBadInput, MissingFile) {
  MMOE_REQUIRE_CLI();
  CliDir dir;
  expect_refused(train_on(dir, "nope.csv"), "i/o error", "nope.csv: cannot open file: No such file or directory");
}

TEST(CliBadInput, EmptyFile) {
  MMOE_REQUIRE_CLI();
  CliDir dir;
  expect_refused(train_on(dir, dir.write("empty.csv", "")), "input error",
                 "empty.csv: file is empty (no header and no data rows)");
}

TEST(CliBadInput, LabelNeitherPositiveNorNegative) {
  MMOE_REQUIRE_CLI();
  CliDir dir;
  dir.write("s.toml", "[schema.columns]\ny = { kind = \"label\", positive = [\"yes\"], negative = [\"no\"] }\n");
  dir.write("pn.csv", "x1,x2,y\n1,2,yes\n3,4,no\n5,6,maybe\n");
  const CliResult r = dir.run(quick_train({"train", "--train", "pn.csv", "--schema", "s.toml"}));
  expect_refused(r, "input error",
                 "pn.csv:4:5: label 'y' value \"maybe\" is neither positive (\"yes\") nor negative (\"no\")");
}

// gzip files, written with zlib, then cut short or damaged.
std::string gzip_bytes(const CliDir& dir, const std::string& text) {
  const std::string p = dir.path("tmp.gz");
  gzFile gz = gzopen(p.c_str(), "wb9");
  gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
  gzclose(gz);
  std::string bytes = mmoe_cli_test::slurp(p);
  std::remove(p.c_str());
  return bytes;
}

TEST(CliBadInput, GzipIsReadAndTruncatedGzipRefused) {
  MMOE_REQUIRE_CLI();
  CliDir dir;
  const std::string gz = gzip_bytes(dir, clean_csv(3000));
  ASSERT_GT(gz.size(), 1000u);
  EXPECT_EQ(train_on(dir, dir.write("ok.csv.gz", gz)).code, 0);
  const CliResult r = train_on(dir, dir.write("cut.csv.gz", gz.substr(0, gz.size() / 2)));
  // The location is where the intact decompressed data ends: a line and a column inside the cut-off data.
  expect_refused(r, "input error", "truncated gzip stream: the intact data ends here (unexpected end of file)");
  std::smatch at;
  const std::string err = r.err;
  ASSERT_TRUE(std::regex_search(err, at, std::regex(R"(input error: cut\.csv\.gz:(\d+):(\d+): truncated)"))) << err;
  const int line = std::stoi(at[1]), col = std::stoi(at[2]);
  EXPECT_GT(line, 100);   // half of the compressed bytes hold many of the 3,001 lines
  EXPECT_LT(line, 3001);  // but not all of them
  EXPECT_GE(col, 1);
  EXPECT_TRUE(r.err_has("hint: the file ends in the middle of compressed data")) << r.err;
}

TEST(CliBadInput, CorruptGzipRefused) {
  MMOE_REQUIRE_CLI();
  CliDir dir;
  std::string gz = gzip_bytes(dir, clean_csv(3000));
  for (size_t i = 40; i < 60; ++i) gz[i] = static_cast<char>(gz[i] ^ 0x5a);
  expect_refused(train_on(dir, dir.write("bad.csv.gz", gz)), "input error",
                 "bad.csv.gz:1:1: corrupt gzip stream: the intact data ends here");
}

// ---- schema and config files ---------------------------------------------------------------------------

TEST(CliBadConfig, SchemaUnknownKeySuggestsNearest) {
  MMOE_REQUIRE_CLI();
  CliDir dir;
  dir.write("ok.csv", clean_csv());
  dir.write("s.toml", "[schema]\nseperator = \",\"\n[schema.columns]\ny = \"label\"\n");
  const CliResult r = dir.run(quick_train({"train", "--train", "ok.csv", "--schema", "s.toml"}));
  expect_refused(r, "usage error", "schema.seperator: unknown key 'schema.seperator' (at s.toml:2:1)");
  EXPECT_TRUE(r.err_has("hint: did you mean 'schema.separator'?")) << r.err;
}

TEST(CliBadConfig, SchemaColumnUnknownKeySuggestsNearest) {
  MMOE_REQUIRE_CLI();
  CliDir dir;
  dir.write("ok.csv", clean_csv());
  dir.write("s.toml", "[schema.columns]\ny = { kind = \"label\", postive = [\"1\"] }\n");
  const CliResult r = dir.run(quick_train({"train", "--train", "ok.csv", "--schema", "s.toml"}));
  expect_refused(r, "usage error", "unknown key 'schema.columns.y.postive' (at s.toml:2:");
  EXPECT_TRUE(r.err_has("did you mean 'schema.columns.y.positive'?")) << r.err;
}

TEST(CliBadConfig, SchemaWrongTypeAndRange) {
  MMOE_REQUIRE_CLI();
  CliDir dir;
  dir.write("ok.csv", clean_csv());
  dir.write("t.toml", "[schema]\nheader = \"yes\"\n[schema.columns]\ny = \"label\"\n");
  expect_refused(dir.run(quick_train({"train", "--train", "ok.csv", "--schema", "t.toml"})), "usage error",
                 "schema.header: 'schema.header' must be true or false, not a string (at t.toml:2:10)");
  dir.write("r.toml", "[schema]\nmax_line_bytes = -5\n[schema.columns]\ny = \"label\"\n");
  expect_refused(dir.run(quick_train({"train", "--train", "ok.csv", "--schema", "r.toml"})), "usage error",
                 "'schema.max_line_bytes' = -5 is out of range [16, 1073741824] (at r.toml:2:18)");
  dir.write("k.toml", "[schema.columns]\ny = \"lable\"\n");
  const CliResult r = dir.run(quick_train({"train", "--train", "ok.csv", "--schema", "k.toml"}));
  expect_refused(r, "usage error", "schema.columns.y: unknown column kind \"lable\"");
  EXPECT_TRUE(r.err_has("did you mean \"label\"?")) << r.err;
}

TEST(CliBadConfig, SchemaSyntaxError) {
  MMOE_REQUIRE_CLI();
  CliDir dir;
  dir.write("ok.csv", clean_csv());
  dir.write("s.toml", "[schema.columns]\ny = \"label\n");
  expect_refused(dir.run(quick_train({"train", "--train", "ok.csv", "--schema", "s.toml"})), "usage error",
                 "s.toml:2:");
}

TEST(CliBadConfig, ConfigUnknownKeySuggestsNearest) {
  MMOE_REQUIRE_CLI();
  CliDir dir;
  dir.write("ok.csv", clean_csv());
  dir.write("c.toml", "[train]\nepoch = 3\n");
  CliResult r = train_on(dir, "ok.csv", {"--config", "c.toml"});
  expect_refused(r, "usage error", "c.toml:2:9: key 'train.epoch': unknown key 'train.epoch' for 'mmoe train'");
  EXPECT_TRUE(r.err_has("hint: did you mean 'train.epochs'?")) << r.err;
  dir.write("t.toml", "[trian]\nlr = 0.1\n");
  r = train_on(dir, "ok.csv", {"--config", "t.toml"});
  expect_refused(r, "usage error", "unknown key 'trian.lr'");
  EXPECT_TRUE(r.err_has("hint: did you mean 'train.lr'?")) << r.err;
  dir.write("d.toml", "[schema.columns]\ny = \"label\"\n[data]\ntrian = \"ok.csv\"\n");
  r = dir.run(quick_train({"train", "--config", "d.toml"}));
  expect_refused(r, "usage error", "data.trian: unknown key 'data.trian' (at d.toml:4:1)");
  EXPECT_TRUE(r.err_has("did you mean 'data.train'?")) << r.err;
  // Other tools' names for a setting lead to ours, whatever the spelling distance.
  dir.write("a.toml", "[train]\nlearning_rate = 0.1\n");
  r = train_on(dir, "ok.csv", {"--config", "a.toml"});
  expect_refused(r, "usage error", "unknown key 'train.learning_rate'");
  EXPECT_TRUE(r.err_has("hint: did you mean 'train.lr'?")) << r.err;
}

TEST(CliBadConfig, ConfigWrongType) {
  MMOE_REQUIRE_CLI();
  CliDir dir;
  dir.write("ok.csv", clean_csv());
  dir.write("c.toml", "[train]\nlr = \"fast\"\n");
  expect_refused(train_on(dir, "ok.csv", {"--config", "c.toml"}), "usage error",
                 "c.toml:2:6: key 'train.lr': key 'train.lr' must be a number");
  dir.write("u.toml", "[model]\nexpert_units = [16, \"wide\"]\n");
  expect_refused(train_on(dir, "ok.csv", {"--config", "u.toml"}), "usage error",
                 "key 'model.expert_units' must be a list of integers");
  expect_refused(train_on(dir, "ok.csv", {"--epochs", "three"}), "usage error",
                 "--epochs: 'train.epochs' must be an integer, got 'three'");
}

// Out-of-range values, in a config (named by file:line:col and key) and as flags (named by the flag).
struct OutOfRange {
  const char* name;
  const char* toml;
  const char* toml_expected;
  std::vector<std::string> flags;
  const char* flag_expected;
};

class CliOutOfRange : public ::testing::TestWithParam<OutOfRange> {};

TEST_P(CliOutOfRange, RefusedNamingKeyAndBounds) {
  MMOE_REQUIRE_CLI();
  CliDir dir;
  dir.write("ok.csv", clean_csv());
  const OutOfRange& c = GetParam();
  dir.write("c.toml", c.toml);
  expect_refused(train_on(dir, "ok.csv", {"--config", "c.toml"}), "usage error", c.toml_expected);
  expect_refused(train_on(dir, "ok.csv", c.flags), "usage error", c.flag_expected);
}

INSTANTIATE_TEST_SUITE_P(
    Settings, CliOutOfRange,
    ::testing::Values(
        OutOfRange{"negative_lr", "[train]\nlr = -0.1\n",
                   "c.toml:2:6: key 'train.lr': 'train.lr' must be in [1e-12, 1000], got -0.1", {"--lr", "-1"},
                   "--lr: 'train.lr' must be in [1e-12, 1000], got -1"},
        OutOfRange{"zero_experts", "[model]\nexperts = 0\n",
                   "c.toml:2:11: key 'model.experts': 'model.experts' must be in [1, 4096], got 0", {"--experts", "0"},
                   "--experts: 'model.experts' must be in [1, 4096], got 0"},
        OutOfRange{"zero_batch", "[train]\nbatch_size = 0\n",
                   "c.toml:2:14: key 'train.batch_size': 'train.batch_size' must be in [1, 10000000], got 0",
                   {"--batch-size", "0"}, "--batch-size: 'train.batch_size' must be in [1, 10000000], got 0"},
        OutOfRange{"zero_units", "[model]\nexpert_units = [0]\n",
                   "'model.expert_units' entries must be in [1, 65536], got 0", {"--expert-units", "16,0"},
                   "--expert-units: 'model.expert_units' entries must be in [1, 65536], got 0"},
        OutOfRange{"nan_lr", "[train]\nlr = nan\n", "'train.lr' must be a finite number, got 'nan'", {"--lr", "inf"},
                   "--lr: 'train.lr' must be a finite number, got 'inf'"}),
    [](const ::testing::TestParamInfo<OutOfRange>& param_info) { return std::string(param_info.param.name); });

TEST(CliBadConfig, ThreadsBeyondTheMachine) {
  MMOE_REQUIRE_CLI();
  CliDir dir;
  dir.write("ok.csv", clean_csv());
  std::vector<std::string> args = {"train", "--train", "ok.csv", "--label", "y:binary", "--threads", "1000"};
  expect_refused(dir.run(args), "usage error", "train.threads: --threads 1000 is more than this machine's");
  expect_refused(dir.run({"train", "--train", "ok.csv", "--label", "y:binary", "--threads", "4096"}), "usage error",
                 "--threads: 'train.threads' must be in [1, 1024], got 4096");
  expect_refused(dir.run({"train", "--train", "ok.csv", "--label", "y:binary", "--threads", "0"}), "usage error",
                 "'train.threads' must be in [1, 1024], got 0");
}

// ---- output paths --------------------------------------------------------------------------------------

TEST(CliBadOutput, TrainOutputsCheckedBeforeTraining) {
  MMOE_REQUIRE_CLI();
  CliDir dir;
  dir.write("ok.csv", clean_csv());
  CliResult r = train_on(dir, "ok.csv", {"--out", "no/such/dir/m.mmoe"});
  expect_refused(r, "i/o error", "no/such/dir/m.mmoe: cannot write --out: the directory 'no/such/dir' does not exist");
  EXPECT_FALSE(r.err_has("data: rows")) << "the data was read before the output path was checked:\n" << r.err;
  r = train_on(dir, "ok.csv", {"--metrics-out", "no/such/dir/m.json"});
  expect_refused(r, "i/o error", "no/such/dir/m.json: cannot write --metrics-out: the directory");
  r = train_on(dir, "ok.csv", {"--checkpoint", "no/such/dir/c.ckpt", "--checkpoint-every", "1"});
  expect_refused(r, "i/o error", "no/such/dir/c.ckpt: cannot write --checkpoint: the directory");
  std::filesystem::create_directory(dir.path("adir"));
  r = train_on(dir, "ok.csv", {"--out", "adir"});
  expect_refused(r, "i/o error", "adir: cannot write --out: the path is a directory");
  EXPECT_FALSE(r.out.find("best epoch") != std::string::npos) << r.out;
}

TEST(CliBadOutput, EvalAndPredictOutputsCheckedBeforeWork) {
  MMOE_REQUIRE_CLI();
  CliDir dir;
  dir.write("ok.csv", clean_csv());
  ASSERT_EQ(train_on(dir, "ok.csv", {"--out", "m.mmoe"}).code, 0);
  CliResult r = dir.run({"predict", "--model", "m.mmoe", "--data", "ok.csv", "--out", "no/dir/p.csv"});
  expect_refused(r, "i/o error", "no/dir/p.csv: cannot write --out: the directory 'no/dir' does not exist");
  r = dir.run({"eval", "--model", "m.mmoe", "--data", "ok.csv", "--metrics-out", "no/dir/e.json"});
  expect_refused(r, "i/o error", "no/dir/e.json: cannot write --metrics-out: the directory 'no/dir' does not exist");
  std::filesystem::create_directory(dir.path("adir"));
  r = dir.run({"predict", "--model", "m.mmoe", "--data", "ok.csv", "--out", "adir"});
  expect_refused(r, "i/o error", "adir: cannot write --out: the path is a directory");
  EXPECT_FALSE(dir.exists("no"));
}

TEST(CliBadUsage, UnknownFlagAndBadPolicy) {
  MMOE_REQUIRE_CLI();
  CliDir dir;
  dir.write("ok.csv", clean_csv());
  CliResult r = dir.run({"train", "--train", "ok.csv", "--label", "y:binary", "--learning-rate", "0.1"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_TRUE(r.err_has("--learning-rate")) << r.err;
  r = train_on(dir, "ok.csv", {"--on-bad-row", "skipp"});
  expect_refused(r, "usage error", "--on-bad-row: unknown on_bad_row \"skipp\" (use error or skip)");
  r = dir.run(quick_train({"train", "--train", "ok.csv", "--label", "y:binomial"}));
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_TRUE(r.err_has("binomial")) << r.err;
  r = dir.run(quick_train({"train", "--train", "ok.csv", "--label", "nope:binary"}));
  expect_refused(r, "usage error", "column 'nope' is not in the header of ok.csv");
}

}  // namespace
