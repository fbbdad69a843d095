// kernels/adam.h: the Adam / AdamW update over a flat range of the parameter arena (torch.optim.Adam).
//
//   g' = g + wd p (L2) | p *= 1 - lr wd (decoupled); m = b1 m + (1-b1) g'; v = b2 v + (1-b2) g'^2;
//   p -= step_size * m / (sqrt(v) * inv_sqrt_bias2 + eps)
// with step_size = lr / (1 - b1^t) and inv_sqrt_bias2 = 1 / sqrt(1 - b2^t) computed once per step. The fast
// version runs a SIMD vector of parameters per instruction (kernels/simd.h) with the same operations in the same order (explicit FMAs;
// sqrt and divide are correctly rounded in both), so it matches the plain loop bit for bit.
#pragma once

#include <cstddef>

namespace mmoe::kernels {

struct AdamStep {
  float beta1, beta2, step_size, inv_sqrt_bias2, eps;
  float weight_decay = 0.0f;  // L2 (added to the gradient) unless decoupled
  bool decoupled = false;
  float decay = 1.0f;  // decoupled: p *= decay (= 1 - lr * weight_decay)
};

void adam_update(const AdamStep& s, float* p, const float* g, float* m, float* v, size_t n);
void adam_update_ref(const AdamStep& s, float* p, const float* g, float* m, float* v, size_t n);

}  // namespace mmoe::kernels
