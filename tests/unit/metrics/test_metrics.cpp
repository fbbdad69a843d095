// logloss, accuracy, mse, mae, r2 and the metric maps against hand computation.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "mmoe/error.h"
#include "mmoe/metrics.h"

namespace {

const float kNaN = NAN;

TEST(Logloss, HandComputed) {
  const std::vector<float> p = {0.9f, 0.2f, 0.6f};
  const std::vector<float> y = {1, 0, 0};
  const double expected = -(std::log(double{0.9f}) + std::log(1.0 - double{0.2f}) + std::log(1.0 - double{0.6f})) / 3;
  EXPECT_NEAR(mmoe::logloss(p, y), expected, 1e-12);
  // Weighted: weights 2, 1, 0 drop the third row and double the first.
  const std::vector<float> w = {2, 1, 0};
  const double wexp = -(2 * std::log(double{0.9f}) + std::log(1.0 - double{0.2f})) / 3;
  EXPECT_NEAR(mmoe::logloss(p, y, w), wexp, 1e-12);
}

TEST(Logloss, ClipsProbabilities) {
  // p = 0 for a positive would be infinite; the clip makes it -log(1e-7).
  EXPECT_NEAR(mmoe::logloss(std::vector<float>{0.0f}, std::vector<float>{1}), -std::log(1e-7), 1e-9);
  EXPECT_NEAR(mmoe::logloss(std::vector<float>{1.0f}, std::vector<float>{0}), -std::log(1e-7), 1e-6);
  EXPECT_NEAR(mmoe::logloss(std::vector<float>{1.0f}, std::vector<float>{1}), -std::log(1 - 1e-7), 1e-12);
}

TEST(Accuracy, ThresholdHalf) {
  const std::vector<float> p = {0.5f, 0.49f, 0.7f, 0.1f};
  const std::vector<float> y = {1, 0, 0, 1};  // right, right, wrong, wrong
  EXPECT_DOUBLE_EQ(mmoe::accuracy(p, y), 0.5);
  EXPECT_DOUBLE_EQ(mmoe::accuracy(p, y, std::vector<float>{3, 1, 1, 1}), 4.0 / 6.0);
}

TEST(Regression, HandComputed) {
  const std::vector<float> pred = {1.0f, 2.0f, 5.0f, 0.0f};
  const std::vector<float> y = {1.5f, 2.0f, 3.0f, -1.0f};
  // errors: -0.5, 0, 2, 1
  EXPECT_DOUBLE_EQ(mmoe::mse(pred, y), (0.25 + 0 + 4 + 1) / 4);
  EXPECT_DOUBLE_EQ(mmoe::mae(pred, y), (0.5 + 0 + 2 + 1) / 4);
  // mean y = 1.375; SST = 0.015625 + 0.390625 + 2.640625 + 5.640625 = 8.6875
  EXPECT_NEAR(mmoe::r2(pred, y), 1.0 - 5.25 / 8.6875, 1e-12);

  const std::vector<float> w = {1, 2, 0, 1};
  EXPECT_DOUBLE_EQ(mmoe::mse(pred, y, w), (0.25 + 0 + 0 + 1) / 4);
  EXPECT_DOUBLE_EQ(mmoe::mae(pred, y, w), (0.5 + 0 + 0 + 1) / 4);
  // weighted mean y = (1.5 + 4 - 1) / 4 = 1.125; SST = 0.140625 + 2*0.765625 + 4.515625 = 6.1875
  EXPECT_NEAR(mmoe::r2(pred, y, w), 1.0 - 1.25 / 6.1875, 1e-12);
}

TEST(Regression, PerfectAndMeanPredictors) {
  const std::vector<float> y = {1, 2, 3, 4};
  EXPECT_DOUBLE_EQ(mmoe::r2(y, y), 1.0);
  EXPECT_DOUBLE_EQ(mmoe::r2(std::vector<float>{2.5f, 2.5f, 2.5f, 2.5f}, y), 0.0);
  EXPECT_TRUE(std::isnan(mmoe::r2(y, std::vector<float>{2, 2, 2, 2})));  // SST = 0
}

TEST(Metrics, SkipNanLabels) {
  const std::vector<float> p = {0.9f, 0.0f, 0.2f, 1.0f};
  const std::vector<float> y = {1, kNaN, 0, kNaN};
  const std::vector<float> p2 = {0.9f, 0.2f};
  const std::vector<float> y2 = {1, 0};
  EXPECT_DOUBLE_EQ(mmoe::logloss(p, y), mmoe::logloss(p2, y2));
  EXPECT_DOUBLE_EQ(mmoe::accuracy(p, y), 1.0);
  EXPECT_DOUBLE_EQ(mmoe::mse(p, y), mmoe::mse(p2, y2));
  EXPECT_DOUBLE_EQ(mmoe::mae(p, y), mmoe::mae(p2, y2));
  EXPECT_DOUBLE_EQ(mmoe::r2(p, y), mmoe::r2(p2, y2));
  // Nothing labelled: NaN, not an exception.
  const std::vector<float> none = {kNaN, kNaN};
  const std::vector<float> two = {0.1f, 0.2f};
  EXPECT_TRUE(std::isnan(mmoe::logloss(two, none)));
  EXPECT_TRUE(std::isnan(mmoe::accuracy(two, none)));
  EXPECT_TRUE(std::isnan(mmoe::mse(two, none)));
  EXPECT_TRUE(std::isnan(mmoe::mae(two, none)));
  EXPECT_TRUE(std::isnan(mmoe::r2(two, none)));
}

TEST(Metrics, Maps) {
  const std::vector<float> p = {0.9f, 0.3f, 0.2f, 0.6f, 0.5f};
  const std::vector<float> y = {1, 0, 0, 1, kNaN};
  auto b = mmoe::binary_metrics(p, y);
  ASSERT_EQ(b.size(), 5u);
  EXPECT_DOUBLE_EQ(b.at("auc"), 1.0);
  EXPECT_DOUBLE_EQ(b.at("logloss"), mmoe::logloss(p, y));
  EXPECT_DOUBLE_EQ(b.at("accuracy"), 1.0);
  EXPECT_DOUBLE_EQ(b.at("count"), 4.0);
  EXPECT_DOUBLE_EQ(b.at("positives"), 2.0);

  auto r = mmoe::regression_metrics(p, y, std::vector<float>{1, 2, 1, 1, 1});
  ASSERT_EQ(r.size(), 4u);
  EXPECT_DOUBLE_EQ(r.at("mse"), mmoe::mse(p, y, std::vector<float>{1, 2, 1, 1, 1}));
  EXPECT_DOUBLE_EQ(r.at("mae"), mmoe::mae(p, y, std::vector<float>{1, 2, 1, 1, 1}));
  EXPECT_DOUBLE_EQ(r.at("r2"), mmoe::r2(p, y, std::vector<float>{1, 2, 1, 1, 1}));
  EXPECT_DOUBLE_EQ(r.at("count"), 4.0);
}

TEST(Metrics, RejectBadArguments) {
  const std::vector<float> p = {0.1f, 0.2f};
  const std::vector<float> y = {0, 1};
  EXPECT_THROW(mmoe::mse(p, std::vector<float>{0}), mmoe::Error);
  EXPECT_THROW(mmoe::logloss(p, y, std::vector<float>{1, 2, 3}), mmoe::Error);
  try {
    mmoe::mae(p, y, std::vector<float>{1, -2});
    FAIL() << "expected an error";
  } catch (const mmoe::Error& e) {
    EXPECT_EQ(e.kind(), mmoe::ErrorKind::input);
    EXPECT_EQ(e.where(), "mae row 1");
  }
}

}  // namespace
