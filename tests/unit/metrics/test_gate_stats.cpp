// Gate statistics on hand examples: uniform gates, one-hot gates, batching invariance.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "mmoe/error.h"
#include "mmoe/metrics.h"
#include "mmoe/rng.h"

namespace {

TEST(GateStats, UniformGatesHaveEntropyLogE) {
  const int G = 2, E = 4;
  std::vector<float> gates(3 * G * E, 0.25f);  // (3, G*E)
  mmoe::GateStatsAccumulator acc(G, E);
  acc.add(gates.data(), 3);
  const mmoe::GateStats s = acc.result();
  EXPECT_EQ(s.n_gate, G);
  EXPECT_EQ(s.n_expert, E);
  EXPECT_EQ(s.rows, 3u);
  ASSERT_EQ(s.mean_weight.size(), static_cast<size_t>(G * E));
  ASSERT_EQ(s.mean_entropy.size(), static_cast<size_t>(G));
  ASSERT_EQ(s.entropy_of_mean.size(), static_cast<size_t>(G));
  for (double m : s.mean_weight) EXPECT_DOUBLE_EQ(m, 0.25);
  for (int g = 0; g < G; ++g) {
    EXPECT_NEAR(s.mean_entropy[g], std::log(4.0), 1e-12);
    EXPECT_NEAR(s.entropy_of_mean[g], std::log(4.0), 1e-12);
  }
}

TEST(GateStats, OneHotGates) {
  // Gate 0 always picks expert 0; gate 1 picks expert 0 then expert 2: each row is certain (entropy 0),
  // but gate 1's mean is split (1/2, 0, 1/2), so its entropy of the mean is log 2.
  const int G = 2, E = 3;
  const std::vector<float> gates = {
      1, 0, 0, /* gate 1 */ 1, 0, 0,  // row 0
      1, 0, 0, /* gate 1 */ 0, 0, 1,  // row 1
  };
  mmoe::GateStatsAccumulator acc(G, E);
  acc.add(gates.data(), 2);
  const mmoe::GateStats s = acc.result();
  EXPECT_DOUBLE_EQ(s.mean_entropy[0], 0.0);
  EXPECT_DOUBLE_EQ(s.mean_entropy[1], 0.0);
  EXPECT_DOUBLE_EQ(s.entropy_of_mean[0], 0.0);
  EXPECT_NEAR(s.entropy_of_mean[1], std::log(2.0), 1e-12);
  const std::vector<double> expected = {1, 0, 0, 0.5, 0, 0.5};
  for (size_t j = 0; j < expected.size(); ++j) EXPECT_DOUBLE_EQ(s.mean_weight[j], expected[j]);
}

TEST(GateStats, HandExample) {
  // One gate, two experts, rows (0.2, 0.8) and (0.6, 0.4).
  const std::vector<float> gates = {0.2f, 0.8f, 0.6f, 0.4f};
  mmoe::GateStatsAccumulator acc(1, 2);
  acc.add(gates.data(), 2);
  const mmoe::GateStats s = acc.result();
  auto h = [](double a, double b) { return -(a * std::log(a) + b * std::log(b)); };
  EXPECT_NEAR(s.mean_weight[0], 0.4, 1e-7);
  EXPECT_NEAR(s.mean_weight[1], 0.6, 1e-7);
  EXPECT_NEAR(s.mean_entropy[0], (h(0.2, 0.8) + h(0.6, 0.4)) / 2, 1e-7);
  EXPECT_NEAR(s.entropy_of_mean[0], h(0.4, 0.6), 1e-7);
}

TEST(GateStats, BatchingDoesNotMatter) {
  const int G = 3, E = 5;
  const size_t rows = 101;
  mmoe::Rng rng(5);
  std::vector<float> gates(rows * G * E);
  for (size_t r = 0; r < rows * G; ++r) {
    double sum = 0.0;
    for (int e = 0; e < E; ++e) sum += (gates[r * E + e] = static_cast<float>(rng.uniform()));
    for (int e = 0; e < E; ++e) gates[r * E + e] = static_cast<float>(gates[r * E + e] / sum);
  }
  mmoe::GateStatsAccumulator whole(G, E), parts(G, E);
  whole.add(gates.data(), rows);
  for (size_t r = 0; r < rows; r += 10) parts.add(gates.data() + r * G * E, std::min<size_t>(10, rows - r));
  const mmoe::GateStats a = whole.result(), b = parts.result();
  EXPECT_EQ(b.rows, rows);
  for (size_t j = 0; j < a.mean_weight.size(); ++j) EXPECT_NEAR(a.mean_weight[j], b.mean_weight[j], 1e-12);
  for (int g = 0; g < G; ++g) {
    EXPECT_NEAR(a.mean_entropy[g], b.mean_entropy[g], 1e-12);
    EXPECT_NEAR(a.entropy_of_mean[g], b.entropy_of_mean[g], 1e-12);
    // Jensen: the entropy of the mean is at least the mean entropy.
    EXPECT_GE(a.entropy_of_mean[g], a.mean_entropy[g] - 1e-12);
  }
}

TEST(GateStats, EmptyAndInvalid) {
  mmoe::GateStatsAccumulator acc(2, 3);
  const mmoe::GateStats s = acc.result();
  EXPECT_EQ(s.rows, 0u);
  ASSERT_EQ(s.mean_weight.size(), 6u);
  EXPECT_TRUE(std::isnan(s.mean_weight[0]));
  EXPECT_TRUE(std::isnan(s.mean_entropy[1]));
  EXPECT_THROW(mmoe::GateStatsAccumulator(-1, 3), mmoe::Error);
  EXPECT_THROW(mmoe::GateStatsAccumulator(2, 0), mmoe::Error);
  mmoe::GateStatsAccumulator gateless(0, 4);  // shared_bottom: no gates, nothing to report
  gateless.add(nullptr, 7);
  EXPECT_TRUE(gateless.result().mean_weight.empty());
}

}  // namespace
