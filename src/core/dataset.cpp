#include "mmoe/dataset.h"

#include <algorithm>

#include "mmoe/error.h"

namespace mmoe {

Dataset Dataset::select(const std::vector<size_t>& row_ids) const {
  Dataset out;
  out.rows = row_ids.size();
  out.n_dense = n_dense;
  out.n_cat = n_cat;
  out.n_task = n_task;
  out.cat_cardinality = cat_cardinality;
  out.task_names = task_names;
  out.dense_names = dense_names;
  out.cat_names = cat_names;
  out.dense.resize(out.rows * n_dense);
  out.cat.resize(out.rows * n_cat);
  out.labels.resize(out.rows * n_task);
  if (!weights.empty()) out.weights.resize(out.rows);
  for (size_t i = 0; i < row_ids.size(); ++i) {
    const size_t r = row_ids[i];
    MMOE_CHECK(r < rows, "row id out of range");
    std::copy_n(dense.data() + r * n_dense, n_dense, out.dense.data() + i * n_dense);
    std::copy_n(cat.data() + r * n_cat, n_cat, out.cat.data() + i * n_cat);
    std::copy_n(labels.data() + r * n_task, n_task, out.labels.data() + i * n_task);
    if (!weights.empty()) out.weights[i] = weights[r];
  }
  return out;
}

Dataset Dataset::slice(size_t begin, size_t end) const {
  MMOE_CHECK(begin <= end && end <= rows, "slice out of range");
  std::vector<size_t> ids(end - begin);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = begin + i;
  return select(ids);
}

}  // namespace mmoe
