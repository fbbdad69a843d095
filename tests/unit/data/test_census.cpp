// Census-Income (KDD) from the repo copy: the known label counts, both groups, and the feature layout.
#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>

#include "mmoe/features.h"

namespace {

const std::string kRoot = MMOE_SOURCE_DIR;

struct Counts {
  size_t rows = 0;
  double pos[2] = {0, 0};
};

Counts count(const mmoe::Dataset& ds) {
  Counts c;
  c.rows = ds.rows;
  for (size_t r = 0; r < ds.rows; ++r)
    for (size_t t = 0; t < 2; ++t) c.pos[t] += ds.labels[r * ds.n_task + t];
  return c;
}

class Census : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kRoot + "/data/census-income-kdd/census-income.data.gz"))
      GTEST_SKIP() << "census data not in the repo";
  }
};

TEST_F(Census, Group1KnownCounts) {
  mmoe::DataSetup d = mmoe::load_data_config(kRoot + "/examples/census-income-1.toml");
  mmoe::RawTable train = mmoe::read_table(kRoot + "/" + d.data.train, d.schema);
  mmoe::FeaturePipeline p = mmoe::FeaturePipeline::fit(train, d.schema);
  mmoe::Dataset tr = p.transform(train);
  Counts c = count(tr);
  EXPECT_EQ(c.rows, 199523u);
  EXPECT_EQ(c.pos[0], 12382);  // income 50000+.
  EXPECT_EQ(c.pos[1], 86485);  // Never married
  EXPECT_EQ(tr.task_names, (std::vector<std::string>{"income_50k", "marital_stat"}));
  EXPECT_EQ(tr.n_dense, 7u);  // no missing values in the numeric columns -> no flags
  EXPECT_EQ(tr.n_cat, 31u);   // 42 - 7 dense - instance_weight - education - 2 labels
  for (const auto& n : tr.cat_names) {
    EXPECT_NE(n, "education");
    EXPECT_NE(n, "marital_stat");
    EXPECT_NE(n, "instance_weight");
  }
  EXPECT_TRUE(tr.weights.empty());  // instance_weight is not a sample weight
  // Standardised: the training mean of every dense column is ~0.
  for (size_t j = 0; j < tr.n_dense; ++j) {
    double sum = 0;
    for (size_t r = 0; r < tr.rows; ++r) sum += tr.dense[r * tr.n_dense + j];
    EXPECT_NEAR(sum / static_cast<double>(tr.rows), 0.0, 1e-4) << tr.dense_names[j];
  }
  EXPECT_EQ(train.lines.front(), 1);
  EXPECT_EQ(train.lines.back(), 199523);

  mmoe::RawTable test = mmoe::read_table(kRoot + "/" + d.data.test, d.schema);
  mmoe::Dataset te = p.transform(test);
  c = count(te);
  EXPECT_EQ(c.rows, 99762u);
  EXPECT_EQ(c.pos[0], 6186);
  EXPECT_EQ(c.pos[1], 43143);
  // Every code is inside its column's cardinality (OOV included).
  for (size_t r = 0; r < te.rows; ++r)
    for (size_t j = 0; j < te.n_cat; ++j) {
      int32_t code = te.cat[r * te.n_cat + j];
      ASSERT_TRUE(code >= 0 && code < te.cat_cardinality[j]);
    }
  // The 1:1 split of the test file into validation and test.
  std::vector<size_t> va, ts;
  mmoe::split_rows(te.rows, d.data.split_test, d.data.split_seed, va, ts);
  EXPECT_EQ(va.size(), 49881u);
  EXPECT_EQ(ts.size(), 49881u);
}

TEST_F(Census, Group2KnownCounts) {
  mmoe::DataSetup d = mmoe::load_data_config(kRoot + "/examples/census-income-2.toml");
  mmoe::RawTable train = mmoe::read_table(kRoot + "/" + d.data.train, d.schema);
  mmoe::FeaturePipeline p = mmoe::FeaturePipeline::fit(train, d.schema);
  Counts c = count(p.transform(train));
  EXPECT_EQ(c.pos[0], 67003);  // education >= "Some college" (docs/data.md)
  EXPECT_EQ(c.pos[1], 86485);
  EXPECT_EQ(p.tasks()[0].name, "education");
  EXPECT_EQ(p.cat_names().size(), 32u);  // income_50k is a feature in group 2
  Counts t = count(p.transform(mmoe::read_table(kRoot + "/" + d.data.test, d.schema)));
  EXPECT_EQ(t.pos[0], 33410);
  EXPECT_EQ(t.pos[1], 43143);
}

}  // namespace
