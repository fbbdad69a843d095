#include "kernels/gate_mix.h"

#include <algorithm>
#include <cmath>
#include <vector>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace mmoe::kernels {

#if defined(__AVX512F__)

namespace {

inline __mmask16 lanes(int n) { return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u); }

// e^x for 16 lanes (Cephes expf: range reduction by ln 2, degree-6 polynomial, 2^n by scalef); about 1 ulp.
// The gate softmax's exps were a quarter of the non-GEMM time as scalar calls.
inline __m512 exp16(__m512 x) {
  x = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(88.3762626647949f)), _mm512_set1_ps(-88.3762626647949f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  x = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  x = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), x);
  __m512 y = _mm512_set1_ps(1.9875691500E-4f);
  y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(1.3981999507E-3f));
  y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(8.3334519073E-3f));
  y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(4.1665795894E-2f));
  y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(1.6666665459E-1f));
  y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(5.0000001201E-1f));
  y = _mm512_fmadd_ps(y, _mm512_mul_ps(x, x), _mm512_add_ps(x, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(y, n);
}

}  // namespace

// Per row and gate: softmax over the bank 16 logits at a time, then mix = sum_e p_e x_e, 16 units at a time.
void gate_mix_forward(ConstMatrixView logits, ConstMatrixView experts, int n_gate, int bank, int h, MatrixView probs,
                      MatrixView mix) {
  for (size_t i = 0; i < logits.rows; ++i) {
    const float* ex = experts.row(i);
    for (int g = 0; g < n_gate; ++g) {
      const float* s = logits.row(i) + g * bank;
      float* p = probs.row(i) + g * bank;
      __m512 mx = _mm512_set1_ps(-INFINITY);
      for (int e = 0; e < bank; e += 16) mx = _mm512_max_ps(mx, _mm512_mask_loadu_ps(mx, lanes(bank - e), s + e));
      const __m512 shift = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
      __m512 sum = _mm512_setzero_ps();
      for (int e = 0; e < bank; e += 16) {
        const __mmask16 m = lanes(bank - e);
        const __m512 pe = _mm512_maskz_mov_ps(m, exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, s + e), shift)));
        sum = _mm512_add_ps(sum, pe);
        _mm512_mask_storeu_ps(p + e, m, pe);
      }
      const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sum));
      for (int e = 0; e < bank; e += 16) {
        const __mmask16 m = lanes(bank - e);
        _mm512_mask_storeu_ps(p + e, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, p + e), inv));
      }
      float* out = mix.row(i) + g * h;
      for (int u = 0; u < h; u += 16) {
        const __mmask16 m = lanes(h - u);
        __m512 acc = _mm512_setzero_ps();
        for (int e = 0; e < bank; ++e)
          acc = _mm512_fmadd_ps(_mm512_set1_ps(p[e]), _mm512_maskz_loadu_ps(m, ex + e * h + u), acc);
        _mm512_mask_storeu_ps(out + u, m, acc);
      }
    }
  }
}

// Per row and gate, one pass over the experts: d p_e = <d mix, x_e> and d x_e += p_e d mix together.
void gate_mix_backward(ConstMatrixView dmix, ConstMatrixView probs, ConstMatrixView experts, int n_gate, int bank,
                       int h, MatrixView dlogits, MatrixView dexperts) {
  for (size_t i = 0; i < dmix.rows; ++i) {
    const float* ex = experts.row(i);
    float* dex = dexperts.row(i);
    for (int g = 0; g < n_gate; ++g) {
      const float* dm = dmix.row(i) + g * h;
      const float* p = probs.row(i) + g * bank;
      float* ds = dlogits.row(i) + g * bank;
      float dot = 0.0f;
      for (int e = 0; e < bank; ++e) {
        const __m512 pe = _mm512_set1_ps(p[e]);
        __m512 acc = _mm512_setzero_ps();
        for (int u = 0; u < h; u += 16) {
          const __mmask16 m = lanes(h - u);
          const __m512 d = _mm512_maskz_loadu_ps(m, dm + u);
          acc = _mm512_fmadd_ps(d, _mm512_maskz_loadu_ps(m, ex + e * h + u), acc);
          float* dx = dex + e * h + u;
          _mm512_mask_storeu_ps(dx, m, _mm512_fmadd_ps(pe, d, _mm512_maskz_loadu_ps(m, dx)));
        }
        const float dp = _mm512_reduce_add_ps(acc);
        ds[e] = dp;  // d p_e for now; turned into d logit_e below
        dot += p[e] * dp;
      }
      for (int e = 0; e < bank; ++e) ds[e] = p[e] * (ds[e] - dot);
    }
  }
}

