// Schema and [data] config: parsing, defaults, binding to a file, and every error naming its key.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "mmoe/schema.h"
#include "error_capture.h"

namespace {

using mmoe::test::catch_error;

const char* kBasic = R"(
[schema]
separator = ", "
header = false
missing = ["?"]
comment = "#"
names = ["age", "job", "edu", "w", "income", "married"]
default = "categorical"
[schema.columns]
age = "dense"
edu = "ignore"
w = "weight"
income = { kind = "label", task = "binary", positive = ["50000+."], negative = ["- 50000."], loss_weight = 2.0 }
married = { kind = "label", positive = "Never married" }
)";

TEST(Schema, ParsesKeysAndKeepsTaskOrder) {
  mmoe::Schema s = mmoe::Schema::from_toml(kBasic, "basic.toml");
  EXPECT_EQ(s.separator.ch, ',');
  EXPECT_TRUE(s.separator.trim);
  EXPECT_FALSE(s.header);
  EXPECT_EQ(s.missing, std::vector<std::string>{"?"});
  EXPECT_EQ(s.comment, "#");
  EXPECT_EQ(s.default_kind, mmoe::ColumnKind::categorical);
  ASSERT_EQ(s.columns.size(), 5u);
  // Declaration order, not toml++'s sorted key order.
  EXPECT_EQ(s.columns[0].name, "age");
  EXPECT_EQ(s.columns[3].name, "income");
  auto tasks = s.tasks();
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks[0].name, "income");
  EXPECT_FLOAT_EQ(tasks[0].loss_weight, 2.0f);
  EXPECT_EQ(tasks[1].name, "married");
  EXPECT_EQ(s.columns[4].positive, std::vector<std::string>{"Never married"});
  EXPECT_EQ(s.columns[3].key, "schema.columns.income");
}

TEST(Schema, BindsHeaderlessByNames) {
  mmoe::Schema s = mmoe::Schema::from_toml(kBasic);
  auto cols = s.bind({}, 6, "f.csv");
  ASSERT_EQ(cols.size(), 6u);
  EXPECT_EQ(cols[0].kind, mmoe::ColumnKind::dense);
  EXPECT_EQ(cols[1].name, "job");
  EXPECT_EQ(cols[1].kind, mmoe::ColumnKind::categorical);  // default
  EXPECT_EQ(cols[2].kind, mmoe::ColumnKind::ignore);
  EXPECT_EQ(cols[3].kind, mmoe::ColumnKind::weight);
  EXPECT_EQ(cols[4].kind, mmoe::ColumnKind::label);
  // Predict on rows without labels or weight: 3 columns, the non-target ones in order.
  auto pred = s.bind({}, 3, "p.csv", true);
  ASSERT_EQ(pred.size(), 3u);
  EXPECT_EQ(pred[0].name, "age");
  EXPECT_EQ(pred[1].name, "job");
  EXPECT_EQ(pred[2].name, "edu");
  mmoe::Error e = catch_error([&] { s.bind({}, 5, "five.csv"); });
  EXPECT_EQ(e.kind(), mmoe::ErrorKind::input);
  EXPECT_EQ(e.where(), "five.csv");
}

TEST(Schema, BindsHeaderedByNameAndChecksIndex) {
  mmoe::Schema s = mmoe::Schema::from_toml(R"(
columns = { y = "label", x = { kind = "categorical", index = 1 } }
)");
  auto cols = s.bind({"a", "x", "y"}, 3, "h.csv");
  EXPECT_EQ(cols[0].kind, mmoe::ColumnKind::dense);
  EXPECT_EQ(cols[1].kind, mmoe::ColumnKind::categorical);
  EXPECT_EQ(cols[2].kind, mmoe::ColumnKind::label);
  mmoe::Error e = catch_error([&] { s.bind({"x", "a", "y"}, 3, "h.csv"); });
  EXPECT_EQ(e.where(), "columns.x.index");
  e = catch_error([&] { s.bind({"a", "x", "z"}, 3, "h.csv"); });
  EXPECT_EQ(e.where(), "columns.y");
  EXPECT_NE(e.message().find("not in the header of h.csv"), std::string::npos);
  // Labels optional: a predict file without y binds.
  auto pred = s.bind({"a", "x"}, 2, "p.csv", true);
  EXPECT_EQ(pred.size(), 2u);
}

TEST(Schema, IndexForm) {
  mmoe::Schema s = mmoe::Schema::from_toml(R"(
[schema]
header = false
default = "ignore"
columns = [{index = 0, name = "age", kind = "dense"}, {index = 3, kind = "label", task = "regression"}]
)");
  ASSERT_EQ(s.columns.size(), 2u);
  EXPECT_EQ(s.columns[1].name, "c3");
  auto cols = s.bind({}, 4, "f.csv");
  EXPECT_EQ(cols[0].name, "age");
  EXPECT_EQ(cols[3].kind, mmoe::ColumnKind::label);
  EXPECT_EQ(cols[1].kind, mmoe::ColumnKind::ignore);
  mmoe::Error e = catch_error([&] { s.bind({}, 3, "short.csv"); });
  EXPECT_EQ(e.where(), "schema.columns[1].index");
  EXPECT_NE(e.message().find("beyond the 3 columns"), std::string::npos);
}

