// kernels/elementwise.h: bias, ReLU and their backward over row-major views, and the finite check. Pure, no
// allocation.
#pragma once

#include <cstddef>

#include "mmoe/tensor.h"

namespace mmoe::kernels {

// x(i, :) += bias, then x = max(x, 0).
void bias_relu(MatrixView x, const float* bias);
// x(i, :) += bias.
void bias_add(MatrixView x, const float* bias);
// dy(i, j) = 0 where y(i, j) <= 0 (y is the ReLU output).
void relu_backward(MatrixView dy, ConstMatrixView y);
// db(j) += sum_i dy(i, j) (accumulate = false: db(j) = sum_i dy(i, j)).
void col_sum(ConstMatrixView dy, float* db, bool accumulate);
// dst(i, :) = src(i, :) (same shape).
void copy(ConstMatrixView src, MatrixView dst);
// dst(i, :) += src(i, :).
void add(ConstMatrixView src, MatrixView dst);
// x = 0.
void zero(MatrixView x);
// True when none of the n values is NaN or infinite (the divergence check after every training step).
bool all_finite(const float* values, size_t n);

}  // namespace mmoe::kernels
