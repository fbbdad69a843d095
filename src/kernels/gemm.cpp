#include "kernels/gemm.h"

#include <Eigen/Core>
#include <atomic>
#include <dnnl.h>

namespace mmoe::kernels {

namespace {

std::atomic<GemmBackend> g_backend{GemmBackend::eigen};

using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMap = Eigen::Map<const RowMajor, Eigen::Unaligned, Eigen::OuterStride<>>;
using Map = Eigen::Map<RowMajor, Eigen::Unaligned, Eigen::OuterStride<>>;

void gemm_eigen(bool ta, bool tb, size_t m, size_t n, size_t k, float alpha, const float* a, size_t lda,
                const float* b, size_t ldb, float beta, float* c, size_t ldc) {
  const auto em = static_cast<Eigen::Index>(m), en = static_cast<Eigen::Index>(n), ek = static_cast<Eigen::Index>(k);
  ConstMap A(a, ta ? ek : em, ta ? em : ek, Eigen::OuterStride<>(static_cast<Eigen::Index>(lda)));
  ConstMap B(b, tb ? en : ek, tb ? ek : en, Eigen::OuterStride<>(static_cast<Eigen::Index>(ldb)));
  Map C(c, em, en, Eigen::OuterStride<>(static_cast<Eigen::Index>(ldc)));
  // Callers are one thread of a split batch: Eigen must not start threads of its own (it would with OpenMP).
  static const bool single = (Eigen::setNbThreads(1), true);
  (void)single;
  if (beta == 0.0f) {
    C.setZero();
  } else if (beta != 1.0f) {
    C *= beta;
  }
  // The four cases are spelled out so Eigen picks its GEMM kernel without temporaries.
  if (!ta && !tb) C.noalias() += alpha * (A * B);
  else if (ta && !tb) C.noalias() += alpha * (A.transpose() * B);
  else if (!ta && tb) C.noalias() += alpha * (A * B.transpose());
  else C.noalias() += alpha * (A.transpose() * B.transpose());
}

}  // namespace

void gemm_ref(bool ta, bool tb, size_t m, size_t n, size_t k, float alpha, const float* a, size_t lda,
              const float* b, size_t ldb, float beta, float* c, size_t ldc) {
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j) {
      double sum = 0.0;
      for (size_t p = 0; p < k; ++p) {
        const float av = ta ? a[p * lda + i] : a[i * lda + p];
        const float bv = tb ? b[j * ldb + p] : b[p * ldb + j];
        sum += static_cast<double>(av) * bv;
      }
      float& out = c[i * ldc + j];
      out = static_cast<float>(alpha * sum + (beta == 0.0f ? 0.0 : static_cast<double>(beta) * out));
    }
  }
}

void gemm(bool ta, bool tb, size_t m, size_t n, size_t k, float alpha, const float* a, size_t lda, const float* b,
          size_t ldb, float beta, float* c, size_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    for (size_t i = 0; i < m; ++i)
      for (size_t j = 0; j < n; ++j) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
    return;
  }
  switch (g_backend.load(std::memory_order_relaxed)) {
    case GemmBackend::eigen:
      gemm_eigen(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      return;
    case GemmBackend::onednn:
      dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', static_cast<dnnl_dim_t>(m), static_cast<dnnl_dim_t>(n),
                 static_cast<dnnl_dim_t>(k), alpha, a, static_cast<dnnl_dim_t>(lda), b, static_cast<dnnl_dim_t>(ldb),
                 beta, c, static_cast<dnnl_dim_t>(ldc));
      return;
    case GemmBackend::naive:
      gemm_ref(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      return;
  }
}

void set_gemm_backend(GemmBackend backend) { g_backend.store(backend); }
GemmBackend gemm_backend() { return g_backend.load(); }
const char* to_string(GemmBackend backend) {
  switch (backend) {
    case GemmBackend::eigen: return "eigen";
    case GemmBackend::onednn: return "onednn";
    case GemmBackend::naive: return "naive";
  }
  return "?";
}

}  // namespace mmoe::kernels
