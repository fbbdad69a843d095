// The small-GEMM micro-kernels behind kernels/linear.h.
//
// Every product here is one loop nest: C tile (MR rows x NV vectors of kLanes floats) in registers,
//   for p in [0, P): for v: b_v = B(p, L v .. L v + L - 1); for i: acc[i][v] += A(i, p) * b_v
// with A(i, p) read at a[i * a_rs + p * a_ks]. The forward product (A W) walks p along A's rows
// (a_rs = lda, a_ks = 1); the weight gradient (A^T D) walks p along the batch (a_rs = 1, a_ks = lda), so it
// is the same kernel with C's rows being A's columns. Nothing is packed: the operands of the paper's and the
// census config's layers fit in L1/L2, and packing costs more than it saves at these sizes; larger products
// (the wide config's) take the packed path of linear_packed.cpp. Most of the training time is spent here.
// Written once in kernels/simd.h's vocabulary: AVX-512, AVX2 + FMA, or scalar, whichever the build targets;
// every output is summed over p in ascending order in all three.
#include "kernels/linear.h"

#include <algorithm>
#include <array>
#include <utility>

#include "kernels/linear_product.h"
#include "kernels/simd.h"

namespace mmoe::kernels {

namespace {

using detail::Epilogue;
using detail::Product;

namespace v = simd;
constexpr size_t L = v::kLanes;

// The register tile: rows [i0, i0 + MR), vectors [j0, j0 + L NV); with kPartial the last has only the
// tail_lanes lanes (full vectors use plain loads and stores: AVX2's masked ones are slower).
template <int MR, int NV, bool kPartial>
void tile(const Product& q, size_t i0, size_t j0, size_t tail_lanes, const Epilogue& ep) {
  const v::Mask tail = v::mask(tail_lanes);
  v::Vec acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int k = 0; k < NV; ++k) acc[i][k] = v::zero();
  // With depth 0 A and B may be empty (null): no pointer arithmetic on them then (UBSan).
  const float* a = q.depth ? q.a + i0 * q.a_rs : nullptr;
  const float* b = q.depth ? q.b + j0 : nullptr;
  // Unrolled 4 deep: the loop's own counter and pointer updates cost 13-26% of the FMA rate on Zen 3
  // (kernel bench, first layer: forward 70 -> 76 GFLOP/s, weight gradient 61 -> 77); 8 deep gained nothing.
#pragma GCC unroll 4
  for (size_t p = 0; p < q.depth; ++p) {
    v::Vec bv[NV];
#pragma GCC unroll 8
    for (int k = 0; k < NV; ++k) bv[k] = kPartial && k == NV - 1 ? v::load(b + L * k, tail) : v::load(b + L * k);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const v::Vec av = v::set1(a[static_cast<size_t>(i) * q.a_rs]);
#pragma GCC unroll 8
      for (int k = 0; k < NV; ++k) acc[i][k] = v::fmadd(av, bv[k], acc[i][k]);
    }
    a += q.a_ks;
    b += q.ldb;
  }
#pragma GCC unroll 8
  for (int k = 0; k < NV; ++k) {
    const size_t j = j0 + L * static_cast<size_t>(k);
    const bool partial = kPartial && k == NV - 1;
    const v::Vec bias = !ep.bias ? v::zero() : partial ? v::load(ep.bias + j, tail) : v::load(ep.bias + j);
    const v::Mask relu = v::mask(ep.relu_cols > j ? ep.relu_cols - j : 0);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      float* c = q.c + (i0 + static_cast<size_t>(i)) * q.ldc + j;
      v::Vec x = acc[i][k];
      if (ep.accumulate) x = v::add(partial ? v::load(c, tail) : v::load(c), x);
      x = v::add(x, bias);
      x = v::select(relu, v::max(x, v::zero()), x);
      if (partial) v::store(c, tail, x);
      else v::store(c, x);
    }
  }
}

// All row tiles of one column block: full MR tiles, then one edge tile of the remaining rows.
template <int MR, int NV, bool kPartial, size_t... R>
void rows_of_block(const Product& q, size_t j0, size_t tail, const Epilogue& ep, std::index_sequence<R...>) {
  using TileFn = void (*)(const Product&, size_t, size_t, size_t, const Epilogue&);
  static constexpr std::array<TileFn, sizeof...(R)> kEdge = {&tile<static_cast<int>(R) + 1, NV, kPartial>...};
  size_t i = 0;
  for (; i + MR <= q.rows; i += MR) tile<MR, NV, kPartial>(q, i, j0, tail, ep);
  if (i < q.rows) kEdge[q.rows - i - 1](q, i, j0, tail, ep);
}

