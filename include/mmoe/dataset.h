// mmoe/dataset.h: a fully encoded, in-memory data set, ready for training.
//
// This is the contract between the data side (CSV reader, schema, feature pipeline, synthetic generator)
// and the model side. Every row has:
//   - n_dense floats (standardised numeric features, missing-value flags, or raw synthetic x),
//   - n_cat int32 codes, code c of column j in [0, cat_cardinality[j]) (the pipeline's vocabulary,
//     out-of-vocabulary and hashing already applied),
//   - n_task labels; NaN means "no label for this task on this row" (the row trains the other tasks),
//   - a sample weight (weights empty = every weight 1).
// Binary labels are 0 or 1; regression labels any finite float.
//
//   mmoe::Dataset ds = ...;
//   float x = ds.dense[r * ds.n_dense + j];
//   int32_t code = ds.cat[r * ds.n_cat + j];
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mmoe {

struct Dataset {
  size_t rows = 0;
  size_t n_dense = 0;
  size_t n_cat = 0;
  size_t n_task = 0;
  std::vector<float> dense;              // (rows, n_dense)
  std::vector<int32_t> cat;              // (rows, n_cat)
  std::vector<int64_t> cat_cardinality;  // (n_cat): vocabulary size of each categorical column, OOV included
  std::vector<float> labels;             // (rows, n_task); NaN = missing
  std::vector<float> weights;            // (rows) or empty
  std::vector<std::string> task_names;   // (n_task)
  std::vector<std::string> dense_names;  // (n_dense), for reports
  std::vector<std::string> cat_names;    // (n_cat)

  // Rows [begin, end) or the listed rows, as a new data set (used for splits).
  Dataset slice(size_t begin, size_t end) const;
  Dataset select(const std::vector<size_t>& row_ids) const;
};

}  // namespace mmoe
