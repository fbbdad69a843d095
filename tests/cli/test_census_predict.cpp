// Issue 4's check: a model trained with the census preset predicts raw census rows with the label columns
// removed, one prediction per row, and those predictions score exactly what `mmoe eval` reports.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "mmoe/metrics.h"

namespace fs = std::filesystem;

namespace {

int run(const std::string& args) {
  const std::string cmd = std::string(MMOE_CLI_PATH) + " " + args + " > /dev/null 2>&1";
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t at; (at = line.find(", ", start)) != std::string::npos; start = at + 2) out.push_back(line.substr(start, at - start));
  out.push_back(line.substr(start));
  return out;
}

TEST(CensusPredict, RawRowsWithoutLabelsMatchEval) {
  const std::string data = std::string(MMOE_SOURCE_DIR) + "/data/census-income-kdd/census-income.test.gz";
  ASSERT_TRUE(fs::exists(data));
  const fs::path dir = fs::temp_directory_path() / ("mmoe_census_" + std::to_string(getpid()));
  fs::create_directories(dir);
  // 800 raw test rows, with and without the label columns (7 marital status, 41 income).
  gzFile gz = gzopen(data.c_str(), "rb");
  ASSERT_NE(gz, nullptr);
  std::ofstream labelled(dir / "rows.csv"), unlabelled(dir / "rows_nolabel.csv");
  std::vector<float> income;
  char buf[8192];
  for (int i = 0; i < 800 && gzgets(gz, buf, sizeof buf); ++i) {
    std::string line(buf);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    labelled << line << "\n";
    const std::vector<std::string> f = split_fields(line);
    ASSERT_EQ(f.size(), 42u);
    income.push_back(f[41] == "50000+." ? 1.0f : 0.0f);
    std::string kept;
    for (size_t j = 0; j < f.size(); ++j)
      if (j != 7 && j != 41) kept += (kept.empty() ? "" : ", ") + f[j];
    unlabelled << kept << "\n";
  }
  gzclose(gz);
  labelled.close();
  unlabelled.close();

  const std::string model = (dir / "m.mmoe").string();
  ASSERT_EQ(run("train --preset census-income-1 --max-steps 40 --threads 2 -q --out " + model), 0);
  const std::string pred = (dir / "pred.csv").string();
  ASSERT_EQ(run("predict --model " + model + " --data " + (dir / "rows_nolabel.csv").string() + " -q --out " + pred), 0);
  ASSERT_EQ(run("eval --model " + model + " --data " + (dir / "rows.csv").string() + " -q --metrics-out " +
                (dir / "e.json").string()), 0);

  std::ifstream in(pred);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "income_50k,marital_stat");
  std::vector<float> p_income;
  while (std::getline(in, line)) p_income.push_back(std::stof(line.substr(0, line.find(','))));
  ASSERT_EQ(p_income.size(), income.size());
  std::ifstream ej(dir / "e.json");
  const nlohmann::json e = nlohmann::json::parse(ej);
  EXPECT_NEAR(mmoe::auc(p_income, income), e["tasks"]["income_50k"]["test"]["auc"].get<double>(), 1e-6);
  fs::remove_all(dir);
}

}  // namespace
