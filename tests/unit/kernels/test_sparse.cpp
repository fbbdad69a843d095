// Gathers and scatter-adds of categorical inputs against the dense one-hot products they replace.
#include <gtest/gtest.h>

#include <vector>

#include "kernels/linear.h"
#include "kernels/sparse.h"
#include "unit/kernels/kernel_test_util.h"

namespace {

using mmoe::AlignedBuffer;
using mmoe::ConstMatrixView;
using mmoe::MatrixView;
using mmoe::test::expect_close;
using mmoe::test::random_buffer;

struct Cats {
  std::vector<int64_t> offsets = {0, 3, 10, 11};
  size_t categories = 18, n_cat = 4, rows = 23;
  std::vector<int32_t> codes;
  Cats() {
    const int64_t card[] = {3, 7, 1, 7};
    for (size_t i = 0; i < rows; ++i)
      for (size_t j = 0; j < n_cat; ++j) codes.push_back(static_cast<int32_t>((i * 5 + j * 3) % static_cast<size_t>(card[j])));
  }
  mmoe::kernels::CatBatch batch() const { return {codes.data(), rows, n_cat, offsets.data()}; }
  AlignedBuffer<float> onehot() const {  // (rows, categories)
    AlignedBuffer<float> x(rows * categories);
    for (size_t i = 0; i < rows; ++i)
      for (size_t j = 0; j < n_cat; ++j) x[i * categories + static_cast<size_t>(offsets[j] + codes[i * n_cat + j])] = 1.0f;
    return x;
  }
};

// Widths: vector blocks plus a scalar tail (37), the paper's fused first layer (144 = 9 x 16), and more than
// one register block with a tail (421 = 12 + 12 + 2 vectors + 5).
const size_t kWidths[] = {37, 144, 421};

TEST(Sparse, OneHotGatherIsTheOneHotProduct) {
  const Cats c;
  for (size_t width : kWidths) {
    auto table = random_buffer(c.categories * width, 1), z0 = random_buffer(c.rows * width, 2);
    AlignedBuffer<float> z = z0, ref = z0;
    mmoe::kernels::onehot_gather_add(c.batch(), table.data(), MatrixView{z.data(), c.rows, width, width});
    const AlignedBuffer<float> x = c.onehot();
    mmoe::kernels::linear_forward_ref(ConstMatrixView{x.data(), c.rows, c.categories, c.categories}, table.data(),
                                      width, nullptr, 0, MatrixView{ref.data(), c.rows, width, width}, true);
    expect_close(z.data(), ref.data(), z.size(), 1e-6f, "gather");
  }
}

TEST(Sparse, OneHotScatterIsTheOneHotWeightGradient) {
  const Cats c;
  for (size_t width : kWidths) {
    auto dz = random_buffer(c.rows * width, 3), g0 = random_buffer(c.categories * width, 4);
    AlignedBuffer<float> g = g0, ref = g0;
    // Two ranges of categorical columns, as two threads split them.
    const ConstMatrixView d{dz.data(), c.rows, width, width};
    mmoe::kernels::onehot_scatter_add(c.batch(), d, g.data(), 0, c.n_cat / 2);
    mmoe::kernels::onehot_scatter_add(c.batch(), d, g.data(), c.n_cat / 2, c.n_cat);
    const AlignedBuffer<float> x = c.onehot();
    mmoe::kernels::linear_wgrad_ref(ConstMatrixView{x.data(), c.rows, c.categories, c.categories}, d, ref.data(),
                                    width);
    expect_close(g.data(), ref.data(), g.size(), 1e-5f, "scatter");
  }
}

TEST(Sparse, EmbeddingGatherAndScatter) {
  const Cats c;
  const size_t dim = 5, w = c.n_cat * dim;
  auto table = random_buffer(c.categories * dim, 5), dout = random_buffer(c.rows * w, 6);
  AlignedBuffer<float> out(c.rows * w), g(c.categories * dim), ref(c.categories * dim);
  mmoe::kernels::embedding_gather(c.batch(), table.data(), dim, MatrixView{out.data(), c.rows, w, w});
  for (size_t i = 0; i < c.rows; ++i)
    for (size_t j = 0; j < c.n_cat; ++j)
      for (size_t d = 0; d < dim; ++d) {
        const size_t r = static_cast<size_t>(c.offsets[j] + c.codes[i * c.n_cat + j]);
        EXPECT_EQ(out[i * w + j * dim + d], table[r * dim + d]);
        ref[r * dim + d] += dout[i * w + j * dim + d];
      }
  mmoe::kernels::embedding_scatter_add(c.batch(), ConstMatrixView{dout.data(), c.rows, w, w}, g.data(), dim, 0, 2);
  mmoe::kernels::embedding_scatter_add(c.batch(), ConstMatrixView{dout.data(), c.rows, w, w}, g.data(), dim, 2, c.n_cat);
  expect_close(g.data(), ref.data(), g.size(), 1e-6f, "embedding scatter");
}

// Row lists: each row's table rows ascending, some rows with none, as the training step lists the codes that
// differ from their column's most frequent one.
struct Lists {
  std::vector<int32_t> index;
  std::vector<uint32_t> begin = {0};
  explicit Lists(const Cats& c) {
    for (size_t i = 0; i < c.rows; ++i) {
      for (size_t j = 0; j < c.n_cat; ++j)
        if ((i + j) % 3 != 0 && i % 7 != 4) index.push_back(static_cast<int32_t>(c.offsets[j] + c.codes[i * c.n_cat + j]));
      begin.push_back(static_cast<uint32_t>(index.size()));
    }
  }
  mmoe::kernels::RowLists view(size_t rows) const { return {index.data(), begin.data(), rows}; }
};

TEST(Sparse, ListGatherIsTheBasePlusTheListedRows) {
  const Cats c;
  const Lists l(c);
  for (size_t width : kWidths) {
    auto table = random_buffer(c.categories * width, 7), base = random_buffer(width, 8);
    AlignedBuffer<float> z(c.rows * width), ref(c.rows * width);
    mmoe::kernels::gather_lists(l.view(c.rows), table.data(), base.data(), MatrixView{z.data(), c.rows, width, width});
    for (size_t i = 0; i < c.rows; ++i)
      for (size_t k = 0; k < width; ++k) {
        double sum = base[k];
        for (uint32_t at = l.begin[i]; at < l.begin[i + 1]; ++at) sum += table[static_cast<size_t>(l.index[at]) * width + k];
        ref[i * width + k] = static_cast<float>(sum);
      }
    expect_close(z.data(), ref.data(), z.size(), 1e-6f, "list gather");
  }
}

TEST(Sparse, ListScatterAddsEachRowToItsListedRowsInRange) {
  const Cats c;
  const Lists l(c);
  for (size_t width : kWidths) {
    auto dz = random_buffer(c.rows * width, 9), g0 = random_buffer(c.categories * width, 10);
    AlignedBuffer<float> g = g0, ref = g0;
    const ConstMatrixView d{dz.data(), c.rows, width, width};
    // Two ranges of table rows, as two threads split them (the boundary inside a column's rows is allowed).
    mmoe::kernels::scatter_lists(l.view(c.rows), d, g.data(), 0, 7);
    mmoe::kernels::scatter_lists(l.view(c.rows), d, g.data(), 7, static_cast<int32_t>(c.categories));
    for (size_t i = 0; i < c.rows; ++i)
      for (uint32_t at = l.begin[i]; at < l.begin[i + 1]; ++at)
        for (size_t k = 0; k < width; ++k) ref[static_cast<size_t>(l.index[at]) * width + k] += dz[i * width + k];
    expect_close(g.data(), ref.data(), g.size(), 1e-5f, "list scatter");
    // A range that holds none of the listed rows changes nothing.
    AlignedBuffer<float> untouched = g0;
    mmoe::kernels::scatter_lists(l.view(c.rows), d, untouched.data(), static_cast<int32_t>(c.categories),
                                 static_cast<int32_t>(c.categories) + 5);
    expect_close(untouched.data(), g0.data(), g0.size(), 0.0f, "empty range");
  }
}

}  // namespace
