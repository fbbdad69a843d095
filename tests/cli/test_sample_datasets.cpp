// The real-world sample files in ../shared/data (AliExpress, Ali-CCP, KuaiRand): their schemas load, a model
// trains on them for an epoch (one-hot and embedding encodings), and predict gives one row per input row.
// The samples are too small for metric assertions; these tests are about the data path end to end.
#include <filesystem>
#include <string>

#include "cli/cli_harness.h"
#include "shared_data.h"

namespace fs = std::filesystem;

namespace {

using namespace mmoe_cli_test;  // CliDir, CliResult, slurp, lines

struct Sample {
  const char* name;
  const char* schema;
  const char* train;
  const char* test;
};

class SampleDatasets : public ::testing::TestWithParam<Sample> {};

TEST_P(SampleDatasets, TrainOneEpochAndPredict) {
  const Sample s = GetParam();
  const std::string data = mmoe::test::shared_data_dir() + "/";
  if (!fs::exists(data + s.train)) GTEST_SKIP() << data << " not present (set MMOE_SHARED_DATA)";
  CliDir dir;
  const std::string schema = std::string(MMOE_FIXTURE_DIR) + "/schemas/" + s.schema;
  for (const char* encoding : {"onehot", "embedding"}) {
    const std::string model = std::string(encoding) + ".mmoe";
    CliResult r = dir.run({"train", "--schema", schema, "--train", data + s.train, "--test", data + s.test,
                           "--epochs", "1", "--batch-size", "16", "--experts", "4", "--cat-encoding", encoding,
                           "-q", "--out", model});
    ASSERT_EQ(r.code, 0) << s.name << " " << encoding << ": " << r.out << r.err;
    r = dir.run({"predict", "--model", model, "--data", data + s.test, "-q", "--out", "pred.csv"});
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    // header + one row per input row
    EXPECT_EQ(lines(dir.read("pred.csv")).size(), lines(slurp(data + s.test)).size()) << s.name;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shared, SampleDatasets,
    ::testing::Values(Sample{"aliexpress", "aliexpress.toml", "aliexpress-sample/aliexpress_train_sample.csv",
                             "aliexpress-sample/aliexpress_test_sample.csv"},
                      Sample{"ali_ccp", "ali_ccp.toml", "ali-ccp-sample/ali_ccp_train_sample.csv",
                             "ali-ccp-sample/ali_ccp_test_sample.csv"},
                      Sample{"kuairand", "kuairand.toml", "kuairand-sample/kuairand_sample.csv",
                             "kuairand-sample/kuairand_sample.csv"}),
    [](const ::testing::TestParamInfo<Sample>& param_info) { return std::string(param_info.param.name); });

}  // namespace
