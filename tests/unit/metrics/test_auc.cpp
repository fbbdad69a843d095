// AUC against a brute-force pair count, edge cases, NaN-label skipping and speed.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <vector>

#include "mmoe/error.h"
#include "mmoe/metrics.h"
#include "mmoe/rng.h"

namespace {

// The definition: weighted share of (positive, negative) pairs ranked correctly, ties counting 1/2. O(n^2).
double auc_brute_force(const std::vector<float>& s, const std::vector<float>& y, const std::vector<float>& w) {
  double num = 0.0, den = 0.0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (std::isnan(y[i]) || !(y[i] > 0.5f)) continue;
    for (size_t j = 0; j < s.size(); ++j) {
      if (std::isnan(y[j]) || y[j] > 0.5f) continue;
      const double pw = (w.empty() ? 1.0 : w[i]) * (w.empty() ? 1.0 : w[j]);
      den += pw;
      if (s[i] > s[j]) num += pw;
      else if (s[i] == s[j]) num += 0.5 * pw;
    }
  }
  return num / den;
}

TEST(Auc, MatchesBruteForceWithManyTies) {
  mmoe::Rng rng(11);
  for (int trial = 0; trial < 20; ++trial) {
    const size_t n = 50 + rng.below(400);
    const uint64_t levels = 1 + rng.below(12);  // few distinct scores: many ties
    std::vector<float> s(n), y(n);
    for (size_t i = 0; i < n; ++i) {
      s[i] = static_cast<float>(rng.below(levels)) / 4.0f - 1.0f;  // negatives, zero and positives
      y[i] = rng.uniform() < 0.3 + 0.05 * s[i] ? 1.0f : 0.0f;
    }
    y[0] = 1.0f;
    y[1] = 0.0f;
    EXPECT_NEAR(mmoe::auc(s, y), auc_brute_force(s, y, {}), 1e-12) << "trial " << trial;
  }
}

TEST(Auc, MatchesBruteForceWithWeights) {
  mmoe::Rng rng(12);
  for (int trial = 0; trial < 20; ++trial) {
    const size_t n = 50 + rng.below(400);
    std::vector<float> s(n), y(n), w(n);
    for (size_t i = 0; i < n; ++i) {
      s[i] = trial % 2 ? static_cast<float>(rng.normal()) : static_cast<float>(rng.below(5));
      y[i] = rng.uniform() < 0.5 ? 1.0f : 0.0f;
      w[i] = rng.uniform() < 0.1 ? 0.0f : static_cast<float>(rng.uniform(0.1, 3.0));
    }
    y[0] = 1.0f;
    y[1] = 0.0f;
    w[0] = w[1] = 1.0f;
    EXPECT_NEAR(mmoe::auc(s, y, w), auc_brute_force(s, y, w), 1e-12) << "trial " << trial;
  }
}

TEST(Auc, IntegerWeightsEqualRepeatedRows) {
  const std::vector<float> s = {0.1f, 0.4f, 0.35f, 0.8f, 0.4f};
  const std::vector<float> y = {0, 0, 1, 1, 1};
  const std::vector<float> w = {2, 1, 3, 1, 2};
  std::vector<float> rs, ry;
  for (size_t i = 0; i < s.size(); ++i)
    for (int k = 0; k < static_cast<int>(w[i]); ++k) {
      rs.push_back(s[i]);
      ry.push_back(y[i]);
    }
  EXPECT_NEAR(mmoe::auc(s, y, w), mmoe::auc(rs, ry), 1e-15);
}

