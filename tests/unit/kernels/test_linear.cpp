// The register-blocked GEMM kernels against their double-precision triple loops, over shapes that hit
// every tile width (1-4 vectors), partial vectors, edge row tiles, strided views, accumulation and ReLU,
// unpacked and packed (linear_packed.cpp: partial A blocks, B panels and depth blocks, several B blocks).
#include <gtest/gtest.h>

#include <algorithm>

#include "kernels/linear.h"
#include "unit/kernels/kernel_test_util.h"

namespace {

using mmoe::AlignedBuffer;
using mmoe::ConstMatrixView;
using mmoe::MatrixView;
using mmoe::test::expect_close;
using mmoe::test::random_buffer;

struct Shape {
  size_t m, k, n;
};
// Float sums of k products of N(0,1) numbers against a double sum: the error grows with k.
float tol(size_t k) { return 4e-7f * static_cast<float>(std::max<size_t>(k, 32)); }
// Rows 1..37 cover every edge tile of MR = 6, 8, 12, 14, 16; columns cover 1..4-vector blocks and tails. The
// last three are cut into cache panels (forward: 491 and 96 rows) and depth chunks (weight gradient) with a
// partial last panel or chunk. The packed path takes products whose B rows (or, in the weight gradient, A's
// rows) are 4 KB or longer: 150 x 300 x 1100 (every edge: 150 = 2 x 72 + 6 rows, 300 = 2 x 128 + 44 depth,
// 1100 = 68 x 16 + 12 columns), 100 x 1030 x 40 (the weight gradient only: A's rows of 1030) and
// 70 x 70 x 4200 (two B blocks of up to 4096 columns). A single row of C takes blocks of up to 8 vectors:
// 1 x 37 x 203 forward, 9 x 1 x 203 as the weight gradient (C's one row is A's one column).
const Shape kShapes[] = {{1, 100, 144},   {7, 100, 144},  {37, 100, 144},  {16, 16, 8},     {13, 8, 1},
                         {33, 16, 16},    {5, 3, 17},     {9, 0, 20},      {64, 499, 144},  {21, 40, 64},
                         {17, 7, 100},    {3, 512, 2064}, {1100, 100, 24}, {301, 499, 40},  {700, 64, 144},
                         {150, 300, 1100}, {100, 1030, 40}, {70, 70, 4200}, {1, 37, 203}, {9, 1, 203}};

TEST(Linear, ForwardMatchesReference) {
  for (const Shape& s : kShapes)
    for (bool accumulate : {false, true}) {
      // A and C as column blocks of wider buffers: strides differ from widths.
      const size_t lda = s.k + 3, ldc = s.n + 5, ldw = s.n + 2;
      auto a = random_buffer(s.m * lda, 1), w = random_buffer(s.k * ldw + 1, 2), bias = random_buffer(s.n, 3);
      auto c0 = random_buffer(s.m * ldc, 4);
      AlignedBuffer<float> c = c0, ref = c0;
      const size_t relu = s.n / 2 + 1;
      const ConstMatrixView av{a.data(), s.m, s.k, lda};
      mmoe::kernels::linear_forward(av, w.data(), ldw, bias.data(), relu, MatrixView{c.data(), s.m, s.n, ldc}, accumulate);
      mmoe::kernels::linear_forward_ref(av, w.data(), ldw, bias.data(), relu, MatrixView{ref.data(), s.m, s.n, ldc},
                                        accumulate);
      expect_close(c.data(), ref.data(), c.size(), tol(s.k),
                   "forward " + std::to_string(s.m) + "x" + std::to_string(s.k) + "x" + std::to_string(s.n));
    }
}

TEST(Linear, ForwardWithoutBiasOrRelu) {
  const Shape s{11, 20, 40};
  auto a = random_buffer(s.m * s.k, 1), w = random_buffer(s.k * s.n, 2);
  AlignedBuffer<float> c(s.m * s.n), ref(s.m * s.n);
  const ConstMatrixView av{a.data(), s.m, s.k, s.k};
  mmoe::kernels::linear_forward(av, w.data(), s.n, nullptr, 0, MatrixView{c.data(), s.m, s.n, s.n});
  mmoe::kernels::linear_forward_ref(av, w.data(), s.n, nullptr, 0, MatrixView{ref.data(), s.m, s.n, s.n});
  expect_close(c.data(), ref.data(), c.size(), 2e-5f, "no bias");
  bool negative = false;
  for (size_t i = 0; i < c.size(); ++i) negative |= c[i] < 0.0f;
  EXPECT_TRUE(negative) << "without ReLU some outputs must stay negative";
}

TEST(Linear, WeightGradientMatchesReference) {
  for (const Shape& s : kShapes)
    for (bool accumulate : {true, false}) {
      const size_t lda = s.k + 1, ldd = s.n + 3, ldw = s.n + 4;
      auto a = random_buffer(s.m * lda, 5), d = random_buffer(s.m * ldd, 6);
      auto w0 = random_buffer(s.k * ldw + 1, 7);
      AlignedBuffer<float> dw = w0, ref = w0;
      const ConstMatrixView av{a.data(), s.m, s.k, lda}, dv{d.data(), s.m, s.n, ldd};
      mmoe::kernels::linear_wgrad(av, dv, dw.data(), ldw, accumulate);
      mmoe::kernels::linear_wgrad_ref(av, dv, ref.data(), ldw, accumulate);
      expect_close(dw.data(), ref.data(), dw.size(), tol(s.m),
                   std::string(accumulate ? "wgrad += " : "wgrad = ") + std::to_string(s.m) + "x" +
                       std::to_string(s.k) + "x" + std::to_string(s.n));
    }
}

// Overwriting gives exactly what accumulating into zeros gives (0 + x == x), so a step that skips clearing
// its gradients changes no bit of them. The shapes with depth chunks overwrite only with the first chunk.
TEST(Linear, WeightGradientOverwriteEqualsAccumulatingIntoZero) {
  for (const Shape& s : kShapes) {
    auto a = random_buffer(s.m * s.k, 8), d = random_buffer(s.m * s.n, 9);
    AlignedBuffer<float> zeroed(s.k * s.n), overwritten = random_buffer(s.k * s.n, 10);
    std::fill(zeroed.data(), zeroed.data() + zeroed.size(), 0.0f);
    const ConstMatrixView av{a.data(), s.m, s.k, s.k}, dv{d.data(), s.m, s.n, s.n};
    mmoe::kernels::linear_wgrad(av, dv, zeroed.data(), s.n, true);
    mmoe::kernels::linear_wgrad(av, dv, overwritten.data(), s.n, false);
    EXPECT_TRUE(std::equal(zeroed.data(), zeroed.data() + zeroed.size(), overwritten.data()))
        << s.m << "x" << s.k << "x" << s.n;
  }
}

TEST(Linear, ProductMatchesReference) {
  for (const Shape& s : kShapes)
    for (bool accumulate : {false, true}) {
      auto a = random_buffer(s.m * s.k, 8), b = random_buffer(s.k * s.n, 9), c0 = random_buffer(s.m * s.n, 10);
      AlignedBuffer<float> c = c0, ref = c0;
      const ConstMatrixView av{a.data(), s.m, s.k, s.k};
      mmoe::kernels::linear_nn(av, b.data(), s.n, accumulate, MatrixView{c.data(), s.m, s.n, s.n});
      mmoe::kernels::linear_nn_ref(av, b.data(), s.n, accumulate, MatrixView{ref.data(), s.m, s.n, s.n});
      expect_close(c.data(), ref.data(), c.size(), tol(s.k), "nn");
    }
}

TEST(Linear, DoesNotWriteOutsideTheView) {
  // C is the middle column block of a wider buffer; the columns around it must keep their values
  // (unpacked, and packed with a partial last B panel).
  struct View { size_t m, k, n, ldc, col; };
  for (const View s : {View{9, 10, 21, 40, 7}, View{70, 80, 1030, 1100, 7}}) {
    auto a = random_buffer(s.m * s.k, 1), w = random_buffer(s.k * s.n, 2);
    auto c0 = random_buffer(s.m * s.ldc, 3);
    AlignedBuffer<float> c = c0;
    mmoe::kernels::linear_forward(ConstMatrixView{a.data(), s.m, s.k, s.k}, w.data(), s.n, nullptr, s.n,
                                  MatrixView{c.data() + s.col, s.m, s.n, s.ldc});
    for (size_t i = 0; i < s.m; ++i)
      for (size_t j = 0; j < s.ldc; ++j)
        if (j < s.col || j >= s.col + s.n) {
          ASSERT_EQ(c[i * s.ldc + j], c0[i * s.ldc + j]) << s.n << ": " << i << "," << j;
        }
  }
}

TEST(Linear, Transpose) {
  auto a = random_buffer(6 * 5, 1);
  AlignedBuffer<float> t(5 * 6);
  mmoe::kernels::transpose(ConstMatrixView{a.data(), 6, 5, 5}, MatrixView{t.data(), 5, 6, 6});
  for (size_t i = 0; i < 6; ++i)
    for (size_t j = 0; j < 5; ++j) EXPECT_EQ(t[j * 6 + i], a[i * 5 + j]);
}

}  // namespace
