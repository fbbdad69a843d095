// mmoe/features.h: from a CSV file to an mmoe::Dataset, in two steps.
//
// 1. read_table(path, schema) reads the file once into a RawTable: one RawColumn per file column, numbers as
//    float (NaN = missing), categorical strings interned per column into int32 codes plus a dictionary, labels
//    already decoded to 0/1 (binary) or a float (regression), NaN where the label is missing. Every kept row
//    remembers its source line. Bad rows either stop the read (on_bad_row = error) or are skipped, counted and
//    sampled (on_bad_row = skip); either way the table knows, for every data record of the file, which row it
//    became or that it was skipped, so predict can write one output row per input row.
// 2. FeaturePipeline::fit(train_table, schema) learns, from the training rows only:
//      dense:        center/scale (standard: mean/std, minmax: min/max-min; a zero spread becomes 1), the mean
//                    to impute missing values with, and whether to add a 0/1 "<name>:missing" feature (only for
//                    columns that had missing values in training; these flags come after all dense columns).
//      categorical:  code 0 = out-of-vocabulary (unseen at fit time, or seen fewer than min_count times);
//                    codes 1..V = the kept values in byte-wise sorted order; code V+1 = "missing", only if
//                    missing values were seen at least min_count times in training (else missing -> 0).
//                    With hash_buckets = N: code = fnv1a64(value) % N + 1, missing -> 0, cardinality N + 1.
//    transform(table) then gives the Dataset (dense, cat, labels, weights) for any table read with the same
//    schema, with or without its label columns (labels then NaN). to_json()/from_json() carry everything
//    transform needs, including the schema and the training file's columns, so predict needs only the model.
//
//   mmoe::Schema schema = mmoe::Schema::from_file("examples/census-income-1.toml");
//   mmoe::RawTable train = mmoe::read_table("census-income.data.gz", schema);
//   mmoe::FeaturePipeline pipe = mmoe::FeaturePipeline::fit(train, schema);
//   mmoe::Dataset ds = pipe.transform(train);            // ds.cat_cardinality includes the OOV code
//   nlohmann::json j = pipe.to_json();                   // -> model file
//   mmoe::FeaturePipeline again = mmoe::FeaturePipeline::from_json(j);
//   mmoe::RawTable rows = again.read("new_rows.csv", {.on_bad_row = mmoe::BadRowPolicy::skip});
//   mmoe::Dataset x = again.transform(rows);             // labels NaN if the file has none
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mmoe/dataset.h"
#include "mmoe/schema.h"
#include "mmoe/spec.h"

namespace mmoe {

struct RawColumn {
  std::string name;
  ColumnKind kind = ColumnKind::ignore;
  int64_t field = 0;                    // 0-based position in the file
  TaskKind task = TaskKind::binary;     // kind == label
  std::vector<float> values;            // (rows) dense / label / weight; NaN = missing
  std::vector<int32_t> codes;           // (rows) categorical: index into dictionary, -1 = missing
  std::vector<std::string> dictionary;  // categorical: distinct values in order of first appearance
};

struct BadRow {
  int64_t line = 0;
  std::string where;    // "path:line:col"
  std::string message;  // without the location
};

struct ReadOptions {
  BadRowPolicy on_bad_row = BadRowPolicy::error;
  int64_t max_bad_rows = -1;  // skip mode: throw once more rows than this are bad; -1 = no limit
  size_t bad_row_samples = 10;  // how many bad rows keep their message
  bool labels_optional = false; // label and weight columns may be absent (predict)
  // A plain file of at least 2 x parallel_min_bytes is read in up to `threads` parts at once, one per
  // parallel_min_bytes (0: never). A gzip file whose text is at least as large (by its trailer) is inflated
  // on one thread in blocks of about gzip_block_bytes, which all `threads` threads parse. Either way the table
  // is the same as one reader's.
  int threads = 2;
  uint64_t parallel_min_bytes = uint64_t{16} << 20;
  uint64_t gzip_block_bytes = uint64_t{1} << 20;
};

struct RawTable {
  std::string path;
  size_t rows = 0;                       // kept rows
  std::vector<RawColumn> columns;        // one per file column, in file order (ignore columns hold no data)
  std::vector<int64_t> lines;            // (rows) source line of each kept row
  std::vector<int64_t> record_rows;      // (records) each data record of the file: its row, or -1 if skipped
  std::vector<int64_t> skipped_lines;    // source line of every skipped record
  std::vector<BadRow> bad_rows;          // the first ReadOptions::bad_row_samples skipped records, with reasons
  size_t parts = 1;                      // pieces the file was parsed in: byte ranges (plain), blocks (gzip)
  size_t n_bad_rows() const { return skipped_lines.size(); }

