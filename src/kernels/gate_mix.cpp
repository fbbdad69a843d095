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

// The unit blocks of h: [u, u + nv vectors), the last vector with `tail` lanes.
struct UnitBlock {
  int u, nv;
  size_t tail;
};
inline UnitBlock unit_block(int h, int u) {
  const int nv = std::min(4, (h - u + kL - 1) / kL);
  return {u, nv, left(h, u + (nv - 1) * kL)};
}

// Softmax of one gate's `bank` logits into p, kLanes at a time.
void softmax(const float* s, int bank, float* p) {
  if (bank <= kL) {  // the usual case (8 experts on AVX2): everything stays in one register
    const size_t n = static_cast<size_t>(bank);
    const v::Vec x = v::load_n_or(s, n, v::set1(s[0]));  // lanes past the bank never win the max
    const v::Vec pe = v::keep_n(v::exp(v::sub(x, v::set1(v::reduce_max(x)))), n);
    v::store_n(p, n, v::mul(pe, v::set1(1.0f / v::reduce_add(pe))));
    return;
  }
  v::Vec mx = v::set1(s[0]);
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
}

// Vector k of a block of NV vectors of units; the last one has `tail` lanes when kPartial.
template <int NV, bool kPartial>
inline v::Vec load_unit(const float* at, int k, size_t tail) {
  return kPartial && k == NV - 1 ? v::load_n(at + k * kL, tail) : v::load(at + k * kL);
}

// NV vectors of units of one gate's mixture, out = sum_e p_e x_e (e ascending): NV independent FMA chains
// (one chain over a runtime-length loop was latency-bound: 4 cycles per expert per vector).
template <int NV, bool kPartial>
void mix_units(const float* p, const float* x, size_t ldx, int bank, size_t tail, float* out) {
  v::Vec acc[NV];
#pragma GCC unroll 4
  for (int k = 0; k < NV; ++k) acc[k] = v::zero();
  for (int e = 0; e < bank; ++e) {
    const v::Vec pe = v::set1(p[e]);
    const float* xe = x + static_cast<size_t>(e) * ldx;
#pragma GCC unroll 4
    for (int k = 0; k < NV; ++k) acc[k] = v::fmadd(pe, load_unit<NV, kPartial>(xe, k, tail), acc[k]);
  }
#pragma GCC unroll 4
  for (int k = 0; k < NV; ++k) {
    if (kPartial && k == NV - 1) v::store_n(out + k * kL, tail, acc[k]);
    else v::store(out + k * kL, acc[k]);
  }
}

// One gate's mixture over all h units, in blocks of up to 4 vectors.
void mix_gate(const float* p, const float* x, int bank, int h, float* out) {
  using Fn = void (*)(const float*, const float*, size_t, int, size_t, float*);
  static constexpr Fn kFull[] = {&mix_units<1, false>, &mix_units<2, false>, &mix_units<3, false>, &mix_units<4, false>};
  static constexpr Fn kTail[] = {&mix_units<1, true>, &mix_units<2, true>, &mix_units<3, true>, &mix_units<4, true>};
  const size_t ldx = static_cast<size_t>(h);
  for (int u = 0; u < h; u += 4 * kL) {
    const UnitBlock b = unit_block(h, u);
    (b.tail >= v::kLanes ? kFull : kTail)[b.nv - 1](p, x + u, ldx, bank, b.tail, out + u);
  }
}

// Blocks of up to 4 vectors of units (NV of them, the last with `tail` lanes when kPartial): the backward's
// two loops over the experts, with the units' loads in registers and no loop over them (a runtime loop with a
// lane-count check per vector ran the backward at half the speed of the forward).
// part[j] += <d mix block, x_{j} block> for the nj experts of a group (partial sums by lane).
template <int NV, bool kPartial>
void dot_block(const float* dm, const float* x, size_t ldx, size_t nj, size_t tail, v::Vec* part) {
  v::Vec d[NV];
#pragma GCC unroll 4
  for (int k = 0; k < NV; ++k) d[k] = load_unit<NV, kPartial>(dm, k, tail);
  for (size_t j = 0; j < nj; ++j) {
    v::Vec acc = part[j];
#pragma GCC unroll 4
    for (int k = 0; k < NV; ++k) acc = v::fmadd(d[k], load_unit<NV, kPartial>(x + j * ldx, k, tail), acc);
    part[j] = acc;
  }
}

