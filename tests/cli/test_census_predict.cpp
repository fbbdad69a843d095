// Issue 4's check: a model trained with the census preset predicts raw census rows with the label columns
// removed, one prediction per row, and those predictions score exactly what `mmoe eval` reports.
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/cli_harness.h"
#include "mmoe/metrics.h"

namespace fs = std::filesystem;

namespace {

using namespace mmoe_cli_test;  // CliDir, CliResult, lines

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
  CliDir dir;
  // 800 raw test rows, with and without the label columns (7 marital status, 41 income).
  gzFile gz = gzopen(data.c_str(), "rb");
  ASSERT_NE(gz, nullptr);
  std::ofstream labelled(dir.path("rows.csv")), unlabelled(dir.path("rows_nolabel.csv"));
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

  CliResult r = dir.run({"train", "--preset", "census-income-1", "--max-steps", "40", "--threads", "2", "-q",
                         "--out", "m.mmoe"});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  r = dir.run({"predict", "--model", "m.mmoe", "--data", "rows_nolabel.csv", "-q", "--out", "pred.csv"});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  r = dir.run({"eval", "--model", "m.mmoe", "--data", "rows.csv", "-q", "--metrics-out", "e.json"});
  ASSERT_EQ(r.code, 0) << r.out << r.err;

  const std::vector<std::string> pred = lines(dir.read("pred.csv"));
  ASSERT_FALSE(pred.empty());
  EXPECT_EQ(pred[0], "income_50k,marital_stat");
  std::vector<float> p_income;
  for (size_t i = 1; i < pred.size(); ++i) p_income.push_back(std::stof(pred[i].substr(0, pred[i].find(','))));
  ASSERT_EQ(p_income.size(), income.size());
  const nlohmann::json e = nlohmann::json::parse(dir.read("e.json"));
  EXPECT_NEAR(mmoe::auc(p_income, income), e["tasks"]["income_50k"]["test"]["auc"].get<double>(), 1e-6);
}

}  // namespace
