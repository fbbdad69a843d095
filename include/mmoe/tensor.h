// mmoe/tensor.h: 64-byte aligned storage and light row-major matrix views.
//
// All hot buffers (parameters, gradients, Adam moments, activations) are AlignedBuffers allocated once;
// kernels work on views into them and never allocate. Alignment matters: GEMM libraries run measurably
// faster on 64-byte aligned operands (../shared/research: 2.4x for OpenBLAS at batch 1).
//
//   mmoe::AlignedBuffer<float> buf(rows * cols);
//   mmoe::MatrixView m{buf.data(), rows, cols, cols};   // (rows, cols), row stride = cols
//   m(i, j) = 1.0f;
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <span>
#include <utility>

namespace mmoe {

inline constexpr size_t kAlignment = 64;

template <typename T>
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t n) { resize(n); }
  AlignedBuffer(const AlignedBuffer& other) { *this = other; }
  AlignedBuffer& operator=(const AlignedBuffer& other) {
    if (this != &other) {
      resize(other.size_);
      if (size_) std::memcpy(data_, other.data_, size_ * sizeof(T));
    }
    return *this;
  }
  AlignedBuffer(AlignedBuffer&& other) noexcept { swap(other); }
  AlignedBuffer& operator=(AlignedBuffer&& other) noexcept {
    swap(other);
    return *this;
  }
  ~AlignedBuffer() { std::free(data_); }

  // Reallocates (zero-filled) only when the size changes; contents are not preserved.
  void resize(size_t n) {
    if (n == size_) return;
    std::free(data_);
    data_ = nullptr;
    size_ = n;
    if (n == 0) return;
    size_t bytes = (n * sizeof(T) + kAlignment - 1) / kAlignment * kAlignment;
    data_ = static_cast<T*>(std::aligned_alloc(kAlignment, bytes));
    if (!data_) throw std::bad_alloc();
    std::memset(static_cast<void*>(data_), 0, bytes);
  }
  void zero() {
    if (size_) std::memset(static_cast<void*>(data_), 0, size_ * sizeof(T));
  }
  void swap(AlignedBuffer& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  std::span<T> span() { return {data_, size_}; }
  std::span<const T> span() const { return {data_, size_}; }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
};

// A row-major matrix view: element (i, j) is data[i * stride + j].
template <typename T>
struct BasicMatrixView {
  T* data = nullptr;
  size_t rows = 0;
  size_t cols = 0;
  size_t stride = 0;

  T& operator()(size_t i, size_t j) const { return data[i * stride + j]; }
  T* row(size_t i) const { return data + i * stride; }
  // Columns [col, col + n) of every row.
  BasicMatrixView block_cols(size_t col, size_t n) const { return {data + col, rows, n, stride}; }
  // Rows [row, row + n).
  BasicMatrixView block_rows(size_t row, size_t n) const { return {data + row * stride, n, cols, stride}; }
  operator BasicMatrixView<const T>() const { return {data, rows, cols, stride}; }
};

using MatrixView = BasicMatrixView<float>;
using ConstMatrixView = BasicMatrixView<const float>;

}  // namespace mmoe