#else  // portable loops

void gate_mix_forward(ConstMatrixView logits, ConstMatrixView experts, int n_gate, int bank, int h, MatrixView probs,
                      MatrixView mix) {
  for (size_t i = 0; i < logits.rows; ++i) {
    const float* ex = experts.row(i);
    for (int g = 0; g < n_gate; ++g) {
      const float* s = logits.row(i) + g * bank;
      float* p = probs.row(i) + g * bank;
      float mx = s[0];
      for (int e = 1; e < bank; ++e) mx = std::max(mx, s[e]);
      float sum = 0.0f;
      for (int e = 0; e < bank; ++e) {
        p[e] = std::exp(s[e] - mx);
        sum += p[e];
      }
      const float inv = 1.0f / sum;
      for (int e = 0; e < bank; ++e) p[e] *= inv;
      float* out = mix.row(i) + g * h;
      for (int u = 0; u < h; ++u) out[u] = 0.0f;
      for (int e = 0; e < bank; ++e) {
        const float pe = p[e];
        const float* x = ex + e * h;
        for (int u = 0; u < h; ++u) out[u] += pe * x[u];
      }
    }
  }
}

void gate_mix_backward(ConstMatrixView dmix, ConstMatrixView probs, ConstMatrixView experts, int n_gate, int bank,
                       int h, MatrixView dlogits, MatrixView dexperts) {
  for (size_t i = 0; i < dmix.rows; ++i) {
    const float* ex = experts.row(i);
    float* dex = dexperts.row(i);
    for (int g = 0; g < n_gate; ++g) {
      const float* dm = dmix.row(i) + g * h;
      const float* p = probs.row(i) + g * bank;
      float* ds = dlogits.row(i) + g * bank;
      float dot = 0.0f;
      for (int e = 0; e < bank; ++e) {
        const float* x = ex + e * h;
        float* dx = dex + e * h;
        const float pe = p[e];
        float acc = 0.0f;
        for (int u = 0; u < h; ++u) {
          acc += dm[u] * x[u];
          dx[u] += pe * dm[u];
        }
        ds[e] = acc;
        dot += pe * acc;
      }
      for (int e = 0; e < bank; ++e) ds[e] = p[e] * (ds[e] - dot);
    }
  }
}

#endif

void gate_mix_forward_ref(ConstMatrixView logits, ConstMatrixView experts, int n_gate, int bank, int h,
                          MatrixView probs, MatrixView mix) {
  for (size_t i = 0; i < logits.rows; ++i)
    for (int g = 0; g < n_gate; ++g) {
      double mx = -INFINITY, sum = 0.0;
      for (int e = 0; e < bank; ++e) mx = std::max(mx, static_cast<double>(logits(i, g * bank + e)));
      for (int e = 0; e < bank; ++e) sum += std::exp(logits(i, g * bank + e) - mx);
      for (int e = 0; e < bank; ++e) probs(i, g * bank + e) = static_cast<float>(std::exp(logits(i, g * bank + e) - mx) / sum);
      for (int u = 0; u < h; ++u) {
        double acc = 0.0;
        for (int e = 0; e < bank; ++e) acc += static_cast<double>(probs(i, g * bank + e)) * experts(i, e * h + u);
        mix(i, g * h + u) = static_cast<float>(acc);
      }
    }
}

void gate_mix_backward_ref(ConstMatrixView dmix, ConstMatrixView probs, ConstMatrixView experts, int n_gate,
                           int bank, int h, MatrixView dlogits, MatrixView dexperts) {
  for (size_t i = 0; i < dmix.rows; ++i)
    for (int g = 0; g < n_gate; ++g) {
      std::vector<double> dp(static_cast<size_t>(bank));
      for (int e = 0; e < bank; ++e) {
        double acc = 0.0;
        for (int u = 0; u < h; ++u) {
          acc += static_cast<double>(dmix(i, g * h + u)) * experts(i, e * h + u);
          dexperts(i, e * h + u) += probs(i, g * bank + e) * dmix(i, g * h + u);
        }
        dp[static_cast<size_t>(e)] = acc;
      }
      double dot = 0.0;
      for (int e = 0; e < bank; ++e) dot += probs(i, g * bank + e) * dp[static_cast<size_t>(e)];
      for (int e = 0; e < bank; ++e)
        dlogits(i, g * bank + e) = static_cast<float>(probs(i, g * bank + e) * (dp[static_cast<size_t>(e)] - dot));
    }
}

}  // namespace mmoe::kernels
