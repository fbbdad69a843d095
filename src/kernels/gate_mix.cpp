#include "kernels/gate_mix.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/simd.h"

namespace mmoe::kernels {

namespace v = simd;

namespace {
constexpr int kL = static_cast<int>(v::kLanes);
inline size_t left(int n, int at) { return static_cast<size_t>(n - at); }
}  // namespace

// Per row and gate: softmax over the bank, kLanes logits at a time (a polynomial exp: the gate softmax's exps
// were a quarter of the non-GEMM time as scalar calls), then mix = sum_e p_e x_e, kLanes units at a time.
void gate_mix_forward(ConstMatrixView logits, ConstMatrixView experts, int n_gate, int bank, int h, MatrixView probs,
                      MatrixView mix) {
  for (size_t i = 0; i < logits.rows; ++i) {
    const float* ex = experts.row(i);
    for (int g = 0; g < n_gate; ++g) {
      const float* s = logits.row(i) + g * bank;
      float* p = probs.row(i) + g * bank;
      v::Vec mx = v::set1(s[0]);  // lanes past the bank keep a live value, so they never win the max
      for (int e = 0; e < bank; e += kL) mx = v::max(mx, v::load_n_or(s + e, left(bank, e), mx));
      const v::Vec shift = v::set1(v::reduce_max(mx));
      v::Vec sum = v::zero();
      for (int e = 0; e < bank; e += kL) {
        const size_t n = left(bank, e);
        // Lanes past the bank read e^(0 - shift) != 0: they are kept out of the sum.
        const v::Vec pe = v::keep_n(v::exp(v::sub(v::load_n(s + e, n), shift)), n);
        sum = v::add(sum, pe);
        v::store_n(p + e, n, pe);
      }
      const v::Vec inv = v::set1(1.0f / v::reduce_add(sum));
      for (int e = 0; e < bank; e += kL) {
        const size_t n = left(bank, e);
        v::store_n(p + e, n, v::mul(v::load_n(p + e, n), inv));
      }
      float* out = mix.row(i) + g * h;
      for (int u = 0; u < h; u += kL) {
        const size_t n = left(h, u);
        v::Vec acc = v::zero();
        for (int e = 0; e < bank; ++e) acc = v::fmadd(v::set1(p[e]), v::load_n(ex + e * h + u, n), acc);
        v::store_n(out + u, n, acc);
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
        const v::Vec pe = v::set1(p[e]);
        v::Vec acc = v::zero();
        for (int u = 0; u < h; u += kL) {
          const size_t n = left(h, u);
          const v::Vec d = v::load_n(dm + u, n);
          acc = v::fmadd(d, v::load_n(ex + e * h + u, n), acc);
          float* dx = dex + e * h + u;
          v::store_n(dx, n, v::fmadd(pe, d, v::load_n(dx, n)));
        }
        const float dp = v::reduce_add(acc);
        ds[e] = dp;  // d p_e for now; turned into d logit_e below
        dot += p[e] * dp;
      }
      for (int e = 0; e < bank; ++e) ds[e] = p[e] * (ds[e] - dot);
    }
  }
}

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
