#include "kernels/gate_mix.h"

#include <cmath>
#include <vector>

namespace mmoe::kernels {

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
  constexpr int kMaxBank = 256;
  float dp_stack[kMaxBank];
  std::vector<float> dp_heap;  // only for banks beyond kMaxBank (never in the paper's configs)
  float* dp = dp_stack;
  if (bank > kMaxBank) {
    dp_heap.resize(static_cast<size_t>(bank));
    dp = dp_heap.data();
  }
  for (size_t i = 0; i < dmix.rows; ++i) {
    const float* ex = experts.row(i);
    float* dex = dexperts.row(i);
    for (int g = 0; g < n_gate; ++g) {
      const float* dm = dmix.row(i) + g * h;
      const float* p = probs.row(i) + g * bank;
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
        dp[e] = acc;
        dot += pe * acc;
      }
      float* ds = dlogits.row(i) + g * bank;
      for (int e = 0; e < bank; ++e) ds[e] = p[e] * (dp[e] - dot);
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