// Rows per tile keep MR*NV accumulators + NV B vectors + 1 broadcast within the register file
// (32 zmm: 16/12/8/6 rows for 1..4 vectors; 16 ymm: 14/6 rows for 1..2 vectors).
template <int NV>
constexpr int rows_per_tile() {
  if constexpr (v::kRegisters >= 32) return NV == 1 ? 16 : NV == 2 ? 12 : NV == 3 ? 8 : 6;
  else return NV == 1 ? 14 : 6;
}

template <int NV>
void column_block(const Product& q, size_t j0, size_t tail_lanes, const Epilogue& ep) {
  constexpr int kMR = rows_per_tile<NV>();
  if (tail_lanes == L) rows_of_block<kMR, NV, false>(q, j0, L, ep, std::make_index_sequence<kMR - 1>{});
  else rows_of_block<kMR, NV, true>(q, j0, tail_lanes, ep, std::make_index_sequence<kMR - 1>{});
}

// A single row (batch-1 inference): its tile has one accumulator per vector, each a dependent FMA chain
// through the whole depth, so a 2-vector block runs at the FMA latency (4 cycles a step on Zen 3), a quarter
// of the core's rate. Blocks of up to 8 vectors keep 8 chains in flight; every output is still one chain
// over p ascending, so the results are the same bits.
template <size_t NV>
void single_row_block(const Product& q, size_t j0, size_t tail, const Epilogue& ep) {
  if (tail == L) tile<1, static_cast<int>(NV), false>(q, 0, j0, L, ep);
  else tile<1, static_cast<int>(NV), true>(q, 0, j0, tail, ep);
}

void run_single_row(const Product& q, const Epilogue& ep) {
  using BlockFn = void (*)(const Product&, size_t, size_t, const Epilogue&);
  static constexpr std::array<BlockFn, 8> kBlocks = {&single_row_block<1>, &single_row_block<2>, &single_row_block<3>,
                                                     &single_row_block<4>, &single_row_block<5>, &single_row_block<6>,
                                                     &single_row_block<7>, &single_row_block<8>};
  const size_t nvec = (q.cols + L - 1) / L;
  for (size_t v0 = 0; v0 < nvec; v0 += kBlocks.size()) {
    const size_t nv = std::min(kBlocks.size(), nvec - v0), j0 = v0 * L;
    kBlocks[nv - 1](q, j0, std::min(L, q.cols - (j0 + (nv - 1) * L)), ep);
  }
}

// One product with every operand streamed whole: each column block walks all of C's rows.
void run_columns(const Product& q, const Epilogue& ep) {
  if (q.rows == 1) return run_single_row(q, ep);
  const size_t nvec = (q.cols + L - 1) / L;
  size_t v0 = 0;
  while (v0 < nvec) {
    const size_t left = nvec - v0;
    // 32 registers: blocks of 3 vectors (8 x 48 tiles) except where 4 or 2 fit the remainder better.
    // 16 registers: blocks of 2 (6 x 16 tiles); 4 x 24 tiles measured 20-30% slower on Zen 3 (the 12
    // accumulators, 3 B vectors and the broadcast fill all 16 ymm and the compiler spills).
    const size_t nv = v::kRegisters >= 32 ? (left == 4 ? 4 : std::min<size_t>(left, 3)) : std::min<size_t>(left, 2);
    const size_t j0 = v0 * L;
    const size_t tail_lanes = std::min(L, q.cols - (j0 + (nv - 1) * L));
    switch (nv) {
      case 1: column_block<1>(q, j0, tail_lanes, ep); break;
      case 2: column_block<2>(q, j0, tail_lanes, ep); break;
      case 3:
        if constexpr (v::kRegisters >= 32) column_block<3>(q, j0, tail_lanes, ep);
        break;
      default:
        if constexpr (v::kRegisters >= 32) column_block<4>(q, j0, tail_lanes, ep);
        break;
    }
    v0 += nv;
  }
}

// Cache blocking. Every column block streams all of A once, so A must stay in L2 between column blocks:
// past ~1 MB of A (batch 4096 on the census and wide configs: 2048 rows a thread x 500-512 inputs) the
// step ran 1.6-2.7x slower per sample than at batch 1024 on Zen 3 (512 KB of L2). The forward form is cut
// into panels of C's rows, each with an A panel of about kPanelBytes; the weight-gradient form (depth = the
// batch) is cut along the depth into chunks whose A and D slices fit, accumulated into C chunk after chunk
// (the bias and ReLU applied with the last one). Chunk sizes depend only on the shapes, so results stay the
// same from run to run.
constexpr size_t kPanelBytes = 192 * 1024;
// A multiple of every tile height (16, 12, 8, 6 | 14, 6): no edge tile falls inside the matrix.
constexpr size_t kPanelRowMultiple = v::kRegisters >= 32 ? 48 : 42;

