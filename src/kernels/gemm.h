// kernels/gemm.h: the one GEMM entry point of the engine (row-major, BLAS-like).
//
// C (M, N) = alpha * op(A) * op(B) + beta * C, op(X) = X or X^T. Every matrix is row-major with a leading
// dimension (row stride) >= its column count. The backend is chosen by measurement (docs/benchmarks.md);
// callers never see which. No allocation on our side; the caller is one thread of the executor, so the
// backend runs single-threaded (the executor splits the batch across cores itself).
#pragma once

#include <cstddef>

namespace mmoe::kernels {

enum class GemmBackend { eigen, onednn, naive };

void gemm(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha, const float* a, size_t lda,
          const float* b, size_t ldb, float beta, float* c, size_t ldc);

// Straightforward triple loop: the oracle the tests compare the fast path against.
void gemm_ref(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha, const float* a, size_t lda,
              const float* b, size_t ldb, float beta, float* c, size_t ldc);

// Process-wide backend selection (benchmarks compare them); default chosen by measurement.
void set_gemm_backend(GemmBackend backend);
GemmBackend gemm_backend();
const char* to_string(GemmBackend backend);

}  // namespace mmoe::kernels
