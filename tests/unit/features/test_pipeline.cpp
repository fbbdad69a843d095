// read_table + FeaturePipeline: decoding, bad rows, scaling, OOV, hashing, label masks, JSON round trip.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include <gtest/gtest.h>

#include "mmoe/features.h"
#include "error_capture.h"

namespace {

namespace fs = std::filesystem;

std::string write_file(const std::string& name, const std::string& text) {
  fs::path dir = fs::temp_directory_path() / ("mmoe_feat_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string path = (dir / name).string();
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

using mmoe::test::catch_error;

// x: dense with one missing, c: categorical, y: binary label by value, r: regression label, w: weight.
const char* kSchema = R"(
[schema]
missing = ["", "NA"]
[schema.columns]
c = "categorical"
y = { kind = "label", positive = ["yes"], negative = ["no"] }
r = { kind = "label", task = "regression" }
w = "weight"
)";

const char* kTrain =
    "x,c,y,r,w\n"
    "1,red,yes,0.5,1\n"
    "3,blue,no,1.5,2\n"
    "NA,red,NA,2.5,1\n"
    "5,green,no,,1\n"
    "7,red,yes,3.5,0.5\n";

TEST(ReadTable, DecodesColumnsAndLines) {
  mmoe::Schema s = mmoe::Schema::from_toml(kSchema);
  mmoe::RawTable t = mmoe::read_table(write_file("train.csv", kTrain), s);
  ASSERT_EQ(t.rows, 5u);
  EXPECT_EQ(t.lines, (std::vector<int64_t>{2, 3, 4, 5, 6}));
  const mmoe::RawColumn* x = t.find("x");
  ASSERT_TRUE(x);
  EXPECT_EQ(x->kind, mmoe::ColumnKind::dense);
  EXPECT_TRUE(std::isnan(x->values[2]));
  EXPECT_FLOAT_EQ(x->values[4], 7.0f);
  const mmoe::RawColumn* c = t.find("c");
  EXPECT_EQ(c->dictionary, (std::vector<std::string>{"red", "blue", "green"}));
  EXPECT_EQ(c->codes, (std::vector<int32_t>{0, 1, 0, 2, 0}));
  const mmoe::RawColumn* y = t.find("y");
  EXPECT_FLOAT_EQ(y->values[0], 1.0f);
  EXPECT_FLOAT_EQ(y->values[1], 0.0f);
  EXPECT_TRUE(std::isnan(y->values[2]));  // missing label: masked for this task only
  EXPECT_TRUE(std::isnan(t.find("r")->values[3]));
  EXPECT_FLOAT_EQ(t.find("r")->values[2], 2.5f);
}

TEST(ReadTable, BadValuesNameFileLineCol) {
  mmoe::Schema s = mmoe::Schema::from_toml(kSchema);
  std::string p = write_file("badnum.csv", "x,c,y,r,w\n1,a,yes,1,1\n1x,a,yes,1,1\n");
  mmoe::Error e = catch_error([&] { mmoe::read_table(p, s); });
  EXPECT_EQ(e.kind(), mmoe::ErrorKind::input);
  EXPECT_EQ(e.where(), p + ":3:1");
  EXPECT_NE(e.message().find("expected a finite number in dense column 'x', got \"1x\""), std::string::npos) << e.what();

  p = write_file("nan.csv", "x,c,y,r,w\nnan,a,yes,1,1\n");
  e = catch_error([&] { mmoe::read_table(p, s); });
  EXPECT_EQ(e.where(), p + ":2:1");
  p = write_file("inf.csv", "x,c,y,r,w\n1,a,yes,inf,1\n");
  e = catch_error([&] { mmoe::read_table(p, s); });
  EXPECT_EQ(e.where(), p + ":2:9");

  p = write_file("label.csv", "x,c,y,r,w\n1,a,yes,1,1\n1,a,maybe,1,1\n");
  e = catch_error([&] { mmoe::read_table(p, s); });
  EXPECT_EQ(e.where(), p + ":3:5");
  EXPECT_NE(e.message().find("neither positive"), std::string::npos);

  p = write_file("weight.csv", "x,c,y,r,w\n1,a,yes,1,-2\n");
  e = catch_error([&] { mmoe::read_table(p, s); });
  EXPECT_EQ(e.where(), p + ":2:11");
  p = write_file("weight2.csv", "x,c,y,r,w\n1,a,yes,1,\n");
  e = catch_error([&] { mmoe::read_table(p, s); });
  EXPECT_EQ(e.where(), p + ":2:11");
  EXPECT_NE(e.message().find("missing sample weight"), std::string::npos);

  mmoe::Schema b = mmoe::Schema::from_toml("columns = {y = \"label\"}");
  p = write_file("bin.csv", "x,y\n1,0\n2,2\n");
  e = catch_error([&] { mmoe::read_table(p, b); });
  EXPECT_EQ(e.where(), p + ":3:3");
  EXPECT_NE(e.message().find("must be 0 or 1"), std::string::npos);
}

TEST(ReadTable, SkipPolicyKeepsRecordMap) {
  mmoe::Schema s = mmoe::Schema::from_toml(kSchema);
  std::string p = write_file("skip.csv", "x,c,y,r,w\n1,a,yes,1,1\nbad,a,yes,1,1\n2,a,no,1\n3,b,no,2,1\n");
  mmoe::ReadOptions o;
  o.on_bad_row = mmoe::BadRowPolicy::skip;
  mmoe::RawTable t = mmoe::read_table(p, s, o);
  EXPECT_EQ(t.rows, 2u);
  EXPECT_EQ(t.n_bad_rows(), 2u);
  EXPECT_EQ(t.record_rows, (std::vector<int64_t>{0, -1, -1, 1}));
  EXPECT_EQ(t.skipped_lines, (std::vector<int64_t>{3, 4}));
  ASSERT_EQ(t.bad_rows.size(), 2u);
  EXPECT_EQ(t.bad_rows[0].where, p + ":3:1");
  EXPECT_EQ(t.bad_rows[1].where, p + ":4:9");
  EXPECT_EQ(t.bad_rows[1].message, "expected 5 fields, got 4");
  // A skipped row leaves nothing behind: the categorical "a" of row 3 did not become a kept row.
  EXPECT_EQ(t.find("c")->codes.size(), 2u);
  EXPECT_EQ(t.lines, (std::vector<int64_t>{2, 5}));
  o.max_bad_rows = 1;
  mmoe::Error e = catch_error([&] { mmoe::read_table(p, s, o); });
  EXPECT_EQ(e.where(), p + ":4:9");
  EXPECT_NE(e.message().find("more than 1 bad rows"), std::string::npos);
}

TEST(Pipeline, StandardScalingImputationAndFlags) {
  mmoe::Schema s = mmoe::Schema::from_toml(kSchema);
  mmoe::RawTable t = mmoe::read_table(write_file("train.csv", kTrain), s);
  mmoe::FeaturePipeline p = mmoe::FeaturePipeline::fit(t, s);
  mmoe::Dataset ds = p.transform(t);
  ASSERT_EQ(ds.n_dense, 2u);  // x and its missing flag
  EXPECT_EQ(ds.dense_names, (std::vector<std::string>{"x", "x:missing"}));
  // x over non-missing {1,3,5,7}: mean 4, population std sqrt(5).
  const float sd = std::sqrt(5.0f);
  EXPECT_NEAR(ds.dense[0 * 2], (1 - 4) / sd, 1e-6);
  EXPECT_NEAR(ds.dense[4 * 2], (7 - 4) / sd, 1e-6);
  EXPECT_NEAR(ds.dense[2 * 2], 0.0f, 1e-7);  // imputed with the mean
  EXPECT_EQ(ds.dense[2 * 2 + 1], 1.0f);
  EXPECT_EQ(ds.dense[0 * 2 + 1], 0.0f);
  ASSERT_EQ(ds.n_task, 2u);
  EXPECT_EQ(ds.task_names, (std::vector<std::string>{"y", "r"}));
  EXPECT_TRUE(std::isnan(ds.labels[2 * 2 + 0]));
  EXPECT_FLOAT_EQ(ds.labels[2 * 2 + 1], 2.5f);  // the other task keeps its label
  EXPECT_TRUE(std::isnan(ds.labels[3 * 2 + 1]));
  EXPECT_EQ(ds.weights, (std::vector<float>{1, 2, 1, 1, 0.5f}));
  // Vocabulary: 0 = OOV, then sorted: blue 1, green 2, red 3.
  EXPECT_EQ(ds.cat_cardinality, std::vector<int64_t>{4});
  EXPECT_EQ(ds.cat, (std::vector<int32_t>{3, 1, 3, 2, 3}));
}

TEST(Pipeline, MinMaxScalingAndNoFlagWithoutMissing) {
  mmoe::Schema s = mmoe::Schema::from_toml("scaling = \"minmax\"\ncolumns = {y = \"label\"}");
  mmoe::RawTable t = mmoe::read_table(write_file("mm.csv", "a,b,y\n2,5,1\n4,5,0\n10,5,1\n"), s);
  mmoe::Dataset ds = mmoe::FeaturePipeline::fit(t, s).transform(t);
  ASSERT_EQ(ds.n_dense, 2u);  // no missing in training -> no flags
  EXPECT_FLOAT_EQ(ds.dense[0], 0.0f);
  EXPECT_FLOAT_EQ(ds.dense[2], 0.25f);
  EXPECT_FLOAT_EQ(ds.dense[4], 1.0f);
  EXPECT_FLOAT_EQ(ds.dense[1], 0.0f);  // constant column: range 0 -> 1, so (5 - 5) / 1
  mmoe::FeatureOptions o;
  o.scaling = mmoe::Scaling::standard;
  mmoe::Dataset st = mmoe::FeaturePipeline::fit(t, s, o).transform(t);
  EXPECT_NEAR(st.dense[0], (2 - 16.0 / 3) / std::sqrt(104.0 / 9), 1e-6);
  EXPECT_FLOAT_EQ(st.dense[1], 0.0f);  // std 0 -> 1
}

TEST(Pipeline, MinCountOovAndUnseenValues) {
  mmoe::Schema s = mmoe::Schema::from_toml("min_count = 2\ndefault = \"categorical\"\ncolumns = {y = \"label\"}");
  mmoe::RawTable t = mmoe::read_table(write_file("oov.csv", "c,y\na,1\na,0\nb,1\n,0\n,1\nc,0\nc,1\n"), s);
  mmoe::FeaturePipeline p = mmoe::FeaturePipeline::fit(t, s);
  // Kept: a, c (count 2); b (count 1) -> OOV; missing seen twice -> its own code 3.
  EXPECT_EQ(p.cat_cardinality(), std::vector<int64_t>{4});
  mmoe::Dataset ds = p.transform(t);
  EXPECT_EQ(ds.cat, (std::vector<int32_t>{1, 1, 0, 3, 3, 2, 2}));
  mmoe::RawTable u = mmoe::read_table(write_file("unseen.csv", "c,y\nzzz,1\nc,0\n,1\n"), s);
  EXPECT_EQ(p.transform(u).cat, (std::vector<int32_t>{0, 2, 3}));
}

TEST(Pipeline, HashingIsStableAndInRange) {
  EXPECT_EQ(mmoe::fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(mmoe::fnv1a64("a"), 0xaf63dc4c8601ec8cULL);  // the published FNV-1a 64 test vector
  mmoe::Schema s = mmoe::Schema::from_toml("hash_buckets = 7\ndefault = \"categorical\"\ncolumns = {y = \"label\"}");
  mmoe::RawTable t = mmoe::read_table(write_file("hash.csv", "c,y\na,1\nb,0\n,1\n"), s);
  mmoe::FeaturePipeline p = mmoe::FeaturePipeline::fit(t, s);
  EXPECT_EQ(p.cat_cardinality(), std::vector<int64_t>{8});
  mmoe::Dataset ds = p.transform(t);
  EXPECT_EQ(ds.cat[0], static_cast<int32_t>(mmoe::fnv1a64("a") % 7 + 1));
  EXPECT_EQ(ds.cat[1], static_cast<int32_t>(mmoe::fnv1a64("b") % 7 + 1));
  EXPECT_EQ(ds.cat[2], 0);  // missing
  // A value never seen in training still gets its bucket, not OOV.
  mmoe::RawTable u = mmoe::read_table(write_file("hash2.csv", "c,y\nnever-seen,1\n"), s);
  EXPECT_EQ(p.transform(u).cat[0], static_cast<int32_t>(mmoe::fnv1a64("never-seen") % 7 + 1));
}

TEST(Pipeline, JsonRoundTripGivesIdenticalTransform) {
  mmoe::Schema s = mmoe::Schema::from_toml(kSchema);
  mmoe::RawTable t = mmoe::read_table(write_file("train.csv", kTrain), s);
  mmoe::FeaturePipeline p = mmoe::FeaturePipeline::fit(t, s);
  std::string text = p.to_json().dump();
  mmoe::FeaturePipeline q = mmoe::FeaturePipeline::from_json(nlohmann::json::parse(text));
  mmoe::Dataset a = p.transform(t), b = q.transform(t);
  EXPECT_EQ(a.dense, b.dense);
  EXPECT_EQ(a.cat, b.cat);
  EXPECT_EQ(a.cat_cardinality, b.cat_cardinality);
  EXPECT_EQ(a.weights, b.weights);
  for (size_t i = 0; i < a.labels.size(); ++i)
    EXPECT_TRUE(a.labels[i] == b.labels[i] || (std::isnan(a.labels[i]) && std::isnan(b.labels[i])));
  EXPECT_EQ(q.to_json(), p.to_json());
  // A corrupt pipeline is a format error.
  nlohmann::json j = p.to_json();
  j["categorical"][0]["cardinality"] = 99;
  mmoe::Error e = catch_error([&] { mmoe::FeaturePipeline::from_json(j); });
  EXPECT_EQ(e.kind(), mmoe::ErrorKind::format);
}

TEST(Pipeline, PredictWithoutLabelsAndSchemaMismatch) {
  mmoe::Schema s = mmoe::Schema::from_toml(kSchema);
  mmoe::RawTable t = mmoe::read_table(write_file("train.csv", kTrain), s);
  mmoe::FeaturePipeline p = mmoe::FeaturePipeline::from_json(mmoe::FeaturePipeline::fit(t, s).to_json());
  // Columns reordered, labels and weight removed, one bad row skipped.
  mmoe::ReadOptions o;
  o.on_bad_row = mmoe::BadRowPolicy::skip;
  mmoe::RawTable u = p.read(write_file("pred.csv", "c,x\nblue,3\nred,oops\nred,\n"), o);
  EXPECT_EQ(u.record_rows, (std::vector<int64_t>{0, -1, 1}));
  mmoe::Dataset ds = p.transform(u);
  ASSERT_EQ(ds.rows, 2u);
  EXPECT_EQ(ds.n_task, 2u);
  for (float v : ds.labels) EXPECT_TRUE(std::isnan(v));
  EXPECT_TRUE(ds.weights.empty());
  EXPECT_EQ(ds.cat, (std::vector<int32_t>{1, 3}));
  EXPECT_NEAR(ds.dense[0], (3 - 4) / std::sqrt(5.0f), 1e-6);
  EXPECT_EQ(ds.dense[3], 1.0f);  // row 2's x is missing -> flag

  std::string q = write_file("missing_col.csv", "c,y\nred,yes\n");
  mmoe::Error e = catch_error([&] { p.transform(p.read(q)); });
  EXPECT_EQ(e.kind(), mmoe::ErrorKind::input);
  EXPECT_EQ(e.where(), q);
  EXPECT_NE(e.message().find("column 'x' (dense) of the training data is missing"), std::string::npos) << e.what();
  std::string extra = write_file("extra.csv", "c,x,z\nred,1,2\n");
  e = catch_error([&] { p.transform(p.read(extra)); });
  EXPECT_NE(e.message().find("column 'z' (dense) was not in the training data"), std::string::npos) << e.what();
  // A table read with a different schema, where x is categorical.
  mmoe::Schema s2 = mmoe::Schema::from_toml("default = \"categorical\"\ncolumns = {y = { kind = \"label\", positive = [\"yes\"] }, r = { kind = \"label\", task = \"regression\" }, w = \"weight\"}");
  mmoe::RawTable t2 = mmoe::read_table(write_file("train.csv", kTrain), s2);
  e = catch_error([&] { p.transform(t2); });
  EXPECT_NE(e.message().find("column 'x' is categorical here but was dense"), std::string::npos) << e.what();
}

TEST(Pipeline, FitNeedsLabelsInTable) {
  mmoe::Schema s = mmoe::Schema::from_toml(kSchema);
  mmoe::ReadOptions o;
  o.labels_optional = true;
  mmoe::RawTable t = mmoe::read_table(write_file("nolabel.csv", "x,c\n1,a\n"), s, o);
  mmoe::Error e = catch_error([&] { mmoe::FeaturePipeline::fit(t, s); });
  EXPECT_NE(e.message().find("label column 'y' is not in the training file"), std::string::npos);
}

}  // namespace
