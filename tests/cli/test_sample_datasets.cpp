// The real-world sample files in ../shared/data (AliExpress, Ali-CCP, KuaiRand): their schemas load, a model
// trains on them for an epoch (one-hot and embedding encodings), and predict gives one row per input row.
// The samples are too small for metric assertions; these tests are about the data path end to end.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace fs = std::filesystem;

namespace {

int run(const std::string& args, std::string* output = nullptr) {
  const std::string cmd = std::string(MMOE_CLI_PATH) + " " + args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  const int status = pclose(pipe);
  if (output) *output = out;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

size_t count_lines(const std::string& path) {
  std::ifstream in(path);
  size_t n = 0;
  std::string line;
  while (std::getline(in, line)) ++n;
  return n;
}

struct Sample {
  const char* name;
  const char* schema;
  const char* train;
  const char* test;
};

class SampleDatasets : public ::testing::TestWithParam<Sample> {};

TEST_P(SampleDatasets, TrainOneEpochAndPredict) {
  const Sample s = GetParam();
  const std::string data = std::string(MMOE_SOURCE_DIR) + "/../shared/data/";
  if (!fs::exists(data + s.train)) GTEST_SKIP() << "shared sample data not present";
  const fs::path dir = fs::temp_directory_path() / ("mmoe_sample_" + std::string(s.name) + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string schema = std::string(MMOE_FIXTURE_DIR) + "/schemas/" + s.schema;
  for (const char* encoding : {"onehot", "embedding"}) {
    const std::string model = (dir / (std::string(encoding) + ".mmoe")).string();
    std::string out;
    const int code = run("train --schema " + schema + " --train " + data + s.train + " --test " + data + s.test +
                             " --epochs 1 --batch-size 16 --experts 4 --cat-encoding " + encoding + " -q --out " + model,
                         &out);
    ASSERT_EQ(code, 0) << s.name << " " << encoding << ": " << out;
    const std::string pred = (dir / "pred.csv").string();
    ASSERT_EQ(run("predict --model " + model + " --data " + data + s.test + " -q --out " + pred, &out), 0) << out;
    EXPECT_EQ(count_lines(pred), count_lines(data + s.test)) << s.name;  // header + one row per input row
  }
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(
    Shared, SampleDatasets,
    ::testing::Values(Sample{"aliexpress", "aliexpress.toml", "aliexpress-sample/aliexpress_train_sample.csv",
                             "aliexpress-sample/aliexpress_test_sample.csv"},
                      Sample{"ali_ccp", "ali_ccp.toml", "ali-ccp-sample/ali_ccp_train_sample.csv",
                             "ali-ccp-sample/ali_ccp_test_sample.csv"},
                      Sample{"kuairand", "kuairand.toml", "kuairand-sample/kuairand_sample.csv",
                             "kuairand-sample/kuairand_sample.csv"}),
    [](const ::testing::TestParamInfo<Sample>& info) { return std::string(info.param.name); });

}  // namespace
