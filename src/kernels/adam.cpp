#include "kernels/adam.h"

#include <cmath>

#include "kernels/simd.h"

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

// The reference's operations, kLanes at a time.
void adam_update(const AdamStep& s, float* p, const float* g, float* m, float* v, size_t n) {
  namespace x = simd;
  const x::Vec b1 = x::set1(s.beta1), c1 = x::set1(1.0f - s.beta1);
  const x::Vec b2 = x::set1(s.beta2), c2 = x::set1(1.0f - s.beta2);
  const x::Vec step = x::set1(s.step_size), ib2 = x::set1(s.inv_sqrt_bias2);
  const x::Vec eps = x::set1(s.eps), wd = x::set1(s.weight_decay), decay = x::set1(s.decay);
  for (size_t i = 0; i < n; i += x::kLanes) {
    const size_t k = n - i;
    x::Vec pv = x::load_n(p + i, k);
    x::Vec grad = x::load_n(g + i, k);
    if (s.decoupled) pv = x::mul(pv, decay);
    else grad = x::fmadd(wd, pv, grad);
    const x::Vec mv = x::fmadd(b1, x::load_n(m + i, k), x::mul(c1, grad));
    const x::Vec vv = x::fmadd(b2, x::load_n(v + i, k), x::mul(x::mul(c2, grad), grad));
    const x::Vec denom = x::fmadd(x::sqrt(vv), ib2, eps);
    pv = x::sub(pv, x::div(x::mul(step, mv), denom));
    x::store_n(m + i, k, mv);
    x::store_n(v + i, k, vv);
    x::store_n(p + i, k, pv);
  }
}

}  // namespace mmoe::kernels
