// mmoe/schema.h: what each column of a CSV file is, and where the data files are.
//
// A schema says, per column, one of five kinds:
//   dense        a number; standardised (or min-max scaled) by the feature pipeline
//   categorical  a string; mapped to an integer code through a vocabulary or a hash
//   label        the target of one task: binary (positive/negative values) or regression (a number)
//   weight       the sample weight (at most one column)
//   ignore       read past, never used
// plus how the file is written (separator, header, missing tokens, comment prefix). It is TOML, either a
// file of its own or the [schema] table of a config; docs/data.md is the full reference. Column order in
// the TOML does not matter for features; label columns become tasks in the order they appear in the file
// text. Example (a headerless file, names given by position):
//
//   [schema]
//   separator = ", "
//   header = false
//   missing = ["?"]
//   names = ["age", "education", "income"]
//   default = "categorical"               # kind of every column not listed below
//   [schema.columns]
//   age = "dense"
//   education = "ignore"
//   income = { kind = "label", task = "binary", positive = ["50000+."] }
//
//   mmoe::Schema schema = mmoe::Schema::from_file("census.toml");
//   std::vector<mmoe::TaskSpec> tasks = schema.tasks();
//
// Schema errors are ErrorKind::usage with `where` = the TOML key ("schema.columns.age.kind") and the file
// position in the message; an unknown key also gets the nearest valid key as a hint.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "mmoe/csv.h"
#include "mmoe/spec.h"

namespace mmoe {

enum class ColumnKind { dense, categorical, label, weight, ignore };
const char* to_string(ColumnKind kind);
// Throws ErrorKind::usage naming `key` for an unknown spelling.
ColumnKind parse_column_kind(const std::string& text, const std::string& key = "kind");

// How dense columns are scaled: (x - mean) / std, (x - min) / (max - min), or left as they are.
enum class Scaling { standard, minmax, none };
const char* to_string(Scaling scaling);
Scaling parse_scaling(const std::string& text, const std::string& key = "scaling");

struct ColumnSpec {
  std::string name;
  int64_t index = -1;  // 0-based position in the file; -1 = found by name (header) or in `names`
  ColumnKind kind = ColumnKind::dense;

  // kind == label. The column name is the task name.
  TaskKind task = TaskKind::binary;
  std::vector<std::string> positive;  // binary: values that mean 1; empty = the field is the number 0 or 1
  std::vector<std::string> negative;  // binary: values that mean 0; empty = every value not positive
  float loss_weight = 1.0f;

  // kind == categorical: per-column overrides of the schema-wide settings; -1 = use the schema's.
  int64_t min_count = -1;
  int64_t hash_buckets = -1;

  std::string key;  // where it was declared, e.g. "schema.columns.age" (for messages)
};

struct Schema {
  CsvSeparator separator;
  bool header = true;
  std::string comment;                      // comment-line prefix; empty = none
  std::vector<std::string> missing = {""};  // fields equal to one of these are missing
  ColumnKind default_kind = ColumnKind::dense;  // kind of every column not listed in `columns`
  std::vector<std::string> names;           // headerless files: every column's name, in file order
  std::vector<ColumnSpec> columns;          // listed columns, in the order they appear in the TOML text
  size_t max_line_bytes = size_t{1} << 20;

  // Feature-pipeline defaults (see features.h).
  Scaling scaling = Scaling::standard;
  int64_t min_count = 1;     // categorical values seen fewer times in training go to the OOV code
  int64_t hash_buckets = 0;  // > 0: every categorical column is hashed into this many buckets
  bool missing_flags = true; // add a 0/1 "was missing" feature for dense columns with missing training values

  std::string source;  // file the schema was read from ("" when built in code)

  // A schema file: its keys at the top level or under [schema]. Throws io / usage.
  static Schema from_file(const std::string& path);
  // The same, from TOML text; `source` names it in messages.
  static Schema from_toml(const std::string& text, const std::string& source = "<schema>");
  // The plain case (`mmoe train --label y1:regression ...` on a headered CSV): the named columns are
  // labels, every other column is dense.
  static Schema plain(const std::vector<TaskSpec>& labels, CsvSeparator separator = {});

  // Label columns as tasks, in declaration order.
  std::vector<TaskSpec> tasks() const;
  CsvOptions csv_options() const;
  bool is_missing(std::string_view field) const;
  // Throws ErrorKind::usage for an impossible schema: no label, two weight columns, a name or index used
  // twice, a label kind setting on a non-label column.
  void validate() const;

  // Resolves the schema against one file: the spec of every field of its records (name and kind filled in,
  // default_kind for unlisted columns). `header` is the file's header (empty for headerless files), n_fields
  // its field count. With labels_optional, label and weight columns may be absent from the file (predict on
  // rows without labels): a headered file simply lacks them, a headerless file has exactly the non-label
  // columns of `names`, in order. Throws usage (a listed column not in the file, an index out of range) or
  // input (the file's columns do not fit the schema).
  std::vector<ColumnSpec> bind(const std::vector<std::string>& header, size_t n_fields, const std::string& path,
                               bool labels_optional = false) const;

  nlohmann::json to_json() const;
  static Schema from_json(const nlohmann::json& j);
};

enum class BadRowPolicy { error, skip };
const char* to_string(BadRowPolicy policy);
BadRowPolicy parse_bad_row_policy(const std::string& text, const std::string& key = "data.on_bad_row");

// The [data] table of a config.
struct DataConfig {
  std::string train;  // paths as written (relative to the working directory)
  std::string valid;
  std::string test;
  double split_test = 0.0;  // > 0: this fraction of the test file, drawn at random, becomes the validation set
  uint64_t split_seed = 1;
  BadRowPolicy on_bad_row = BadRowPolicy::error;
  int64_t max_bad_rows = -1;  // with on_bad_row = skip: fail anyway past this many bad rows; -1 = no limit
};

struct DataSetup {
  Schema schema;
  DataConfig data;
};

// Reads the [schema] and [data] tables of a config file (other tables are left to the caller). Unknown keys
// inside them are usage errors with a nearest-key hint; a missing [schema] is an error, a missing [data] is
// not (the CLI may give paths on the command line).
DataSetup load_data_config(const std::string& path);
DataSetup parse_data_config(const std::string& toml_text, const std::string& source = "<config>");

// Splits rows 0..n-1 at random: `fraction` of them (rounded down) into `first`, the rest into `second`,
// each list sorted. The same (n, fraction, seed) gives the same split on every machine.
void split_rows(size_t n, double fraction, uint64_t seed, std::vector<size_t>& first, std::vector<size_t>& second);

// Levenshtein distance, and the candidate nearest to `word` (for "did you mean" hints).
size_t edit_distance(std::string_view a, std::string_view b);
std::string nearest_word(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace mmoe