  const RawColumn* find(std::string_view name) const;
};

// Reads a CSV (plain or gzip) with a schema. Throws io/input/usage as csv.h and schema.h describe; with
// on_bad_row = error the first bad row throws (ErrorKind::input, where = path:line:col).
RawTable read_table(const std::string& path, const Schema& schema, const ReadOptions& options = {});
// Several files read at the same time, a thread each (options.threads > 1; each file also parses in parts as
// read_table does), or one after another. The tables come in the order of `paths`; an error is the one the
// files read in turn would give: the first failing file's in that order.
std::vector<RawTable> read_tables(const std::vector<std::string>& paths, const Schema& schema, const ReadOptions& options = {});

struct FeatureOptions {
  Scaling scaling = Scaling::standard;
  int64_t min_count = 1;
  int64_t hash_buckets = 0;
  bool missing_flags = true;
  static FeatureOptions from(const Schema& schema);
};

// The listed rows of a table (in the given order), e.g. the training part of a random split, so that the
// pipeline is fitted on training rows only. Line numbers travel with the rows.
RawTable select_rows(const RawTable& table, const std::vector<size_t>& rows);

// 64-bit FNV-1a: the stable hash behind hash_buckets (same codes on every machine and compiler).
uint64_t fnv1a64(std::string_view text);

class FeaturePipeline {
 public:
  // Fits on the training table (options from the schema, or given). Throws input if a label is missing
  // from the table or a column's kind differs from the schema's. threads: up to that many take the
  // columns' statistics (the same result on any number).
  static FeaturePipeline fit(const RawTable& train, const Schema& schema, int threads = 1);
  static FeaturePipeline fit(const RawTable& train, const Schema& schema, const FeatureOptions& options, int threads = 1);

  // Encodes a table read with the same schema. Throws input (where = the table's path) if its columns
  // differ from the training file's (a column missing, added, or of another kind). Label and weight
  // columns may be absent: labels are then NaN and weights empty. threads: up to that many encode row
  // ranges (the same result on any number).
  Dataset transform(const RawTable& table, int threads = 1) const;

  // Reads a file with the fitted schema, label columns optional (predict).
  RawTable read(const std::string& path, const ReadOptions& options = {}) const;

  const Schema& schema() const { return schema_; }
  const std::vector<TaskSpec>& tasks() const { return tasks_; }
  size_t n_dense() const;                           // dense columns + missing flags
  std::vector<int64_t> cat_cardinality() const;     // one per categorical column, OOV code included
  std::vector<std::string> dense_names() const;
  std::vector<std::string> cat_names() const;

  nlohmann::json to_json() const;
  // Throws ErrorKind::format for a malformed pipeline.
  static FeaturePipeline from_json(const nlohmann::json& j);

 private:
  struct InputColumn {
    std::string name;
    ColumnKind kind;
  };
  struct DenseFeature {
    std::string name;
    double center = 0, scale = 1;  // x' = (x - center) / scale
    double fill = 0;               // raw value imputed for missing
    bool flag = false;             // emit a "<name>:missing" 0/1 feature
  };
  struct CatFeature {
    std::string name;
    int64_t hash_buckets = 0;         // > 0: hashing mode, vocab empty
    std::vector<std::string> vocab;   // sorted; value vocab[i] has code i + 1
    int32_t missing_code = 0;
    int64_t cardinality = 1;
  };

  Schema schema_;
  FeatureOptions options_;
  std::vector<InputColumn> inputs_;  // the training file's feature (non-label, non-weight) columns, in order
  std::vector<DenseFeature> dense_;
  std::vector<CatFeature> cat_;
  std::vector<TaskSpec> tasks_;
  std::string weight_;  // weight column name, "" = none
};

}  // namespace mmoe
