// The forward and backward of one thread's slice of a batch (Executor::Impl::forward / backward): the fused
// first layer, deeper expert layers, gates with their mixture, towers; shapes as in executor.cpp.
#include <cstring>

#include "kernels/elementwise.h"
#include "kernels/gate_mix.h"
#include "kernels/linear.h"
#include "kernels/sparse.h"
#include "models/executor_impl.h"

namespace mmoe {

void Executor::Impl::forward(Workspace& w, const float* params, const BatchView& batch, bool listed) {
  const size_t R = w.rows;
  if (R == 0) return;
  const ModelSpec& s = *spec;
  const float* dense = batch.dense ? batch.dense + w.r0 * n_dense : nullptr;
  const kernels::CatBatch cat{batch.cat ? batch.cat + w.r0 * n_cat : nullptr, R, n_cat, cat_offsets.data()};

  // 1. Fused first layer: all experts' first layers and all gates in one GEMM.
  const float* a = dense;
  size_t lda = n_dense;
  if (embedding) {
    MatrixView xin = view(w.xin, R, din);
    kernels::copy(ConstMatrixView{dense, R, n_dense, n_dense}, xin.block_cols(0, n_dense));
    kernels::embedding_gather(cat, params + off.table, dim, xin.block_cols(n_dense, n_cat * dim));
    a = w.xin.data();
    lda = din;
  }
  // Bias and the experts' ReLU are fused into the GEMM's store; a one-hot input is gathered into z first.
  MatrixView z = view(w.z, R, N);
  const size_t n_expert_cols = static_cast<size_t>(bank) * h1;
  if (onehot && listed) {
    kernels::gather_lists({w.list_index.data(), w.list_begin.data(), R}, w.delta.data(), w.base.data(), z);
  } else if (onehot) {
    kernels::zero(z);
    kernels::onehot_gather_add(cat, params + off.table, z);
  }
  kernels::linear_forward(ConstMatrixView{a, R, din, lda}, params + off.first_w, N, params + off.first_b, n_expert_cols,
                          z, onehot);

  // 2. Deeper expert layers: one small GEMM per expert on its column block.
  for (size_t l = 1; l < s.expert_units.size(); ++l) {
    const size_t in = s.expert_units[l - 1], out = s.expert_units[l];
    const MatrixView prev = l == 1 ? z.block_cols(0, n_expert_cols) : view(w.hid[l - 1], R, bank * in);
    MatrixView cur = view(w.hid[l], R, bank * out);
    for (size_t e = 0; e < static_cast<size_t>(bank); ++e)
      kernels::linear_forward(prev.block_cols(e * in, in), params + off.expert_w[l] + e * in * out, out,
                              params + off.expert_b[l] + e * out, out, cur.block_cols(e * out, out));
  }

  // 3. Gates: softmax and mixture, fused.
  if (n_gate > 0)
    kernels::gate_mix_forward(z.block_cols(n_expert_cols, N - n_expert_cols), expert_out(w), n_gate, bank, H,
                              view(w.probs, R, static_cast<size_t>(n_gate) * bank),
                              view(w.mix, R, static_cast<size_t>(n_gate) * H));

  // 4. Towers.
  const size_t T = static_cast<size_t>(n_task);
  MatrixView out = view(w.out, R, T);
  if (fused_towers) {
    const size_t ow = tower_width(0);
    const bool last = s.tower_units.empty();
    pack_first_tower(w, params);
    kernels::linear_forward(tower_in(w, 0), w.wcat.data(), T * ow, params + off.tower_b[0], last ? 0 : T * ow,
                            last ? out : view(w.tact[0], R, T * ow));
  }
  for (int k = 0; k < n_task; ++k) {
    MatrixView in = tower_in(w, k);
    size_t in_w = static_cast<size_t>(H);
    for (size_t l = 0; l <= s.tower_units.size(); ++l) {
      const size_t ow = tower_width(l);
      const bool last = l == s.tower_units.size();
      MatrixView dst = last ? out.block_cols(static_cast<size_t>(k), 1)
                            : view(w.tact[l], R, T * ow).block_cols(static_cast<size_t>(k) * ow, ow);
      if (l == 0 && fused_towers) {  // done above for every task at once
        in = dst;
        in_w = ow;
        continue;
      }
      kernels::linear_forward(in, params + off.tower_w[l] + k * in_w * ow, ow, params + off.tower_b[l] + k * ow,
                              last ? 0 : ow, dst);
      in = dst;
      in_w = ow;
    }
  }
}

void Executor::Impl::backward(Workspace& w, const float* params, float* grads, const BatchView& batch) {
  const size_t R = w.rows;
  if (R == 0) return;
  const ModelSpec& s = *spec;
  const size_t T = static_cast<size_t>(n_task);
  const size_t n_expert_cols = static_cast<size_t>(bank) * h1;
  MatrixView dz = view(w.dz, R, N);

  // Gradient accumulators for the tower inputs (several tasks may share one). With gates, the towers read
  // the mixtures and gate_mix_backward overwrites the experts' gradient, their last layer's ReLU backward
  // included: that layer's relu_backward below is skipped then.
  if (n_gate > 0) kernels::zero(view(w.dmix, R, static_cast<size_t>(n_gate) * H));
  else kernels::zero(d_expert_out(w));
  const size_t last_expert_layer = s.expert_units.size() - 1;
  auto expert_relu_backward = [&](size_t l, MatrixView d, ConstMatrixView y) {
    if (n_gate == 0 || l != last_expert_layer) kernels::relu_backward(d, y);
  };

  // 1. Towers, last layer first.
  MatrixView dout = view(w.dout, R, T);
  for (int k = 0; k < n_task; ++k) {
    MatrixView d = dout.block_cols(static_cast<size_t>(k), 1);
    for (size_t l = s.tower_units.size() + 1; l-- > (fused_towers ? 1 : 0);) {
      const size_t ow = tower_width(l);
      const size_t iw = l == 0 ? static_cast<size_t>(H) : s.tower_units[l - 1];
      const MatrixView in = l == 0 ? tower_in(w, k)
                                   : view(w.tact[l - 1], R, T * iw).block_cols(static_cast<size_t>(k) * iw, iw);
      kernels::linear_wgrad(in, d, grads + off.tower_w[l] + k * iw * ow, ow, false);
      kernels::col_sum(d, grads + off.tower_b[l] + k * ow, false);
      // Input gradient d W^T, as d (R, ow) times W^T (ow, iw).
      MatrixView wt = view(w.wt, ow, iw);
      kernels::transpose(ConstMatrixView{params + off.tower_w[l] + k * iw * ow, iw, ow, ow}, wt);
      if (l == 0) {
        kernels::linear_nn(d, wt.data, iw, true, d_tower_in(w, k));
      } else {
        MatrixView dprev = view(w.dtact[l - 1], R, T * iw).block_cols(static_cast<size_t>(k) * iw, iw);
        kernels::linear_nn(d, wt.data, iw, false, dprev);
        kernels::relu_backward(dprev, in);
        d = dprev;
      }
    }
  }

  // The fused first tower layer: one weight gradient, bias gradient and input gradient for all tasks.
  if (fused_towers) {
    const size_t ow = tower_width(0), cols = T * ow, Hs = static_cast<size_t>(H);
    const MatrixView d = s.tower_units.empty() ? dout : view(w.dtact[0], R, cols);
    const MatrixView in = tower_in(w, 0);
    MatrixView dwcat = view(w.dwcat, Hs, cols);
    kernels::linear_wgrad(in, d, dwcat.data, cols, false);
    float* gw = grads + off.tower_w[0];
    for (size_t k = 0; k < T; ++k)
      for (size_t i = 0; i < Hs; ++i)
        for (size_t j = 0; j < ow; ++j) gw[(k * Hs + i) * ow + j] = dwcat.data[i * cols + k * ow + j];
    kernels::col_sum(d, grads + off.tower_b[0], false);
    MatrixView wt = view(w.wt, cols, Hs);
    kernels::transpose(ConstMatrixView{w.wcat.data(), Hs, cols, cols}, wt);
    kernels::linear_nn(d, wt.data, Hs, true, d_tower_in(w, 0));
  }

  // 2. Gates and mixture.
  if (n_gate > 0)
    kernels::gate_mix_backward(view(w.dmix, R, static_cast<size_t>(n_gate) * H),
                               view(w.probs, R, static_cast<size_t>(n_gate) * bank), expert_out(w), n_gate, bank, H,
                               dz.block_cols(n_expert_cols, N - n_expert_cols), d_expert_out(w));

  // 3. Deeper expert layers, last first.
  const MatrixView z = view(w.z, R, N);
  for (size_t l = s.expert_units.size(); l-- > 1;) {
    const size_t in = s.expert_units[l - 1], out = s.expert_units[l];
    MatrixView d = view(w.dhid[l], R, bank * out);
    expert_relu_backward(l, d, view(w.hid[l], R, bank * out));
    const MatrixView prev = l == 1 ? z.block_cols(0, n_expert_cols) : view(w.hid[l - 1], R, bank * in);
    MatrixView dprev = l == 1 ? dz.block_cols(0, n_expert_cols) : view(w.dhid[l - 1], R, bank * in);
    MatrixView wt = view(w.wt, out, in);
    for (size_t e = 0; e < static_cast<size_t>(bank); ++e) {
      kernels::linear_wgrad(prev.block_cols(e * in, in), d.block_cols(e * out, out),
                            grads + off.expert_w[l] + e * in * out, out, false);
      kernels::transpose(ConstMatrixView{params + off.expert_w[l] + e * in * out, in, out, out}, wt);
      kernels::linear_nn(d.block_cols(e * out, out), wt.data, in, false, dprev.block_cols(e * in, in));
    }
    kernels::col_sum(d, grads + off.expert_b[l], false);
  }

  // 4. First layer: ReLU mask on the expert block, then the weight gradient of the fused GEMM.
  expert_relu_backward(0, dz.block_cols(0, n_expert_cols), z.block_cols(0, n_expert_cols));
  const float* a = embedding ? w.xin.data() : (batch.dense ? batch.dense + w.r0 * n_dense : nullptr);
  const size_t lda = embedding ? din : n_dense;
  kernels::linear_wgrad(ConstMatrixView{a, R, din, lda}, dz, grads + off.first_w, N, false);
  kernels::col_sum(dz, grads + off.first_b, false);
  if (embedding) {  // gradient w.r.t. the embedded inputs: dz (R, N) x first.w[n_dense:, :]^T
    MatrixView wt = view(w.wt, N, n_cat * dim);
    kernels::transpose(ConstMatrixView{params + off.first_w + n_dense * N, n_cat * dim, N, N}, wt);
    kernels::linear_nn(dz, wt.data, n_cat * dim, false, view(w.dxemb, R, n_cat * dim));
  }
}

}  // namespace mmoe
