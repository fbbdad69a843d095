// kernels/sparse.h: categorical inputs as gathers and scatter-adds, so cost follows the non-zeros.
//
// A row has n_cat codes; column j's code c selects table row (offsets[j] + c). The one-hot first layer adds
// the selected rows of its (categories, width) weight table to the pre-activation; its gradient adds the
// pre-activation's gradient back into those rows. Embeddings gather (categories, dim) rows into the input.
#pragma once

#include <cstddef>
#include <cstdint>

#include "mmoe/tensor.h"

namespace mmoe::kernels {

struct CatBatch {
  const int32_t* codes = nullptr;  // (rows, n_cat)
  size_t rows = 0;
  size_t n_cat = 0;
  const int64_t* offsets = nullptr;  // (n_cat)
};

// out(i, :) += sum_j table[offsets[j] + codes(i, j), :]  (table is (categories, out.cols), row stride out.cols),
// the codes added in order j = 0, 1, ...
void onehot_gather_add(const CatBatch& cat, const float* table, MatrixView out);
// dtable[offsets[j] + codes(i, j), :] += dout(i, :) for the categorical columns j in [cat_begin, cat_end), rows
// in order. Different columns select different table rows, so threads with disjoint column ranges share one
// table without races, and each element's sum has a fixed order.
void onehot_scatter_add(const CatBatch& cat, ConstMatrixView dout, float* dtable, size_t cat_begin, size_t cat_end);
// out(i, j*dim : (j+1)*dim) = table[offsets[j] + codes(i, j), :]
void embedding_gather(const CatBatch& cat, const float* table, size_t dim, MatrixView out);
// dtable[offsets[j] + codes(i, j), :] += dout(i, j*dim : (j+1)*dim), for columns j in [cat_begin, cat_end).
void embedding_scatter_add(const CatBatch& cat, ConstMatrixView dout, float* dtable, size_t dim, size_t cat_begin,
                           size_t cat_end);

}  // namespace mmoe::kernels
