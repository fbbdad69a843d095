#include "kernels/sparse.h"

namespace mmoe::kernels {

void onehot_gather_add(const CatBatch& cat, const float* table, MatrixView out) {
  const size_t width = out.cols;
  for (size_t i = 0; i < cat.rows; ++i) {
    float* o = out.row(i);
    const int32_t* codes = cat.codes + i * cat.n_cat;
    for (size_t j = 0; j < cat.n_cat; ++j) {
      const float* w = table + static_cast<size_t>(cat.offsets[j] + codes[j]) * width;
      for (size_t c = 0; c < width; ++c) o[c] += w[c];
    }
  }
}

void onehot_scatter_add(const CatBatch& cat, ConstMatrixView dout, float* dtable, size_t width, size_t col_begin,
                        size_t col_end) {
  for (size_t i = 0; i < cat.rows; ++i) {
    const float* d = dout.row(i);
    const int32_t* codes = cat.codes + i * cat.n_cat;
    for (size_t j = 0; j < cat.n_cat; ++j) {
      float* g = dtable + static_cast<size_t>(cat.offsets[j] + codes[j]) * width;
      for (size_t c = col_begin; c < col_end; ++c) g[c] += d[c];
    }
  }
}

void embedding_gather(const CatBatch& cat, const float* table, size_t dim, MatrixView out) {
  for (size_t i = 0; i < cat.rows; ++i) {
    float* o = out.row(i);
    const int32_t* codes = cat.codes + i * cat.n_cat;
    for (size_t j = 0; j < cat.n_cat; ++j) {
      const float* e = table + static_cast<size_t>(cat.offsets[j] + codes[j]) * dim;
      for (size_t c = 0; c < dim; ++c) o[j * dim + c] = e[c];
    }
  }
}

void embedding_scatter_add(const CatBatch& cat, ConstMatrixView dout, float* dtable, size_t dim, size_t cat_begin,
                           size_t cat_end) {
  for (size_t i = 0; i < cat.rows; ++i) {
    const float* d = dout.row(i);
    const int32_t* codes = cat.codes + i * cat.n_cat;
    for (size_t j = cat_begin; j < cat_end; ++j) {
      float* g = dtable + static_cast<size_t>(cat.offsets[j] + codes[j]) * dim;
      for (size_t c = 0; c < dim; ++c) g[c] += d[j * dim + c];
    }
  }
}

}  // namespace mmoe::kernels