TEST(Schema, UnknownKeySuggestsNearest) {
  mmoe::Error e = catch_error([] { mmoe::Schema::from_toml("[schema]\nseparater = \",\"\n", "s.toml"); });
  EXPECT_EQ(e.kind(), mmoe::ErrorKind::usage);
  EXPECT_EQ(e.where(), "schema.separater");
  EXPECT_NE(e.message().find("s.toml:2:1"), std::string::npos) << e.what();
  EXPECT_NE(e.hint().find("did you mean 'schema.separator'"), std::string::npos) << e.hint();

  e = catch_error([] { mmoe::Schema::from_toml("[schema.columns.age]\nkind = \"dense\"\npositiv = [\"x\"]\n", "s.toml"); });
  EXPECT_EQ(e.where(), "schema.columns.age.positiv");
  EXPECT_NE(e.hint().find("'schema.columns.age.positive'"), std::string::npos);
}

TEST(Schema, WrongTypesNameTheKey) {
  mmoe::Error e = catch_error([] { mmoe::Schema::from_toml("[schema]\nheader = \"yes\"\ncolumns = {y = \"label\"}\n"); });
  EXPECT_EQ(e.where(), "schema.header");
  EXPECT_NE(e.message().find("must be true or false, not a string"), std::string::npos);
  e = catch_error([] { mmoe::Schema::from_toml("[schema]\nmissing = [1, 2]\ncolumns = {y = \"label\"}\n"); });
  EXPECT_EQ(e.where(), "schema.missing");
  e = catch_error([] { mmoe::Schema::from_toml("[schema]\ncolumns = {y = \"lable\"}\n"); });
  EXPECT_EQ(e.where(), "schema.columns.y");
  EXPECT_NE(e.hint().find("label"), std::string::npos);
  e = catch_error([] { mmoe::Schema::from_toml("[schema]\nmin_count = 0\ncolumns = {y = \"label\"}\n"); });
  EXPECT_EQ(e.where(), "schema.min_count");
  e = catch_error([] { mmoe::Schema::from_toml("[schema]\ncolumns = {y = { kind = \"dense\", positive = [\"1\"] }}\n"); });
  EXPECT_EQ(e.where(), "schema.columns.y");
}

TEST(Schema, ImpossibleSchemas) {
  // No label.
  mmoe::Error e = catch_error([] { mmoe::Schema::from_toml("[schema]\ncolumns = {x = \"dense\"}\n"); });
  EXPECT_EQ(e.where(), "schema.columns");
  EXPECT_NE(e.message().find("no label"), std::string::npos);
  // Two weight columns.
  e = catch_error([] { mmoe::Schema::from_toml("[schema]\ncolumns = {y = \"label\", w1 = \"weight\", w2 = \"weight\"}\n"); });
  EXPECT_EQ(e.where(), "schema.columns.w2.kind");
  // A label that is also a feature: the same column index given twice.
  e = catch_error([] {
    mmoe::Schema::from_toml(R"([schema]
header = false
columns = [{index = 2, name = "y", kind = "label"}, {index = 2, name = "f", kind = "dense"}]
)");
  });
  EXPECT_EQ(e.where(), "schema.columns[1].index");
  EXPECT_NE(e.message().find("both 'y' and 'f'"), std::string::npos);
  // Headerless without names or index.
  e = catch_error([] { mmoe::Schema::from_toml("[schema]\nheader = false\ncolumns = {y = \"label\"}\n"); });
  EXPECT_EQ(e.where(), "schema.columns.y");
  // names on a headered file.
  e = catch_error([] { mmoe::Schema::from_toml("[schema]\nnames = [\"a\"]\ncolumns = {a = \"label\"}\n"); });
  EXPECT_EQ(e.where(), "schema.names");
  // A default kind of label.
  e = catch_error([] { mmoe::Schema::from_toml("[schema]\ndefault = \"label\"\ncolumns = {a = \"label\"}\n"); });
  EXPECT_EQ(e.where(), "schema.default");
}

TEST(Schema, TomlSyntaxErrorHasFileLineCol) {
  mmoe::Error e = catch_error([] { mmoe::Schema::from_toml("[schema]\nheader = \n", "bad.toml"); });
  EXPECT_EQ(e.kind(), mmoe::ErrorKind::usage);
  EXPECT_EQ(e.where().rfind("bad.toml:2:", 0), 0u) << e.where();
  e = catch_error([] { mmoe::Schema::from_file("/nonexistent/schema.toml"); });
  EXPECT_EQ(e.kind(), mmoe::ErrorKind::io);
  EXPECT_EQ(e.where(), "/nonexistent/schema.toml");
}

