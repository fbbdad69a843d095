// The schemas in tests/fixtures/schemas describe the small real-data samples in ../shared/data.
#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>

#include "mmoe/features.h"
#include "shared_data.h"

namespace {

const std::string kShared = mmoe::test::shared_data_dir();
const std::string kSchemas = std::string(MMOE_SOURCE_DIR) + "/tests/fixtures/schemas";

mmoe::Dataset load(const std::string& schema_file, const std::string& train, const std::string& other,
                   mmoe::FeaturePipeline* out = nullptr, mmoe::Dataset* other_ds = nullptr) {
  mmoe::Schema s = mmoe::Schema::from_file(kSchemas + "/" + schema_file);
  mmoe::RawTable t = mmoe::read_table(kShared + "/" + train, s);
  mmoe::FeaturePipeline p = mmoe::FeaturePipeline::fit(t, s);
  if (other_ds) *other_ds = p.transform(mmoe::read_table(kShared + "/" + other, s));
  if (out) *out = p;
  return p.transform(t);
}

double sum_task(const mmoe::Dataset& ds, size_t t) {
  double s = 0;
  for (size_t r = 0; r < ds.rows; ++r) s += ds.labels[r * ds.n_task + t];
  return s;
}

class Samples : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kShared)) GTEST_SKIP() << kShared << " not present (set MMOE_SHARED_DATA)";
  }
};

TEST_F(Samples, AliExpress) {
  mmoe::Dataset te;
  mmoe::Dataset tr = load("aliexpress.toml", "aliexpress-sample/aliexpress_train_sample.csv",
                          "aliexpress-sample/aliexpress_test_sample.csv", nullptr, &te);
  EXPECT_EQ(tr.rows, 100u);
  EXPECT_EQ(tr.n_cat, 16u);
  EXPECT_EQ(tr.n_dense, 63u);
  EXPECT_EQ(tr.task_names, (std::vector<std::string>{"click", "conversion"}));
  EXPECT_EQ(sum_task(tr, 0), 60);
  EXPECT_EQ(sum_task(tr, 1), 2);
  EXPECT_EQ(te.rows, 20u);
  EXPECT_EQ(sum_task(te, 0), 10);
  EXPECT_EQ(sum_task(te, 1), 2);
}

TEST_F(Samples, AliCcpMinMax) {
  mmoe::Dataset va;
  mmoe::Dataset tr = load("ali_ccp.toml", "ali-ccp-sample/ali_ccp_train_sample.csv",
                          "ali-ccp-sample/ali_ccp_val_sample.csv", nullptr, &va);
  EXPECT_EQ(tr.rows, 100u);
  EXPECT_EQ(tr.n_cat, 23u);
  EXPECT_EQ(tr.n_dense, 8u);
  EXPECT_EQ(sum_task(tr, 0), 7);
  EXPECT_EQ(sum_task(tr, 1), 1);
  EXPECT_EQ(va.rows, 50u);
  EXPECT_EQ(sum_task(va, 0), 3);
  for (float v : tr.dense) EXPECT_TRUE(v >= 0.0f && v <= 1.0f);  // min-max on the training rows
}

TEST_F(Samples, KuaiRandArrayFormHashingRegression) {
  mmoe::FeaturePipeline p;
  mmoe::Dataset ds = load("kuairand.toml", "kuairand-sample/kuairand_sample.csv", "kuairand-sample/kuairand_sample.csv", &p);
  EXPECT_EQ(ds.rows, 200u);
  ASSERT_EQ(ds.n_task, 2u);
  EXPECT_EQ(p.tasks()[1].kind, mmoe::TaskKind::regression);
  EXPECT_FLOAT_EQ(p.tasks()[1].loss_weight, 0.5f);
  EXPECT_EQ(sum_task(ds, 0), 32);
  EXPECT_FLOAT_EQ(ds.labels[1], 863.0f);  // play_time_ms of the first row
  EXPECT_EQ(ds.n_cat, 4u);
  EXPECT_EQ(ds.cat_cardinality[0], 65);  // user_id hashed into 64 buckets + missing
  EXPECT_EQ(ds.n_dense, 42u - 2 - 4 - 2);
}

}  // namespace
