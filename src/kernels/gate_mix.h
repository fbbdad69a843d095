// kernels/gate_mix.h: the fused gate softmax + expert mixture, forward and backward.
//
// For every row and gate g: p_g = softmax(logits_g) over the `bank` experts, mix_g = sum_e p_g[e] * expert_e.
// Backward (paper Sec. 4, for one gate): d expert_e = sum_g p_g,e * d mix_g; d p_e = <d mix, expert_e>;
// d logit_j = p_j (d p_j - sum_e p_e d p_e). Fusing keeps p and the expert rows in L1 for each row.
// The experts' outputs are ReLU outputs, and the gates are their only reader, so the backward also applies the
// ReLU's backward: dexperts is the gradient at the experts' last pre-activations (0 where expert_e <= 0).
//
// Shapes: logits (B, n_gate*bank), experts (B, bank*h), probs (B, n_gate*bank), mix (B, n_gate*h).
#pragma once

#include "mmoe/tensor.h"

namespace mmoe::kernels {

void gate_mix_forward(ConstMatrixView logits, ConstMatrixView experts, int n_gate, int bank, int h, MatrixView probs,
                      MatrixView mix);
// dlogits and dexperts are overwritten (dexperts with the ReLU's backward applied, see above).
void gate_mix_backward(ConstMatrixView dmix, ConstMatrixView probs, ConstMatrixView experts, int n_gate, int bank,
                       int h, MatrixView dlogits, MatrixView dexperts);

// Unfused, obvious versions: the tests' oracle.
void gate_mix_forward_ref(ConstMatrixView logits, ConstMatrixView experts, int n_gate, int bank, int h,
                          MatrixView probs, MatrixView mix);
void gate_mix_backward_ref(ConstMatrixView dmix, ConstMatrixView probs, ConstMatrixView experts, int n_gate,
                           int bank, int h, MatrixView dlogits, MatrixView dexperts);

}  // namespace mmoe::kernels
