// The product description shared by the GEMM paths behind kernels/linear.h: the unpacked register-tile
// kernels (linear.cpp) and the packed path for large shapes (linear_packed.cpp).
#pragma once

#include <cstddef>

namespace mmoe::kernels::detail {

// What happens to a finished output: x = acc (+ old C) (+ bias), ReLU on columns < relu_cols, C = x.
struct Epilogue {
  const float* bias = nullptr;  // indexed by absolute column
  size_t relu_cols = 0;
  bool accumulate = false;
};

// One product: C (rows, cols) <- sum_p A(i, p) B(p, j) for p < depth.
struct Product {
  const float* a;
  size_t a_rs, a_ks;  // A(i, p) = a[i * a_rs + p * a_ks]
  const float* b;
  size_t ldb;
  size_t depth;
  float* c;
  size_t ldc;
  size_t rows, cols;
};

// Whether the packed path is the faster one for this product (large operands only; see linear_packed.cpp).
bool prefer_packed(const Product& q);
// C per q and ep through packed panels of A and B (thread-local buffers, allocated on a thread's first large
// product and reused after).
void run_packed(const Product& q, const Epilogue& ep);

}  // namespace mmoe::kernels::detail
