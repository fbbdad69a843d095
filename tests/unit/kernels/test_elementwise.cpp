// Column sums (the bias gradients) against a double-precision loop: both modes, widths across the kernel's
// 64-column blocks, and a strided view whose padding must stay untouched.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kernels/elementwise.h"
#include "unit/kernels/kernel_test_util.h"

namespace {

using mmoe::ConstMatrixView;
using mmoe::test::expect_close;
using mmoe::test::random_buffer;

TEST(Elementwise, ColumnSumMatchesReference) {
  struct Shape {
    size_t rows, cols;
  };
  for (const Shape s : {Shape{1, 1}, Shape{7, 8}, Shape{128, 144}, Shape{33, 64}, Shape{5, 65}, Shape{300, 2064}})
    for (bool accumulate : {false, true}) {
      const size_t ld = s.cols + 3;
      auto dy = random_buffer(s.rows * ld, 1);
      auto db0 = random_buffer(s.cols + 1, 2);  // one float past the end: must not be written
      auto db = db0;
      mmoe::kernels::col_sum(ConstMatrixView{dy.data(), s.rows, s.cols, ld}, db.data(), accumulate);
      std::vector<float> ref(db0.data(), db0.data() + db0.size());
      for (size_t j = 0; j < s.cols; ++j) {
        double acc = 0.0;
        for (size_t i = 0; i < s.rows; ++i) acc += dy[i * ld + j];
        ref[j] = static_cast<float>(accumulate ? db0[j] + acc : acc);
      }
      expect_close(db.data(), ref.data(), ref.size(), 1e-6f * static_cast<float>(s.rows + 8),
                   std::string(accumulate ? "col_sum += " : "col_sum = ") + std::to_string(s.rows) + "x" +
                       std::to_string(s.cols));
    }
}

}  // namespace