// dx block = [x > 0] sum_g p_g d mix_g block, for one expert (p at stride bank, d mix at stride h).
template <int NV, bool kPartial>
void dx_block(const float* p, int bank, int n_gate, const float* dm, int h, const float* x, size_t tail, float* dx) {
  v::Vec acc[NV];
  const v::Vec p0 = v::set1(p[0]);
#pragma GCC unroll 4
  for (int k = 0; k < NV; ++k) acc[k] = v::mul(p0, load_unit<NV, kPartial>(dm, k, tail));
  for (int g = 1; g < n_gate; ++g) {
    const v::Vec pg = v::set1(p[g * bank]);
#pragma GCC unroll 4
    for (int k = 0; k < NV; ++k) acc[k] = v::fmadd(pg, load_unit<NV, kPartial>(dm + g * h, k, tail), acc[k]);
  }
#pragma GCC unroll 4
  for (int k = 0; k < NV; ++k) {
    const v::Vec out = v::keep_positive(acc[k], load_unit<NV, kPartial>(x, k, tail));
    if (kPartial && k == NV - 1) v::store_n(dx + k * kL, tail, out);
    else v::store(dx + k * kL, out);
  }
}

// d logits from kLanes experts' partial dot products at a time: store_dp takes group e0's d p (kept in ds
// for now) and adds its share of sum_e p_e d p_e to dot; finish_dlogits turns ds into d logit_e = p_e (d p_e - sum).
inline void store_dp(const v::Vec* part, const float* p, int bank, int e0, float* ds, v::Vec& dot) {
  const size_t n = left(bank, e0);
  const v::Vec dp = v::sum_lanes(part);  // lanes past the bank are 0
  dot = v::fmadd(v::load_n(p + e0, n), dp, dot);
  v::store_n(ds + e0, n, dp);
}
inline void finish_dlogits(const float* p, int bank, v::Vec dot, float* ds) {
  const v::Vec total = v::set1(v::reduce_add(dot));
  for (int e0 = 0; e0 < bank; e0 += kL) {
    const size_t n = left(bank, e0);
    v::store_n(ds + e0, n, v::mul(v::load_n(p + e0, n), v::sub(v::load_n(ds + e0, n), total)));
  }
}

// The backward of one row when h is a whole number of vectors, at most 4 (16 units is the paper's and the
// census presets' shape): one function, so the d mix vectors and the kLanes dot products stay in registers.
// (Built from dot_block and dx_block instead, even called directly, it ran at 9-12M rows/s against 15M.)
template <int NV>
void backward_row(const float* dmr, const float* pr, const float* ex, int n_gate, int bank, float* dsr, float* dex) {
  constexpr size_t h = static_cast<size_t>(NV) * v::kLanes;
  for (int g = 0; g < n_gate; ++g) {
    const float* dm = dmr + static_cast<size_t>(g) * h;
    const float* p = pr + g * bank;
    float* ds = dsr + g * bank;
    v::Vec d[NV];
#pragma GCC unroll 4
    for (int k = 0; k < NV; ++k) d[k] = v::load(dm + k * kL);
    v::Vec dot = v::zero();  // sum_e p_e d p_e, by lanes
    for (int e0 = 0; e0 < bank; e0 += kL) {
      const size_t n = left(bank, e0);
      v::Vec part[v::kLanes];
#pragma GCC unroll 16
      for (size_t j = 0; j < v::kLanes; ++j) {
        part[j] = v::zero();
        if (j >= n) continue;
        const float* x = ex + (static_cast<size_t>(e0) + j) * h;
#pragma GCC unroll 4
        for (int k = 0; k < NV; ++k) part[j] = v::fmadd(d[k], v::load(x + k * kL), part[j]);
      }
      store_dp(part, p, bank, e0, ds, dot);
    }
    finish_dlogits(p, bank, dot, ds);
  }
  for (int e = 0; e < bank; ++e) {
    const float* x = ex + static_cast<size_t>(e) * h;
    float* dx = dex + static_cast<size_t>(e) * h;
    v::Vec acc[NV];
    const v::Vec p0 = v::set1(pr[e]);
#pragma GCC unroll 4
    for (int k = 0; k < NV; ++k) acc[k] = v::mul(p0, v::load(dmr + k * kL));
    for (int g = 1; g < n_gate; ++g) {
      const v::Vec pg = v::set1(pr[g * bank + e]);
#pragma GCC unroll 4
      for (int k = 0; k < NV; ++k) acc[k] = v::fmadd(pg, v::load(dmr + static_cast<size_t>(g) * h + k * kL), acc[k]);
    }
#pragma GCC unroll 4
    for (int k = 0; k < NV; ++k) v::store(dx + k * kL, v::keep_positive(acc[k], v::load(x + k * kL)));
  }
}
}  // namespace

// Per row and gate: softmax over the bank, kLanes logits at a time (a polynomial exp: the gate softmax's exps
// were a quarter of the non-GEMM time as scalar calls), then mix = sum_e p_e x_e, up to 4 vectors of units
// at a time.
void gate_mix_forward(ConstMatrixView logits, ConstMatrixView experts, int n_gate, int bank, int h, MatrixView probs,
                      MatrixView mix) {
  for (size_t i = 0; i < logits.rows; ++i) {
    for (int g = 0; g < n_gate; ++g) softmax(logits.row(i) + g * bank, bank, probs.row(i) + g * bank);
    for (int g = 0; g < n_gate; ++g) mix_gate(probs.row(i) + g * bank, experts.row(i), bank, h, mix.row(i) + g * h);
  }
}

