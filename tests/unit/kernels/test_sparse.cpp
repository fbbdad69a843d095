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

}  // namespace
