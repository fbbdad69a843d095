#include "kernels/sparse.h"

#include <algorithm>
#include <climits>
#include <utility>

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

template <size_t NV>
void gather_lists_block(const RowLists& lists, const float* table, const float* base, MatrixView out, size_t c0) {
  for (size_t i = 0; i < lists.rows; ++i) {
    v::Vec acc[NV];
    for (size_t k = 0; k < NV; ++k) acc[k] = v::load(base + c0 + L * k);
    for (uint32_t at = lists.begin[i]; at < lists.begin[i + 1]; ++at) {
      const float* w = table + static_cast<size_t>(lists.index[at]) * out.cols + c0;
      for (size_t k = 0; k < NV; ++k) acc[k] = v::add(acc[k], v::load(w + L * k));
    }
    float* o = out.row(i) + c0;
    for (size_t k = 0; k < NV; ++k) v::store(o + L * k, acc[k]);
  }
}

// The listed rows of row i that fall in [row_begin, row_end): a sub-range, the list being ascending.
std::pair<uint32_t, uint32_t> listed_in(const RowLists& lists, size_t i, int32_t row_begin, int32_t row_end) {
  uint32_t a = lists.begin[i];
  const uint32_t end = lists.begin[i + 1];
  while (a < end && lists.index[a] < row_begin) ++a;
  uint32_t b = a;
  while (b < end && lists.index[b] < row_end) ++b;
  return {a, b};
}

template <size_t NV>
void scatter_lists_block(const RowLists& lists, ConstMatrixView dout, float* dtable, int32_t row_begin, int32_t row_end,
                         size_t c0) {
  for (size_t i = 0; i < lists.rows; ++i) {
    const auto [a, b] = listed_in(lists, i, row_begin, row_end);
    if (a == b) continue;
    const float* d = dout.row(i) + c0;
    v::Vec dv[NV];
    for (size_t k = 0; k < NV; ++k) dv[k] = v::load(d + L * k);
    for (uint32_t at = a; at < b; ++at) {
      float* g = dtable + static_cast<size_t>(lists.index[at]) * dout.cols + c0;
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

template <size_t NV>
struct GatherLists {
  static void run(size_t c0, const RowLists& lists, const float* table, const float* base, MatrixView out) {
    gather_lists_block<NV>(lists, table, base, out, c0);
  }
};
template <size_t NV>
struct ScatterLists {
  static void run(size_t c0, const RowLists& lists, ConstMatrixView dout, float* dtable, int32_t row_begin,
                  int32_t row_end) {
    scatter_lists_block<NV>(lists, dout, dtable, row_begin, row_end, c0);
  }
};

// The scalar tails, columns [tail, width), walk the same (row, table row) pairs as the vector blocks.
template <typename F>
void each_code(const CatBatch& cat, size_t cat_begin, size_t cat_end, F f) {
  for (size_t i = 0; i < cat.rows; ++i)
    for (size_t j = cat_begin; j < cat_end; ++j) f(i, static_cast<size_t>(cat.offsets[j] + cat.codes[i * cat.n_cat + j]));
}
template <typename F>
void each_listed(const RowLists& lists, int32_t row_begin, int32_t row_end, F f) {
  for (size_t i = 0; i < lists.rows; ++i) {
    const auto [a, b] = listed_in(lists, i, row_begin, row_end);
    for (uint32_t at = a; at < b; ++at) f(i, static_cast<size_t>(lists.index[at]));
  }
}
void add_tail(float* dst, const float* src, size_t tail, size_t width) {
  for (size_t c = tail; c < width; ++c) dst[c] += src[c];
}

}  // namespace

void gather_lists(const RowLists& lists, const float* table, const float* base, MatrixView out) {
  const size_t width = out.cols;
  const size_t tail = for_vector_blocks<GatherLists>(width, lists, table, base, out);
  if (tail == width) return;
  for (size_t i = 0; i < lists.rows; ++i) std::copy(base + tail, base + width, out.row(i) + tail);
  each_listed(lists, INT32_MIN, INT32_MAX, [&](size_t i, size_t r) { add_tail(out.row(i), table + r * width, tail, width); });
}

void scatter_lists(const RowLists& lists, ConstMatrixView dout, float* dtable, int32_t row_begin, int32_t row_end) {
  const size_t width = dout.cols;
  const size_t tail = for_vector_blocks<ScatterLists>(width, lists, dout, dtable, row_begin, row_end);
  if (tail == width) return;
  each_listed(lists, row_begin, row_end, [&](size_t i, size_t r) { add_tail(dtable + r * width, dout.row(i), tail, width); });
}

void onehot_gather_add(const CatBatch& cat, const float* table, MatrixView out) {
  const size_t width = out.cols;
  const size_t tail = for_vector_blocks<Gather>(width, cat, table, out);
  if (tail == width) return;
  each_code(cat, 0, cat.n_cat, [&](size_t i, size_t r) { add_tail(out.row(i), table + r * width, tail, width); });
}

void onehot_scatter_add(const CatBatch& cat, ConstMatrixView dout, float* dtable, size_t cat_begin, size_t cat_end) {
  const size_t width = dout.cols;
  const size_t tail = for_vector_blocks<Scatter>(width, cat, dout, dtable, cat_begin, cat_end);
  if (tail == width) return;
  each_code(cat, cat_begin, cat_end, [&](size_t i, size_t r) { add_tail(dtable + r * width, dout.row(i), tail, width); });
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