// Per row: first d p_{g,e} = <d mix_g, x_e> for every gate and expert, kLanes experts' dot products summed
// across lanes at once (one reduce_add each, all on the row's critical path, took most of this kernel's
// time), and d logits from them; then d x_e = [x_e > 0] sum_g p_{g,e} d mix_g, written once per expert.
void gate_mix_backward(ConstMatrixView dmix, ConstMatrixView probs, ConstMatrixView experts, int n_gate, int bank,
                       int h, MatrixView dlogits, MatrixView dexperts) {
  using DotFn = void (*)(const float*, const float*, size_t, size_t, size_t, v::Vec*);
  using DxFn = void (*)(const float*, int, int, const float*, int, const float*, size_t, float*);
  static constexpr DotFn kDot[2][4] = {{&dot_block<1, false>, &dot_block<2, false>, &dot_block<3, false>, &dot_block<4, false>},
                                       {&dot_block<1, true>, &dot_block<2, true>, &dot_block<3, true>, &dot_block<4, true>}};
  static constexpr DxFn kDx[2][4] = {{&dx_block<1, false>, &dx_block<2, false>, &dx_block<3, false>, &dx_block<4, false>},
                                     {&dx_block<1, true>, &dx_block<2, true>, &dx_block<3, true>, &dx_block<4, true>}};
  using RowFn = void (*)(const float*, const float*, const float*, int, int, float*, float*);
  static constexpr RowFn kRow[] = {&backward_row<1>, &backward_row<2>, &backward_row<3>, &backward_row<4>};
  if (h % kL == 0 && h <= 4 * kL) {
    const RowFn row = kRow[h / kL - 1];
    for (size_t i = 0; i < dmix.rows; ++i)
      row(dmix.row(i), probs.row(i), experts.row(i), n_gate, bank, dlogits.row(i), dexperts.row(i));
    return;
  }
  // Any other width: the same two passes, in blocks of up to 4 vectors of units.
  const size_t hs = static_cast<size_t>(h);
  for (size_t i = 0; i < dmix.rows; ++i) {
    const float* ex = experts.row(i);
    for (int g = 0; g < n_gate; ++g) {
      const float* dm = dmix.row(i) + g * h;
      const float* p = probs.row(i) + g * bank;
      float* ds = dlogits.row(i) + g * bank;
      v::Vec dot = v::zero();  // sum_e p_e d p_e, by lanes
      for (int e0 = 0; e0 < bank; e0 += kL) {
        const size_t n = left(bank, e0);
        v::Vec part[v::kLanes];
        for (size_t j = 0; j < v::kLanes; ++j) part[j] = v::zero();
        for (int u = 0; u < h; u += 4 * kL) {
          const UnitBlock b = unit_block(h, u);
          kDot[b.tail < v::kLanes][b.nv - 1](dm + u, ex + static_cast<size_t>(e0) * hs + static_cast<size_t>(u), hs,
                                              std::min(n, v::kLanes), b.tail, part);
        }
        store_dp(part, p, bank, e0, ds, dot);
      }
      finish_dlogits(p, bank, dot, ds);
    }
    const float* pr = probs.row(i);
    const float* dmr = dmix.row(i);
    float* dex = dexperts.row(i);
    for (int e = 0; e < bank; ++e) {
      const size_t at = static_cast<size_t>(e) * hs;
      for (int u = 0; u < h; u += 4 * kL) {
        const UnitBlock b = unit_block(h, u);
        kDx[b.tail < v::kLanes][b.nv - 1](pr + e, bank, n_gate, dmr + u, h, ex + at + static_cast<size_t>(u), b.tail,
                                           dex + at + static_cast<size_t>(u));
      }
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
  for (size_t i = 0; i < dmix.rows; ++i) {
    for (int g = 0; g < n_gate; ++g) {
      std::vector<double> dp(static_cast<size_t>(bank));
      for (int e = 0; e < bank; ++e) {
        double acc = 0.0;
        for (int u = 0; u < h; ++u) acc += static_cast<double>(dmix(i, g * h + u)) * experts(i, e * h + u);
        dp[static_cast<size_t>(e)] = acc;
      }
      double dot = 0.0;
      for (int e = 0; e < bank; ++e) dot += probs(i, g * bank + e) * dp[static_cast<size_t>(e)];
      for (int e = 0; e < bank; ++e)
        dlogits(i, g * bank + e) = static_cast<float>(probs(i, g * bank + e) * (dp[static_cast<size_t>(e)] - dot));
    }
    for (int e = 0; e < bank; ++e)
      for (int u = 0; u < h; ++u) {
        double acc = 0.0;
        for (int g = 0; g < n_gate; ++g) acc += static_cast<double>(probs(i, g * bank + e)) * dmix(i, g * h + u);
        dexperts(i, e * h + u) = experts(i, e * h + u) > 0.0f ? static_cast<float>(acc) : 0.0f;
      }
  }
}

}  // namespace mmoe::kernels
