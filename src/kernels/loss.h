// kernels/loss.h: per-task losses with label masks and sample weights.
//
// For task k: loss_k = sum_i w_i m_i l(o_i, y_i) / norm, where m_i = 0 when y_i is NaN. The caller passes
// norm = sum over the WHOLE batch of w_i m_i (not just this thread's rows), so a batch split across threads
// gives the same loss and gradients as one pass. d o_i = scale * w_i m_i dl/do_i with scale = loss_weight / norm.
#pragma once

#include <cstddef>

namespace mmoe::kernels {

struct TaskColumn {
  const float* out = nullptr;     // o_i at out[i * stride]
  const float* labels = nullptr;  // y_i at labels[i * label_stride]; NaN = missing
  const float* weights = nullptr; // w_i, or null for all 1
  float* dout = nullptr;          // written at dout[i * stride]
  size_t rows = 0;
  size_t stride = 1;
  size_t label_stride = 1;
};

// Returns sum_i w_i m_i l_i (unnormalised) and writes dout scaled by `scale`.
double bce_logits_loss(const TaskColumn& col, float scale);  // l = log(1 + e^o) - y o
double squared_error_loss(const TaskColumn& col, float scale);  // l = (o - y)^2

// sum_i w_i m_i over a label column.
double label_mass(const float* labels, const float* weights, size_t rows, size_t label_stride);

}  // namespace mmoe::kernels