TEST(Schema, PlainConstructor) {
  mmoe::Schema s = mmoe::Schema::plain({{"y1", mmoe::TaskKind::regression}, {"y2", mmoe::TaskKind::regression}});
  EXPECT_TRUE(s.header);
  auto cols = s.bind({"x0", "y1", "x1", "y2"}, 4, "synth.csv");
  EXPECT_EQ(cols[0].kind, mmoe::ColumnKind::dense);
  EXPECT_EQ(cols[1].kind, mmoe::ColumnKind::label);
  EXPECT_EQ(cols[1].task, mmoe::TaskKind::regression);
  EXPECT_EQ(cols[2].kind, mmoe::ColumnKind::dense);
  EXPECT_EQ(s.tasks().size(), 2u);
  mmoe::Error e = catch_error([&] { s.bind({"x0", "y1"}, 2, "synth.csv"); });
  EXPECT_EQ(e.where(), "--label y2");
}

TEST(Schema, JsonRoundTrip) {
  mmoe::Schema s = mmoe::Schema::from_toml(kBasic);
  mmoe::Schema t = mmoe::Schema::from_json(s.to_json());
  EXPECT_EQ(t.to_json(), s.to_json());
  EXPECT_EQ(t.tasks().size(), 2u);
  EXPECT_EQ(t.columns[3].negative, std::vector<std::string>{"- 50000."});
}

TEST(DataConfig, ReadsDataAndRejectsUnknownKeys) {
  mmoe::DataSetup d = mmoe::parse_data_config(R"(
[data]
train = "a.csv"
test = "b.csv.gz"
split_test = 0.5
split_seed = 7
on_bad_row = "skip"
[schema]
columns = {y = "label"}
[model]
anything = 1
)", "cfg.toml");
  EXPECT_EQ(d.data.train, "a.csv");
  EXPECT_EQ(d.data.test, "b.csv.gz");
  EXPECT_DOUBLE_EQ(d.data.split_test, 0.5);
  EXPECT_EQ(d.data.split_seed, 7u);
  EXPECT_EQ(d.data.on_bad_row, mmoe::BadRowPolicy::skip);
  mmoe::Error e = catch_error([] { mmoe::parse_data_config("[data]\ntrian = \"x\"\n[schema]\ncolumns = {y = \"label\"}\n", "c.toml"); });
  EXPECT_EQ(e.where(), "data.trian");
  EXPECT_NE(e.hint().find("'data.train'"), std::string::npos);
  EXPECT_NE(e.message().find("c.toml:2:1"), std::string::npos);
  e = catch_error([] { mmoe::parse_data_config("[data]\nsplit_test = 1.5\ntest = \"t\"\n[schema]\ncolumns = {y = \"label\"}\n"); });
  EXPECT_EQ(e.where(), "data.split_test");
  e = catch_error([] { mmoe::parse_data_config("[data]\ntrain = \"x\"\n"); });
  EXPECT_NE(e.message().find("no [schema]"), std::string::npos);
}

TEST(DataConfig, CensusPresetsLoad) {
  for (const char* name : {"census-income-1.toml", "census-income-2.toml"}) {
    mmoe::DataSetup d = mmoe::load_data_config(std::string(MMOE_SOURCE_DIR) + "/examples/" + name);
    EXPECT_EQ(d.schema.names.size(), 42u);
    EXPECT_EQ(d.data.train, "data/census-income-kdd/census-income.data.gz");
    EXPECT_DOUBLE_EQ(d.data.split_test, 0.5);
    auto tasks = d.schema.tasks();
    ASSERT_EQ(tasks.size(), 2u);
    EXPECT_EQ(tasks[1].name, "marital_stat");
    auto cols = d.schema.bind({}, 42, "census");
    EXPECT_EQ(cols[24].kind, mmoe::ColumnKind::ignore);  // instance_weight: not a feature, not a weight
    EXPECT_EQ(cols[0].kind, mmoe::ColumnKind::dense);
    EXPECT_EQ(cols[7].kind, mmoe::ColumnKind::label);
    EXPECT_NE(cols[4].kind, mmoe::ColumnKind::categorical);  // education is never a feature
    EXPECT_EQ(std::count_if(cols.begin(), cols.end(), [](auto& c) { return c.kind == mmoe::ColumnKind::dense; }), 7);
  }
}

TEST(SplitRows, DeterministicDisjointSorted) {
  std::vector<size_t> a, b, a2, b2;
  mmoe::split_rows(101, 0.5, 1, a, b);
  mmoe::split_rows(101, 0.5, 1, a2, b2);
  EXPECT_EQ(a, a2);
  EXPECT_EQ(b, b2);
  EXPECT_EQ(a.size(), 50u);
  EXPECT_EQ(b.size(), 51u);
  EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
  std::vector<size_t> all = a;
  all.insert(all.end(), b.begin(), b.end());
  std::sort(all.begin(), all.end());
  std::vector<size_t> want(101);
  std::iota(want.begin(), want.end(), size_t{0});
  EXPECT_EQ(all, want);
  mmoe::split_rows(101, 0.5, 2, a2, b2);
  EXPECT_NE(a, a2);
}

TEST(EditDistance, Basics) {
  EXPECT_EQ(mmoe::edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(mmoe::edit_distance("", "abc"), 3u);
  EXPECT_EQ(mmoe::nearest_word("hedaer", {"header", "separator", "comment"}), "header");
}

}  // namespace
