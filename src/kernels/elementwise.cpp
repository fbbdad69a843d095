#include "kernels/elementwise.h"

#include <algorithm>
#include <cstring>

namespace mmoe::kernels {

void bias_relu(MatrixView x, const float* bias) {
  for (size_t i = 0; i < x.rows; ++i) {
    float* row = x.row(i);
    for (size_t j = 0; j < x.cols; ++j) row[j] = std::max(row[j] + bias[j], 0.0f);
  }
}

void bias_add(MatrixView x, const float* bias) {
  for (size_t i = 0; i < x.rows; ++i) {
    float* row = x.row(i);
    for (size_t j = 0; j < x.cols; ++j) row[j] += bias[j];
  }
}

void relu_backward(MatrixView dy, ConstMatrixView y) {
  for (size_t i = 0; i < dy.rows; ++i) {
    float* d = dy.row(i);
    const float* out = y.row(i);
    for (size_t j = 0; j < dy.cols; ++j) d[j] = out[j] > 0.0f ? d[j] : 0.0f;
  }
}

void col_sum_add(ConstMatrixView dy, float* db) {
  for (size_t i = 0; i < dy.rows; ++i) {
    const float* d = dy.row(i);
    for (size_t j = 0; j < dy.cols; ++j) db[j] += d[j];
  }
}

void copy(ConstMatrixView src, MatrixView dst) {
  for (size_t i = 0; i < src.rows; ++i) std::memcpy(dst.row(i), src.row(i), src.cols * sizeof(float));
}

void add(ConstMatrixView src, MatrixView dst) {
  for (size_t i = 0; i < src.rows; ++i) {
    const float* s = src.row(i);
    float* d = dst.row(i);
    for (size_t j = 0; j < src.cols; ++j) d[j] += s[j];
  }
}

void zero(MatrixView x) {
  for (size_t i = 0; i < x.rows; ++i) std::memset(x.row(i), 0, x.cols * sizeof(float));
}

}  // namespace mmoe::kernels