TEST(Auc, EdgeCases) {
  const std::vector<float> s = {0.1f, 0.2f, 0.3f, 0.4f};
  EXPECT_TRUE(std::isnan(mmoe::auc(s, std::vector<float>{1, 1, 1, 1})));
  EXPECT_TRUE(std::isnan(mmoe::auc(s, std::vector<float>{0, 0, 0, 0})));
  EXPECT_TRUE(std::isnan(mmoe::auc(std::vector<float>{}, std::vector<float>{})));
  EXPECT_DOUBLE_EQ(mmoe::auc(s, std::vector<float>{0, 0, 1, 1}), 1.0);
  EXPECT_DOUBLE_EQ(mmoe::auc(s, std::vector<float>{1, 1, 0, 0}), 0.0);
  EXPECT_DOUBLE_EQ(mmoe::auc(std::vector<float>{0.5f, 0.5f, 0.5f}, std::vector<float>{0, 1, 0}), 0.5);
  // Hand example: pairs (p=0.35 vs n=0.1, 0.4) and (p=0.8 vs both): (1 + 0 + 1 + 1) / 4.
  EXPECT_DOUBLE_EQ(mmoe::auc(std::vector<float>{0.1f, 0.4f, 0.35f, 0.8f}, std::vector<float>{0, 0, 1, 1}), 0.75);
  // -0 and +0 tie.
  EXPECT_DOUBLE_EQ(mmoe::auc(std::vector<float>{-0.0f, 0.0f}, std::vector<float>{1, 0}), 0.5);
  // Zero weight removes the only positive.
  EXPECT_TRUE(std::isnan(mmoe::auc(s, std::vector<float>{0, 0, 1, 0}, std::vector<float>{1, 1, 0, 1})));
  // Extreme and infinite scores keep their order.
  EXPECT_DOUBLE_EQ(mmoe::auc(std::vector<float>{-INFINITY, -3e38f, 1e-40f, INFINITY},
                             std::vector<float>{0, 0, 1, 1}),
                   1.0);
}

TEST(Auc, SkipsNanLabels) {
  const float nan = NAN;
  // The NaN-labelled rows would otherwise make the ranking imperfect.
  const std::vector<float> s = {0.1f, 0.9f, 0.2f, 0.8f, 0.5f};
  const std::vector<float> y = {0, nan, 0, 1, nan};
  EXPECT_DOUBLE_EQ(mmoe::auc(s, y), 1.0);
  // A NaN score on an unlabelled row is fine; on a labelled row it is an input error.
  EXPECT_DOUBLE_EQ(mmoe::auc(std::vector<float>{0.1f, nan, 0.9f}, std::vector<float>{0, nan, 1}), 1.0);
  try {
    mmoe::auc(std::vector<float>{0.1f, nan, 0.9f}, std::vector<float>{0, 1, 1});
    FAIL() << "expected an error";
  } catch (const mmoe::Error& e) {
    EXPECT_EQ(e.kind(), mmoe::ErrorKind::input);
  }
}

TEST(Auc, RejectsBadArguments) {
  const std::vector<float> s = {0.1f, 0.2f};
  const std::vector<float> y = {0, 1};
  try {
    mmoe::auc(s, std::vector<float>{0, 1, 1});
    FAIL() << "expected an error";
  } catch (const mmoe::Error& e) {
    EXPECT_EQ(e.kind(), mmoe::ErrorKind::usage);
    EXPECT_EQ(e.where(), "auc");
  }
  EXPECT_THROW(mmoe::auc(s, y, std::vector<float>{1}), mmoe::Error);
  EXPECT_THROW(mmoe::auc(s, y, std::vector<float>{1, -1}), mmoe::Error);
  EXPECT_THROW(mmoe::auc(s, y, std::vector<float>{1, NAN}), mmoe::Error);
}

TEST(Auc, HundredThousandRowsAreFast) {
  mmoe::Rng rng(3);
  const size_t n = 100000;
  std::vector<float> s(n), y(n);
  for (size_t i = 0; i < n; ++i) {
    y[i] = rng.uniform() < 0.2 ? 1.0f : 0.0f;
    s[i] = static_cast<float>(rng.normal() + y[i]);  // separation 1 sd: AUC = Phi(1/sqrt 2) ~ 0.760
  }
  double a = 0.0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int rep = 0; rep < 5; ++rep) a = mmoe::auc(s, y);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / 5;
  EXPECT_NEAR(a, 0.7602, 0.01);
  // A few ms on any machine; a generous bound so sanitizer/debug builds pass too.
  EXPECT_LT(ms, 100.0);
  RecordProperty("auc_100k_ms", std::to_string(ms));
}

}  // namespace
