// kernels/linear.h: the GEMMs of a dense layer at the engine's small shapes, as register-blocked SIMD
// micro-kernels with the bias and ReLU fused into the store.
//
// The MMoE's GEMMs are small and thin: K = 8..512, N = 1..2064, M = the rows of one thread's slice. Library
// GEMMs pay per call (packing, dispatch, threading checks: several us at batch 1-32, ../shared/research)
// and lose a lot at N = 8 or 16 (towers, gates). These kernels hold an MR x (lanes*NV) tile of C in
// registers, stream op(A) by broadcasts and B by rows, never pack and never allocate. They are written once
// for AVX-512, AVX2 + FMA and scalar builds (kernels/simd.h), with the same summation order per output
// (k ascending) in all of them.
//
// Shapes (row-major, every leading dimension >= the row length):
//   linear_forward:  C (M, N) = [C +] A (M, K) W (K, N) + bias (N); ReLU on columns [0, relu_cols)
//   linear_wgrad:    dW (K, N) (= or +=) A (M, K)^T D (M, N)  (reduction over the batch rows, in row order)
//   linear_nn:       C (M, N) (= or +=) A (M, K) B (K, N)     (no bias; accumulate = false overwrites)
#pragma once

#include <cstddef>

#include "mmoe/tensor.h"

namespace mmoe::kernels {

// C = A W + bias (accumulate: C + A W + bias), then max(., 0) on the first relu_cols columns. bias may be
// null. Accumulating lets a one-hot gather fill C first and still get the bias and ReLU fused.
void linear_forward(ConstMatrixView a, const float* w, size_t ldw, const float* bias, size_t relu_cols, MatrixView c,
                    bool accumulate = false);
// dW += A^T D (accumulate = false: dW = A^T D, so a step's gradients need no clearing first). dW is
// (a.cols, d.cols) with leading dimension ldw.
void linear_wgrad(ConstMatrixView a, ConstMatrixView d, float* dw, size_t ldw, bool accumulate = true);
// C = A B (accumulate: C += A B). B is (a.cols, c.cols) with leading dimension ldb.
void linear_nn(ConstMatrixView a, const float* b, size_t ldb, bool accumulate, MatrixView c);
// dst (cols, rows) = src (rows, cols)^T: weights transposed once per step for the input-gradient GEMMs.
void transpose(ConstMatrixView src, MatrixView dst);

// Plain triple loops in double: the tests' oracle for the three above.
void linear_forward_ref(ConstMatrixView a, const float* w, size_t ldw, const float* bias, size_t relu_cols,
                        MatrixView c, bool accumulate = false);
void linear_wgrad_ref(ConstMatrixView a, ConstMatrixView d, float* dw, size_t ldw, bool accumulate = true);
void linear_nn_ref(ConstMatrixView a, const float* b, size_t ldb, bool accumulate, MatrixView c);

}  // namespace mmoe::kernels