void run(const Product& q, const Epilogue& ep) {
  if (q.rows == 0 || q.cols == 0) return;
  if (q.depth == 0) return run_columns(q, ep);  // C = [C +] bias: nothing to block
  if (detail::prefer_packed(q)) return detail::run_packed(q, ep);
  if (q.a_ks == 1) {  // forward form: A (rows, depth) row-major
    const size_t panel =
        std::max<size_t>(1, kPanelBytes / (q.depth * sizeof(float)) / kPanelRowMultiple) * kPanelRowMultiple;
    for (size_t i0 = 0; i0 < q.rows; i0 += panel) {
      Product part = q;
      part.a += i0 * q.a_rs;
      part.c += i0 * q.ldc;
      part.rows = std::min(panel, q.rows - i0);
      run_columns(part, ep);
    }
    return;
  }
  // weight-gradient form: A(i, p) = a[i + p * a_ks], p = the batch row
  const size_t depth_bytes = (q.rows + q.cols) * sizeof(float);
  const size_t chunk = std::max<size_t>(64, kPanelBytes / depth_bytes);
  if (q.depth <= chunk) return run_columns(q, ep);
  for (size_t p0 = 0; p0 < q.depth; p0 += chunk) {
    Product part = q;
    part.a += p0 * q.a_ks;
    part.b += p0 * q.ldb;
    part.depth = std::min(chunk, q.depth - p0);
    const bool last = p0 + part.depth == q.depth;
    run_columns(part, Epilogue{last ? ep.bias : nullptr, last ? ep.relu_cols : 0, ep.accumulate || p0 > 0});
  }
}

}  // namespace

void linear_forward(ConstMatrixView a, const float* w, size_t ldw, const float* bias, size_t relu_cols, MatrixView c,
                    bool accumulate) {
  run(Product{a.data, a.stride, 1, w, ldw, a.cols, c.data, c.stride, c.rows, c.cols},
      Epilogue{bias, relu_cols, accumulate});
}

void linear_wgrad(ConstMatrixView a, ConstMatrixView d, float* dw, size_t ldw, bool accumulate) {
  run(Product{a.data, 1, a.stride, d.data, d.stride, a.rows, dw, ldw, a.cols, d.cols}, Epilogue{nullptr, 0, accumulate});
}

void linear_nn(ConstMatrixView a, const float* b, size_t ldb, bool accumulate, MatrixView c) {
  run(Product{a.data, a.stride, 1, b, ldb, a.cols, c.data, c.stride, c.rows, c.cols},
      Epilogue{nullptr, 0, accumulate});
}

void transpose(ConstMatrixView src, MatrixView dst) {
  for (size_t i = 0; i < src.rows; ++i)
    for (size_t j = 0; j < src.cols; ++j) dst(j, i) = src(i, j);
}

void linear_forward_ref(ConstMatrixView a, const float* w, size_t ldw, const float* bias, size_t relu_cols,
                        MatrixView c, bool accumulate) {
  for (size_t i = 0; i < c.rows; ++i)
    for (size_t j = 0; j < c.cols; ++j) {
      double acc = (bias ? bias[j] : 0.0) + (accumulate ? c(i, j) : 0.0f);
      for (size_t p = 0; p < a.cols; ++p) acc += static_cast<double>(a(i, p)) * w[p * ldw + j];
      c(i, j) = static_cast<float>(j < relu_cols ? std::max(acc, 0.0) : acc);
    }
}

void linear_wgrad_ref(ConstMatrixView a, ConstMatrixView d, float* dw, size_t ldw, bool accumulate) {
  for (size_t k = 0; k < a.cols; ++k)
    for (size_t j = 0; j < d.cols; ++j) {
      double acc = 0.0;
      for (size_t i = 0; i < a.rows; ++i) acc += static_cast<double>(a(i, k)) * d(i, j);
      dw[k * ldw + j] = static_cast<float>(accumulate ? dw[k * ldw + j] + acc : acc);
    }
}

void linear_nn_ref(ConstMatrixView a, const float* b, size_t ldb, bool accumulate, MatrixView c) {
  for (size_t i = 0; i < c.rows; ++i)
    for (size_t j = 0; j < c.cols; ++j) {
      double acc = 0.0;
      for (size_t p = 0; p < a.cols; ++p) acc += static_cast<double>(a(i, p)) * b[p * ldb + j];
      c(i, j) = static_cast<float>(accumulate ? c(i, j) + acc : acc);
    }
}

}  // namespace mmoe::kernels
