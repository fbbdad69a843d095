// The packed path of kernels/linear.h, for products too large for the unpacked kernels' caches.
//
// The unpacked kernels (linear.cpp) read B by rows straight from the weights: at the wide config's first
// layer (512 x 2064) a row of B is 8 KB, so every depth step of a tile touches another 4 KB page, past what
// the hardware prefetchers follow. They ran that layer at 65-73 GFLOP/s forward and 45-52 as its weight
// gradient on one Zen 3 core, where OpenBLAS runs 82-84. Here, as in BLIS and OpenBLAS, B is
// copied in blocks of KC rows into panels of NR columns (each a contiguous KC x NR strip that stays in L1
// while a tile column walks it) and A into micro-panels of MR rows (contiguous KC x MR, streamed from L2), so
// the micro-kernel reads two sequential streams. The tile is the unpacked kernels' (MR x NV vectors), so
// both paths share their register budget; a block of KC depth steps is summed in registers and added to C,
// KC blocks in ascending order, so results depend only on the shapes.
#include <algorithm>

#include "kernels/linear_product.h"
#include "kernels/simd.h"
#include "mmoe/tensor.h"

namespace mmoe::kernels::detail {

namespace {

namespace v = simd;
constexpr size_t L = v::kLanes;
constexpr int kNV = v::kRegisters >= 32 ? 3 : 2;               // vectors per tile row
constexpr int kMR = v::kRegisters >= 32 ? 8 : 6;               // tile rows: kMR * kNV accumulators + kNV + 1
constexpr size_t kNR = static_cast<size_t>(kNV) * L;           // columns of a B panel
constexpr size_t kKC = 128;                                    // depth of a block: a B panel of 8 KB (AVX2)
constexpr size_t kMC = 72;                                     // rows of an A block: 36 KB (AVX2), in L2
constexpr size_t kNC = 4096 / kNR * kNR;                       // columns of a B block: up to 2 MB, in L3

// Per-thread panels: the executor's threads each run their own products.
struct Panels {
  AlignedBuffer<float> a, b;
};
thread_local Panels t_panels;

void reserve(AlignedBuffer<float>& buf, size_t floats) {
  if (buf.size() < floats) buf.resize(floats);
}

// A(ic + i, pc + p) for i < mc, p < kc into micro-panels of kMR rows: dst[(i / kMR) kc kMR + p kMR + i % kMR],
// rows past mc zero.
void pack_a(const Product& q, size_t ic, size_t mc, size_t pc, size_t kc, float* dst) {
  for (size_t ir = 0; ir < mc; ir += kMR, dst += kc * kMR) {
    const size_t live = std::min<size_t>(kMR, mc - ir);
    const float* src = q.a + (ic + ir) * q.a_rs + pc * q.a_ks;
    if (q.a_rs == 1) {  // weight-gradient form: a micro-panel row is kMR consecutive floats
      for (size_t p = 0; p < kc; ++p) {
        const float* s = src + p * q.a_ks;
        float* d = dst + p * kMR;
        for (size_t i = 0; i < live; ++i) d[i] = s[i];
        for (size_t i = live; i < static_cast<size_t>(kMR); ++i) d[i] = 0.0f;
      }
    } else {  // forward form: rows of A are contiguous in p
      for (size_t i = 0; i < static_cast<size_t>(kMR); ++i) {
        float* d = dst + i;
        if (i < live) {
          const float* s = src + i * q.a_rs;
          for (size_t p = 0; p < kc; ++p) d[p * kMR] = s[p * q.a_ks];
        } else {
          for (size_t p = 0; p < kc; ++p) d[p * kMR] = 0.0f;
        }
      }
    }
  }
}

// B(pc + p, jc + j) for p < kc, j < nc into panels of kNR columns: dst[(j / kNR) kc kNR + p kNR + j % kNR],
// columns past nc zero.
void pack_b(const Product& q, size_t pc, size_t kc, size_t jc, size_t nc, float* dst) {
  for (size_t jr = 0; jr < nc; jr += kNR, dst += kc * kNR) {
    const size_t live = std::min(kNR, nc - jr);
    const float* src = q.b + pc * q.ldb + jc + jr;
    if (live == kNR) {  // whole panels: vector copies (a memcpy call per 64-byte row cost more than the copy)
      for (size_t p = 0; p < kc; ++p)
#pragma GCC unroll 4
        for (int k = 0; k < kNV; ++k) v::store(dst + p * kNR + L * k, v::load(src + p * q.ldb + L * k));
      continue;
    }
    for (size_t p = 0; p < kc; ++p)
      for (size_t j = 0; j < kNR; ++j) dst[p * kNR + j] = j < live ? src[p * q.ldb + j] : 0.0f;
  }
}

// One tile: rows [0, live_rows) and columns [0, live_cols) of C at c (column index col0), from packed panels.
// first: the block of depth 0 (C is overwritten unless ep.accumulate); last: the bias and ReLU apply.
// It is the unpacked tile (linear.cpp) with the panels' strides fixed at compile time. Running the unpacked
// tiles over the panels instead (run_columns on a one-tile Product, strides at run time) measured slower:
// wide MMoE batch 1024, 2 threads, 4 alternating runs, 25.1-26.1k against 19.8-24.5k samples/s; Shared-Bottom
// 17.0-19.2k against 12.3-16.8k.
void tile(const float* ap, const float* bp, size_t kc, float* c, size_t ldc, size_t live_rows, size_t live_cols,
          size_t col0, bool first, bool last, const Epilogue& ep) {
  // C's lines come from memory (a wide layer's C is megabytes): ask for them now, used after the depth loop.
  for (size_t i = 0; i < live_rows; ++i) {
    __builtin_prefetch(c + i * ldc, 1);
    __builtin_prefetch(c + i * ldc + live_cols - 1, 1);
  }
  v::Vec acc[kMR][kNV];
#pragma GCC unroll 16
  for (int i = 0; i < kMR; ++i)
#pragma GCC unroll 4
    for (int k = 0; k < kNV; ++k) acc[i][k] = v::zero();
#pragma GCC unroll 4
  for (size_t p = 0; p < kc; ++p) {
    v::Vec bv[kNV];
#pragma GCC unroll 4
    for (int k = 0; k < kNV; ++k) bv[k] = v::load(bp + L * static_cast<size_t>(k));
#pragma GCC unroll 16
    for (int i = 0; i < kMR; ++i) {
      const v::Vec av = v::set1(ap[i]);
#pragma GCC unroll 4
      for (int k = 0; k < kNV; ++k) acc[i][k] = v::fmadd(av, bv[k], acc[i][k]);
    }
    ap += kMR;
    bp += kNR;
  }
  const bool add_old = !first || ep.accumulate;
#pragma GCC unroll 4
  for (int k = 0; k < kNV; ++k) {
    const size_t off = L * static_cast<size_t>(k);
    if (off >= live_cols) break;
    const size_t n = live_cols - off, j = col0 + off;
    const v::Vec bias = last && ep.bias ? v::load_n(ep.bias + j, n) : v::zero();
    const v::Mask relu = v::mask(last && ep.relu_cols > j ? ep.relu_cols - j : 0);
#pragma GCC unroll 16
    for (int i = 0; i < kMR; ++i) {
      if (static_cast<size_t>(i) >= live_rows) break;
      float* out = c + static_cast<size_t>(i) * ldc + off;
      v::Vec x = acc[i][k];
      if (add_old) x = v::add(v::load_n(out, n), x);
      if (last) {
        x = v::add(x, bias);
        x = v::select(relu, v::max(x, v::zero()), x);
      }
      v::store_n(out, n, x);
    }
  }
}

}  // namespace

bool prefer_packed(const Product& q) {
  // The unpacked kernels lose where one depth step of theirs moves 4 KB or more through an operand (B's rows,
  // or A's in the weight-gradient form): every step is then on another page. One Zen 3 core, best of 20 runs,
  // unpacked -> packed GFLOP/s: wide first layer forward (1024 x 512 x 2064) 71-73 -> 80-83, its weight
  // gradient 47-49 -> 80; Shared-Bottom wide towers' weight gradient (2048 x 512 x 128) 39 -> 74 and input
  // gradient (512 x 128 x 2048) 41 -> 78-85. Where the strides are shorter the unpacked kernels are level or
  // ahead (census first layer, 512 x 500 x 144: 76 against 63 packed), as they are at every small shape.
  // Packing B costs a copy of it per call, which a product of few rows does not repay (wide Shared-Bottom at
  // batch 32, 32 rows of C: 3.0-3.9k samples/s unpacked against 2.7-3.1k packed).
  const size_t step_bytes = std::max(q.ldb, q.a_ks) * sizeof(float);
  return step_bytes >= 4096 && q.depth >= 64 && q.rows >= 64 && q.cols >= kNR;
}

void run_packed(const Product& q, const Epilogue& ep) {
  Panels& panels = t_panels;
  const size_t kc_max = std::min(kKC, q.depth), nc_max = std::min(kNC, q.cols), mc_max = std::min(kMC, q.rows);
  reserve(panels.b, kc_max * ((nc_max + kNR - 1) / kNR) * kNR);
  reserve(panels.a, kc_max * ((mc_max + kMR - 1) / kMR) * kMR);
  for (size_t jc = 0; jc < q.cols; jc += kNC) {
    const size_t nc = std::min(kNC, q.cols - jc);
    for (size_t pc = 0; pc < q.depth; pc += kKC) {
      const size_t kc = std::min(kKC, q.depth - pc);
      const bool first = pc == 0, last = pc + kc == q.depth;
      pack_b(q, pc, kc, jc, nc, panels.b.data());
      for (size_t ic = 0; ic < q.rows; ic += kMC) {
        const size_t mc = std::min(kMC, q.rows - ic);
        pack_a(q, ic, mc, pc, kc, panels.a.data());
        // A tile column walks the A block (L2) while its B panel stays in L1.
        for (size_t jr = 0; jr < nc; jr += kNR) {
          const float* bp = panels.b.data() + (jr / kNR) * kc * kNR;
          for (size_t ir = 0; ir < mc; ir += kMR)
            tile(panels.a.data() + (ir / kMR) * kc * kMR, bp, kc, q.c + (ic + ir) * q.ldc + jc + jr, q.ldc,
                 std::min<size_t>(kMR, mc - ir), std::min(kNR, nc - jr), jc + jr, first, last, ep);
        }
      }
    }
  }
}

}  // namespace mmoe::kernels::detail
