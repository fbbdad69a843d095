// The small-GEMM micro-kernels behind kernels/linear.h.
//
// Every product here is one loop nest: C tile (MR rows x NV vectors of 16 floats) in registers,
//   for p in [0, P): for v: b_v = B(p, 16v..16v+15); for i: acc[i][v] += A(i, p) * b_v
// with A(i, p) read at a[i * a_rs + p * a_ks]. The forward product (A W) walks p along A's rows
// (a_rs = lda, a_ks = 1); the weight gradient (A^T D) walks p along the batch (a_rs = 1, a_ks = lda), so it
// is the same kernel with C's rows being A's columns. Nothing is packed: the operands of these layers fit
// in L1/L2, and packing costs more than it saves at these sizes. Most of the training time is spent here.
#include "kernels/linear.h"

#include <algorithm>
#include <array>
#include <utility>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace mmoe::kernels {

namespace {

// What happens to a finished tile: x = acc (+ old C) (+ bias), ReLU on columns < relu_cols, C = x.
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

#if defined(__AVX512F__)

inline __mmask16 lanes(size_t n) { return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u); }

// The register tile: rows [i0, i0 + MR), vectors [j0, j0 + 16 NV) of which the last has `tail` lanes.
template <int MR, int NV>
void tile(const Product& q, size_t i0, size_t j0, __mmask16 tail, const Epilogue& ep) {
  __m512 acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();
  const float* a = q.a + i0 * q.a_rs;
  const float* b = q.b + j0;
  for (size_t p = 0; p < q.depth; ++p) {
    __m512 bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      bv[v] = v == NV - 1 ? _mm512_maskz_loadu_ps(tail, b + 16 * v) : _mm512_loadu_ps(b + 16 * v);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const __m512 av = _mm512_set1_ps(a[static_cast<size_t>(i) * q.a_rs]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);
    }
    a += q.a_ks;
    b += q.ldb;
  }
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) {
    const size_t j = j0 + 16 * static_cast<size_t>(v);
    const __mmask16 m = v == NV - 1 ? tail : static_cast<__mmask16>(0xFFFF);
    const __m512 bias = ep.bias ? _mm512_maskz_loadu_ps(m, ep.bias + j) : _mm512_setzero_ps();
    const __mmask16 relu = ep.relu_cols > j ? lanes(ep.relu_cols - j) : static_cast<__mmask16>(0);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      float* c = q.c + (i0 + static_cast<size_t>(i)) * q.ldc + j;
      __m512 x = acc[i][v];
      if (ep.accumulate) x = _mm512_add_ps(_mm512_maskz_loadu_ps(m, c), x);
      x = _mm512_add_ps(x, bias);
      x = _mm512_mask_max_ps(x, relu, x, _mm512_setzero_ps());
      _mm512_mask_storeu_ps(c, m, x);
    }
  }
}

// All row tiles of one column block: full MR tiles, then one edge tile of the remaining rows.
template <int MR, int NV, size_t... R>
void rows_of_block(const Product& q, size_t j0, __mmask16 tail, const Epilogue& ep, std::index_sequence<R...>) {
  using TileFn = void (*)(const Product&, size_t, size_t, __mmask16, const Epilogue&);
  static constexpr std::array<TileFn, sizeof...(R)> kEdge = {&tile<static_cast<int>(R) + 1, NV>...};
  size_t i = 0;
  for (; i + MR <= q.rows; i += MR) tile<MR, NV>(q, i, j0, tail, ep);
  if (i < q.rows) kEdge[q.rows - i - 1](q, i, j0, tail, ep);
}

// MR per NV keeps MR*NV accumulators + NV B vectors + 1 broadcast within the 32 zmm registers.
template <int NV>
void column_block(const Product& q, size_t j0, __mmask16 tail, const Epilogue& ep) {
  constexpr int kMR = NV == 1 ? 16 : NV == 2 ? 12 : NV == 3 ? 8 : 6;
  rows_of_block<kMR, NV>(q, j0, tail, ep, std::make_index_sequence<kMR - 1>{});
}

