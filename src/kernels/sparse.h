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
// Table rows listed per batch row (compressed rows): row i's are index[begin[i] .. begin[i+1]), ascending.
// The training step lists only the codes that differ from their column's most frequent code in the batch.
struct RowLists {
  const int32_t* index = nullptr;
  const uint32_t* begin = nullptr;  // (rows + 1)
  size_t rows = 0;
};

// out(i, :) = base + sum_{r in list i} table[r, :], added in list order (table row stride out.cols).
void gather_lists(const RowLists& lists, const float* table, const float* base, MatrixView out);
// dtable[r, :] += dout(i, :) for the listed r in [row_begin, row_end), rows in order.
void scatter_lists(const RowLists& lists, ConstMatrixView dout, float* dtable, int32_t row_begin, int32_t row_end);

// out(i, j*dim : (j+1)*dim) = table[offsets[j] + codes(i, j), :]
void embedding_gather(const CatBatch& cat, const float* table, size_t dim, MatrixView out);
// dtable[offsets[j] + codes(i, j), :] += dout(i, j*dim : (j+1)*dim), for columns j in [cat_begin, cat_end).
void embedding_scatter_add(const CatBatch& cat, ConstMatrixView dout, float* dtable, size_t dim, size_t cat_begin,
                           size_t cat_end);

}  // namespace mmoe::kernels
