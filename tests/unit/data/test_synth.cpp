// The synthetic generator (paper Sec. 3.2): geometry of w1/w2, label correlation, determinism, CSV output.
#include <gtest/gtest.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "mmoe/error.h"
#include "mmoe/synth.h"

namespace {

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0.0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

double pearson(const std::vector<float>& labels, size_t n_task, size_t a, size_t b) {
  const size_t n = labels.size() / n_task;
  double ma = 0, mb = 0;
  for (size_t r = 0; r < n; ++r) {
    ma += labels[r * n_task + a];
    mb += labels[r * n_task + b];
  }
  ma /= n;
  mb /= n;
  double sab = 0, saa = 0, sbb = 0;
  for (size_t r = 0; r < n; ++r) {
    const double da = labels[r * n_task + a] - ma, db = labels[r * n_task + b] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return sab / std::sqrt(saa * sbb);
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("mmoe_test_synth_" + name)).string();
}

TEST(Synth, WeightGeometry) {
  for (double p : {1.0, 0.9, 0.5, 0.0, -0.5, -1.0}) {
    for (double c : {1.0, 2.5}) {
      mmoe::SynthConfig cfg;
      cfg.correlation = p;
      cfg.scale = c;
      mmoe::Rng rng(static_cast<uint64_t>(100 * p + 1000 * c));
      const mmoe::SynthTask t = mmoe::make_synth_task(cfg, rng);
      ASSERT_EQ(t.w1.size(), 100u);
      ASSERT_EQ(t.w2.size(), 100u);
      const double n1 = std::sqrt(dot(t.w1, t.w1)), n2 = std::sqrt(dot(t.w2, t.w2));
      EXPECT_NEAR(n1, c, 1e-12 * c);
      EXPECT_NEAR(n2, c, 1e-12 * c);
      EXPECT_NEAR(dot(t.w1, t.w2) / (n1 * n2), p, 1e-12) << "p = " << p << ", c = " << c;
      EXPECT_EQ(t.alpha.size(), 10u);
      EXPECT_EQ(t.beta.size(), 10u);
    }
  }
}

TEST(Synth, LabelCorrelationEqualsCosineWithoutSinesAndNoise) {
  // With m = 0 and no noise, y_k = w_k.x with x ~ N(0, I): corr(y1, y2) = cos(w1, w2) = p.
  for (double p : {0.5, 0.9, -0.5}) {
    mmoe::SynthConfig cfg;
    cfg.correlation = p;
    cfg.n_sines = 0;
    cfg.noise_std = 0.0;
    cfg.rows = 200000;
    cfg.d = p == 0.5 ? 100 : 16;  // d does not enter the correlation; smaller d keeps the test quick
    cfg.seed = 42;
    const mmoe::Dataset ds = mmoe::make_synthetic(cfg);
    EXPECT_NEAR(pearson(ds.labels, 2, 0, 1), p, 0.01) << "p = " << p;
  }
}

TEST(Synth, LabelsFollowTheFormula) {
  mmoe::SynthConfig cfg;
  cfg.d = 12;
  cfg.noise_std = 0.0;
  cfg.n_sines = 5;
  mmoe::Rng rng(9);
  const mmoe::SynthTask t = mmoe::make_synth_task(cfg, rng);
  const mmoe::Dataset ds = mmoe::sample_synthetic(t, cfg, 50, rng);
  for (size_t r = 0; r < ds.rows; ++r) {
    for (int k = 0; k < 2; ++k) {
      const std::vector<double>& w = k == 0 ? t.w1 : t.w2;
      double s = 0.0;
      for (size_t j = 0; j < ds.n_dense; ++j) s += w[j] * ds.dense[r * ds.n_dense + j];
      double y = s;
      for (size_t i = 0; i < t.alpha.size(); ++i) y += std::sin(t.alpha[i] * s + t.beta[i]);
      EXPECT_FLOAT_EQ(ds.labels[r * 2 + k], static_cast<float>(y));
    }
  }
  // Noise adds eps with the configured spread: residual sd ~ noise_std.
  cfg.noise_std = 0.3;
  mmoe::Rng rng_a(10), rng_b(10);
  const mmoe::Dataset clean = [&] { mmoe::SynthConfig c0 = cfg; c0.noise_std = 0; return mmoe::sample_synthetic(t, c0, 20000, rng_a); }();
  const mmoe::Dataset noisy = mmoe::sample_synthetic(t, cfg, 20000, rng_b);
  EXPECT_EQ(clean.dense, noisy.dense);  // x does not depend on the noise level
  double ss = 0.0;
  for (size_t i = 0; i < clean.labels.size(); ++i) {
    const double e = noisy.labels[i] - clean.labels[i];
    ss += e * e;
  }
  EXPECT_NEAR(std::sqrt(ss / clean.labels.size()), 0.3, 0.01);
}

TEST(Synth, DatasetShapeAndNames) {
  mmoe::SynthConfig cfg;
  cfg.rows = 37;
  const mmoe::Dataset ds = mmoe::make_synthetic(cfg);
  EXPECT_EQ(ds.rows, 37u);
  EXPECT_EQ(ds.n_dense, 100u);
  EXPECT_EQ(ds.n_cat, 0u);
  EXPECT_EQ(ds.n_task, 2u);
  EXPECT_EQ(ds.dense.size(), 3700u);
  EXPECT_EQ(ds.labels.size(), 74u);
  EXPECT_TRUE(ds.cat.empty());
  EXPECT_TRUE(ds.weights.empty());
  EXPECT_EQ(ds.task_names, (std::vector<std::string>{"y1", "y2"}));
  ASSERT_EQ(ds.dense_names.size(), 100u);
  EXPECT_EQ(ds.dense_names.front(), "x0");
  EXPECT_EQ(ds.dense_names.back(), "x99");
  for (float v : ds.dense) ASSERT_TRUE(std::isfinite(v));
  for (float v : ds.labels) ASSERT_TRUE(std::isfinite(v));
}

TEST(Synth, Determinism) {
  mmoe::SynthConfig cfg;
  cfg.rows = 500;
  cfg.seed = 7;
  const mmoe::Dataset a = mmoe::make_synthetic(cfg), b = mmoe::make_synthetic(cfg);
  EXPECT_EQ(a.dense, b.dense);
  EXPECT_EQ(a.labels, b.labels);
  cfg.seed = 8;
  const mmoe::Dataset c = mmoe::make_synthetic(cfg);
  EXPECT_NE(a.dense, c.dense);
  EXPECT_NE(a.labels, c.labels);
  // Splits of one experiment: same task, fresh x.
  mmoe::Rng rng(7);
  const mmoe::SynthTask t = mmoe::make_synth_task(cfg, rng);
  const mmoe::Dataset train = mmoe::sample_synthetic(t, cfg, 100, rng);
  const mmoe::Dataset test = mmoe::sample_synthetic(t, cfg, 100, rng);
  EXPECT_NE(train.dense, test.dense);
  EXPECT_EQ(mmoe::sample_synthetic(t, cfg, 0, rng).rows, 0u);
  cfg.rows = 0;  // make_synth_task ignores rows
  EXPECT_NO_THROW(mmoe::make_synth_task(cfg, rng));
}

TEST(Synth, ValidatesConfig) {
  auto expect_usage = [](mmoe::SynthConfig cfg, const std::string& key) {
    try {
      mmoe::make_synthetic(cfg);
      ADD_FAILURE() << "expected a usage error for " << key;
    } catch (const mmoe::Error& e) {
      EXPECT_EQ(e.kind(), mmoe::ErrorKind::usage);
      EXPECT_EQ(e.where(), key);
    }
  };
  mmoe::SynthConfig cfg;
  cfg.rows = 10;
  { auto c = cfg; c.d = 1; expect_usage(c, "d"); }
  { auto c = cfg; c.correlation = 1.01; expect_usage(c, "correlation"); }
  { auto c = cfg; c.correlation = NAN; expect_usage(c, "correlation"); }
  { auto c = cfg; c.n_sines = -1; expect_usage(c, "n_sines"); }
  { auto c = cfg; c.noise_std = -0.1; expect_usage(c, "noise_std"); }
  { auto c = cfg; c.rows = 0; expect_usage(c, "rows"); }
  { auto c = cfg; c.scale = 0; expect_usage(c, "scale"); }
  cfg.correlation = -1.0;
  EXPECT_NO_THROW(mmoe::make_synthetic(cfg));
}

TEST(Synth, CsvRoundTrip) {
  mmoe::SynthConfig cfg;
  cfg.rows = 200;
  const mmoe::Dataset ds = mmoe::make_synthetic(cfg);
  const std::string path = temp_path("roundtrip.csv");
  mmoe::write_synthetic_csv(ds, path);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));

  std::ifstream in(path);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  std::string header;
  for (int j = 0; j < 100; ++j) header += "x" + std::to_string(j) + ",";
  EXPECT_EQ(line, header + "y1,y2");
  size_t r = 0;
  while (std::getline(in, line)) {
    ASSERT_LT(r, ds.rows);
    std::vector<float> values;
    const char* p = line.data();
    const char* end = p + line.size();
    while (p <= end) {
      float v;
      auto res = std::from_chars(p, end, v);
      ASSERT_EQ(res.ec, std::errc()) << "row " << r << ": " << line;
      values.push_back(v);
      p = res.ptr + 1;  // skip ','
    }
    ASSERT_EQ(values.size(), 102u);
    for (size_t j = 0; j < 100; ++j) ASSERT_EQ(values[j], ds.dense[r * 100 + j]) << "row " << r << " col " << j;
    ASSERT_EQ(values[100], ds.labels[r * 2]);
    ASSERT_EQ(values[101], ds.labels[r * 2 + 1]);
    ++r;
  }
  EXPECT_EQ(r, ds.rows);
  std::filesystem::remove(path);
}

TEST(Synth, CsvIsFast) {
  mmoe::SynthConfig cfg;
  cfg.rows = 20000;
  const mmoe::Dataset ds = mmoe::make_synthetic(cfg);
  const std::string path = temp_path("fast.csv");
  const auto t0 = std::chrono::steady_clock::now();
  mmoe::write_synthetic_csv(ds, path);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(s, 1.0);
  RecordProperty("csv_20000x100_ms", std::to_string(s * 1000));
  std::ifstream in(path);
  size_t lines = 0;
  for (std::string line; std::getline(in, line);) ++lines;
  EXPECT_EQ(lines, 20001u);
  std::filesystem::remove(path);
}

TEST(Synth, CsvUnwritablePathIsAnIoError) {
  mmoe::SynthConfig cfg;
  cfg.rows = 3;
  const mmoe::Dataset ds = mmoe::make_synthetic(cfg);
  const std::string path = temp_path("no_such_dir/out.csv");
  try {
    mmoe::write_synthetic_csv(ds, path);
    FAIL() << "expected an error";
  } catch (const mmoe::Error& e) {
    EXPECT_EQ(e.kind(), mmoe::ErrorKind::io);
    EXPECT_EQ(e.where(), path);
  }
}

}  // namespace
