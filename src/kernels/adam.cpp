#include "kernels/adam.h"

#include <cmath>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace mmoe::kernels {

// The fused multiply-adds are spelled out (std::fma), so neither version depends on the compiler's
// contraction choices and the two agree bit for bit.
void adam_update_ref(const AdamStep& s, float* p, const float* g, float* m, float* v, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    float grad = g[i];
    if (s.decoupled) p[i] *= s.decay;
    else grad = std::fma(s.weight_decay, p[i], grad);
    m[i] = std::fma(s.beta1, m[i], (1.0f - s.beta1) * grad);
    v[i] = std::fma(s.beta2, v[i], ((1.0f - s.beta2) * grad) * grad);
    const float denom = std::fma(std::sqrt(v[i]), s.inv_sqrt_bias2, s.eps);
    p[i] -= (s.step_size * m[i]) / denom;
  }
}

#if defined(__AVX512F__)

// The reference's operations, 16 lanes at a time.
void adam_update(const AdamStep& s, float* p, const float* g, float* m, float* v, size_t n) {
  const __m512 b1 = _mm512_set1_ps(s.beta1), c1 = _mm512_set1_ps(1.0f - s.beta1);
  const __m512 b2 = _mm512_set1_ps(s.beta2), c2 = _mm512_set1_ps(1.0f - s.beta2);
  const __m512 step = _mm512_set1_ps(s.step_size), ib2 = _mm512_set1_ps(s.inv_sqrt_bias2);
  const __m512 eps = _mm512_set1_ps(s.eps), wd = _mm512_set1_ps(s.weight_decay), decay = _mm512_set1_ps(s.decay);
  for (size_t i = 0; i < n; i += 16) {
    const __mmask16 k = n - i >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (n - i)) - 1u);
    __m512 pv = _mm512_maskz_loadu_ps(k, p + i);
    __m512 grad = _mm512_maskz_loadu_ps(k, g + i);
    if (s.decoupled) pv = _mm512_mul_ps(pv, decay);
    else grad = _mm512_fmadd_ps(wd, pv, grad);
    const __m512 mv = _mm512_fmadd_ps(b1, _mm512_maskz_loadu_ps(k, m + i), _mm512_mul_ps(c1, grad));
    const __m512 vv = _mm512_fmadd_ps(b2, _mm512_maskz_loadu_ps(k, v + i), _mm512_mul_ps(_mm512_mul_ps(c2, grad), grad));
    const __m512 denom = _mm512_fmadd_ps(_mm512_sqrt_ps(vv), ib2, eps);
    pv = _mm512_sub_ps(pv, _mm512_div_ps(_mm512_mul_ps(step, mv), denom));
    _mm512_mask_storeu_ps(m + i, k, mv);
    _mm512_mask_storeu_ps(v + i, k, vv);
    _mm512_mask_storeu_ps(p + i, k, pv);
  }
}

#else

void adam_update(const AdamStep& s, float* p, const float* g, float* m, float* v, size_t n) {
  adam_update_ref(s, p, g, m, v, n);
}

#endif

}  // namespace mmoe::kernels
