// FeaturePipeline::fit and transform on several threads give one thread's result bit for bit (the fitted
// pipeline's JSON, every encoded value, code, label and weight), on a table long enough to be split
// (2 x 16,384 rows and more, not a whole number of 256-row blocks), with missing dense values (flags), a
// vocabulary with rare values (min_count), a hashed column, missing labels and weights; and one thread's
// encoding is checked value by value against the formula, with the mean and population std summed here.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>

#include "mmoe/features.h"

namespace {

namespace fs = std::filesystem;

constexpr size_t kRows = 40003;

const char* kSchema = R"(
[schema]
missing = ["", "NA"]
min_count = 3
[schema.columns]
c = "categorical"
h = { kind = "categorical", hash_buckets = 13 }
y = { kind = "label", positive = ["yes"], negative = ["no"] }
r = { kind = "label", task = "regression" }
w = "weight"
)";

// x: dense, every 11th missing; z: dense; c: 57 common values, v57 (9 rows) kept, v58 (1 row) and v59 (2 rows)
// under min_count, every 39th missing; h: 5,003 values, hashed.
std::string write_table() {
  fs::path dir = fs::temp_directory_path() / ("mmoe_pipe_threads_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "table.csv").string();
  std::ofstream out(path, std::ios::binary);
  out << "x,z,c,h,y,r,w\n";
  for (size_t i = 0; i < kRows; ++i) {
    const std::string c = i % 39 == 0          ? ""
                          : i == 17              ? "v58"
                          : i == 18 || i == 19   ? "v59"
                          : i % 5000 == 1        ? "v57"
                                                 : "v" + std::to_string(i % 57);
    const std::string x = i % 11 == 4 ? "NA" : std::to_string(static_cast<double>(i % 1013) * 0.37 - 50.0);
    const char* y = i % 17 == 5 ? "NA" : i % 3 ? "yes" : "no";
    out << x << ',' << std::to_string(std::sin(static_cast<double>(i))) << ',' << c << ",k" << (i * 7919 % 5003) << ','
        << y << ',' << static_cast<double>(i % 101) / 7.0 << ',' << 0.5 + static_cast<double>(i % 4) << '\n';
  }
  return path;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

TEST(PipelineThreads, FitAndTransformOnTwoThreadsEqualOneThread) {
  const mmoe::Schema s = mmoe::Schema::from_toml(kSchema);
  const mmoe::RawTable t = mmoe::read_table(write_table(), s);
  ASSERT_EQ(t.rows, kRows);
  const mmoe::FeaturePipeline one = mmoe::FeaturePipeline::fit(t, s, 1);
  const mmoe::Dataset a = one.transform(t, 1);
  for (int threads : {2, 3}) {
    SCOPED_TRACE(threads);
    const mmoe::FeaturePipeline many = mmoe::FeaturePipeline::fit(t, s, threads);
    EXPECT_EQ(many.to_json(), one.to_json());
    const mmoe::Dataset b = many.transform(t, threads);
    EXPECT_EQ(b.rows, a.rows);
    EXPECT_TRUE(same_bits(b.dense, a.dense));
    EXPECT_EQ(b.cat, a.cat);
    EXPECT_TRUE(same_bits(b.labels, a.labels));
    EXPECT_TRUE(same_bits(b.weights, a.weights));
    EXPECT_EQ(b.cat_cardinality, a.cat_cardinality);
  }

  // One thread, value by value: x standardised with its missing flag, z standardised, codes in range.
  ASSERT_EQ(a.n_dense, 3u);  // x, z, x:missing
  double sum = 0, sum2 = 0;
  size_t n = 0;
  const std::vector<float>& x = t.find("x")->values;
  for (float v : x)
    if (!std::isnan(v)) sum += v, ++n;
  const double mean = sum / static_cast<double>(n);
  for (float v : x)
    if (!std::isnan(v)) sum2 += (v - mean) * (v - mean);
  const double inv = 1.0 / std::sqrt(sum2 / static_cast<double>(n));
  size_t checked_missing = 0;
  for (size_t r = 0; r < kRows; ++r) {
    const bool miss = std::isnan(x[r]);
    const float want = miss ? static_cast<float>((mean - mean) * inv) : static_cast<float>((x[r] - mean) * inv);
    ASSERT_EQ(a.dense[r * 3 + 0], want) << "row " << r;
    ASSERT_EQ(a.dense[r * 3 + 2], miss ? 1.0f : 0.0f) << "row " << r;
    checked_missing += miss;
    ASSERT_GE(a.cat[r * 2 + 0], 0);
    ASSERT_LT(a.cat[r * 2 + 0], a.cat_cardinality[0]);
    ASSERT_GE(a.cat[r * 2 + 1], 0);
    ASSERT_LT(a.cat[r * 2 + 1], a.cat_cardinality[1]);
  }
  EXPECT_EQ(checked_missing, kRows - n);
  // Rare values are out of vocabulary (code 0), a kept one is not; a missing value has a code of its own.
  EXPECT_EQ(a.cat[17 * 2], 0);
  EXPECT_EQ(a.cat[18 * 2], 0);
  EXPECT_GT(a.cat[5001 * 2], 0);
  EXPECT_EQ(a.cat[39 * 2], a.cat_cardinality[0] - 1);
  // The last row lands in a partial block: its hashed code is the formula's, its labels and weight are its own.
  const size_t last = kRows - 1;
  EXPECT_EQ(a.cat[last * 2 + 1], static_cast<int32_t>(mmoe::fnv1a64("k" + std::to_string(last * 7919 % 5003)) % 13 + 1));
  EXPECT_EQ(a.weights[last], 0.5f + static_cast<float>(last % 4));
  EXPECT_FLOAT_EQ(a.labels[last * 2 + 1], static_cast<float>(static_cast<double>(last % 101) / 7.0));
}

}  // namespace
