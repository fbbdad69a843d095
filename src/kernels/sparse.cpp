#include "kernels/sparse.h"

#include <algorithm>

#include "kernels/simd.h"

namespace mmoe::kernels {

namespace {

namespace v = simd;
constexpr size_t L = v::kLanes;

// Columns go in blocks of up to kMaxVectors x kLanes floats held in registers: the gather keeps the output
// block of a row in registers while it adds that row's table rows; the scatter keeps the gradient block
// of a row in registers while it adds it to each of the row's table rows. (The plain loops spent most of their
// time on loop overhead and on the compiler's run-time alias checks, once per row and code.)
constexpr size_t kMaxVectors = 12;

template <size_t NV>
void gather_block(const CatBatch& cat, const float* table, MatrixView out, size_t c0) {
  for (size_t i = 0; i < cat.rows; ++i) {
    float* o = out.row(i) + c0;
    v::Vec acc[NV];
    for (size_t k = 0; k < NV; ++k) acc[k] = v::load(o + L * k);
    const int32_t* codes = cat.codes + i * cat.n_cat;
    for (size_t j = 0; j < cat.n_cat; ++j) {
      const float* w = table + static_cast<size_t>(cat.offsets[j] + codes[j]) * out.cols + c0;
      for (size_t k = 0; k < NV; ++k) acc[k] = v::add(acc[k], v::load(w + L * k));
    }
    for (size_t k = 0; k < NV; ++k) v::store(o + L * k, acc[k]);
  }
}

template <size_t NV>
void scatter_block(const CatBatch& cat, ConstMatrixView dout, float* dtable, size_t j0, size_t j1, size_t c0) {
  for (size_t i = 0; i < cat.rows; ++i) {
    const float* d = dout.row(i) + c0;
    v::Vec dv[NV];
    for (size_t k = 0; k < NV; ++k) dv[k] = v::load(d + L * k);
    const int32_t* codes = cat.codes + i * cat.n_cat;
    for (size_t j = j0; j < j1; ++j) {
      float* g = dtable + static_cast<size_t>(cat.offsets[j] + codes[j]) * dout.cols + c0;
      for (size_t k = 0; k < NV; ++k) v::store(g + L * k, v::add(v::load(g + L * k), dv[k]));
    }
  }
}

// Calls block<NV>(c0, args...) over the full vectors of [0, width) in blocks of at most kMaxVectors;
// returns where the scalar tail starts.
template <template <size_t> class Block, typename... Args>
size_t for_vector_blocks(size_t width, Args&&... args) {
  size_t c0 = 0;
  while (width - c0 >= L) {
    const size_t nv = std::min(kMaxVectors, (width - c0) / L);
    switch (nv) {
      case 1: Block<1>::run(c0, args...); break;
      case 2: Block<2>::run(c0, args...); break;
      case 3: Block<3>::run(c0, args...); break;
      case 4: Block<4>::run(c0, args...); break;
      case 5: Block<5>::run(c0, args...); break;
      case 6: Block<6>::run(c0, args...); break;
      case 7: Block<7>::run(c0, args...); break;
      case 8: Block<8>::run(c0, args...); break;
      case 9: Block<9>::run(c0, args...); break;
      case 10: Block<10>::run(c0, args...); break;
      case 11: Block<11>::run(c0, args...); break;
      default: Block<12>::run(c0, args...); break;
    }
    c0 += L * nv;
  }
  return c0;
}

template <size_t NV>
struct Gather {
  static void run(size_t c0, const CatBatch& cat, const float* table, MatrixView out) { gather_block<NV>(cat, table, out, c0); }
};
template <size_t NV>
struct Scatter {
  static void run(size_t c0, const CatBatch& cat, ConstMatrixView dout, float* dtable, size_t j0, size_t j1) {
    scatter_block<NV>(cat, dout, dtable, j0, j1, c0);
  }
};

}  // namespace

void onehot_gather_add(const CatBatch& cat, const float* table, MatrixView out) {
  const size_t width = out.cols;
  const size_t tail = for_vector_blocks<Gather>(width, cat, table, out);
  if (tail == width) return;
  for (size_t i = 0; i < cat.rows; ++i) {
    float* o = out.row(i);
    const int32_t* codes = cat.codes + i * cat.n_cat;
    for (size_t j = 0; j < cat.n_cat; ++j) {
      const float* w = table + static_cast<size_t>(cat.offsets[j] + codes[j]) * width;
      for (size_t c = tail; c < width; ++c) o[c] += w[c];
    }
  }
}

void onehot_scatter_add(const CatBatch& cat, ConstMatrixView dout, float* dtable, size_t cat_begin, size_t cat_end) {
  const size_t width = dout.cols;
  const size_t tail = for_vector_blocks<Scatter>(width, cat, dout, dtable, cat_begin, cat_end);
  if (tail == width) return;
  for (size_t i = 0; i < cat.rows; ++i) {
    const float* d = dout.row(i);
    const int32_t* codes = cat.codes + i * cat.n_cat;
    for (size_t j = cat_begin; j < cat_end; ++j) {
      float* g = dtable + static_cast<size_t>(cat.offsets[j] + codes[j]) * width;
      for (size_t c = tail; c < width; ++c) g[c] += d[c];
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