void run(const Product& q, const Epilogue& ep) {
  if (q.rows == 0 || q.cols == 0) return;
  const size_t nvec = (q.cols + 15) / 16;
  size_t v0 = 0;
  while (v0 < nvec) {
    const size_t left = nvec - v0;
    // Blocks of 3 vectors (8 x 48 tiles) except where 4 or 2 fit the remainder better.
    const size_t nv = left == 4 ? 4 : left >= 3 ? 3 : left;
    const size_t j0 = v0 * 16;
    const __mmask16 tail = lanes(std::min<size_t>(16, q.cols - (j0 + (nv - 1) * 16)));
    switch (nv) {
      case 1: column_block<1>(q, j0, tail, ep); break;
      case 2: column_block<2>(q, j0, tail, ep); break;
      case 3: column_block<3>(q, j0, tail, ep); break;
      default: column_block<4>(q, j0, tail, ep); break;
    }
    v0 += nv;
  }
}

#else  // portable fallback: same per-output summation order

void run(const Product& q, const Epilogue& ep) {
  for (size_t i = 0; i < q.rows; ++i)
    for (size_t j = 0; j < q.cols; ++j) {
      float acc = 0.0f;
      for (size_t p = 0; p < q.depth; ++p) acc += q.a[i * q.a_rs + p * q.a_ks] * q.b[p * q.ldb + j];
      float& c = q.c[i * q.ldc + j];
      const float x = (ep.accumulate ? c + acc : acc) + (ep.bias ? ep.bias[j] : 0.0f);
      c = j < ep.relu_cols ? std::max(x, 0.0f) : x;
    }
}

#endif

}  // namespace

void linear_forward(ConstMatrixView a, const float* w, size_t ldw, const float* bias, size_t relu_cols, MatrixView c,
                    bool accumulate) {
  run(Product{a.data, a.stride, 1, w, ldw, a.cols, c.data, c.stride, c.rows, c.cols},
      Epilogue{bias, relu_cols, accumulate});
}

void linear_wgrad(ConstMatrixView a, ConstMatrixView d, float* dw, size_t ldw) {
  run(Product{a.data, 1, a.stride, d.data, d.stride, a.rows, dw, ldw, a.cols, d.cols}, Epilogue{nullptr, 0, true});
}

void linear_nn(ConstMatrixView a, const float* b, size_t ldb, bool accumulate, MatrixView c) {
  run(Product{a.data, a.stride, 1, b, ldb, a.cols, c.data, c.stride, c.rows, c.cols},
      Epilogue{nullptr, 0, accumulate});
}

void transpose(ConstMatrixView src, MatrixView dst) {
  for (size_t i = 0; i < src.rows; ++i)
    for (size_t j = 0; j < src.cols; ++j) dst(j, i) = src(i, j);
}

void linear_forward_ref(ConstMatrixView a, const float* w, size_t ldw, const float* bias, size_t relu_cols,
                        MatrixView c, bool accumulate) {
  for (size_t i = 0; i < c.rows; ++i)
    for (size_t j = 0; j < c.cols; ++j) {
      double acc = (bias ? bias[j] : 0.0) + (accumulate ? c(i, j) : 0.0f);
      for (size_t p = 0; p < a.cols; ++p) acc += static_cast<double>(a(i, p)) * w[p * ldw + j];
      c(i, j) = static_cast<float>(j < relu_cols ? std::max(acc, 0.0) : acc);
    }
}

void linear_wgrad_ref(ConstMatrixView a, ConstMatrixView d, float* dw, size_t ldw) {
  for (size_t k = 0; k < a.cols; ++k)
    for (size_t j = 0; j < d.cols; ++j) {
      double acc = 0.0;
      for (size_t i = 0; i < a.rows; ++i) acc += static_cast<double>(a(i, k)) * d(i, j);
      dw[k * ldw + j] = static_cast<float>(dw[k * ldw + j] + acc);
    }
}

void linear_nn_ref(ConstMatrixView a, const float* b, size_t ldb, bool accumulate, MatrixView c) {
  for (size_t i = 0; i < c.rows; ++i)
    for (size_t j = 0; j < c.cols; ++j) {
      double acc = 0.0;
      for (size_t p = 0; p < a.cols; ++p) acc += static_cast<double>(a(i, p)) * b[p * ldb + j];
      c(i, j) = static_cast<float>(accumulate ? c(i, j) + acc : acc);
    }
}

}  // namespace mmoe::kernels
