// kernels/simd.h: the one vector vocabulary the hand-written kernels are written in.
//
// The kernels (linear, gate_mix, sparse, adam) are written once against this header, which maps each operation
// to the widest instruction set the build targets: AVX-512 (16 floats, masked loads and stores, 32 registers),
// AVX2 + FMA (8 floats, 16 registers; the machines this project runs on include Zen 3 EPYCs without AVX-512),
// or plain scalars (1 "lane"), so every build runs the same loop nests. The choice is made at compile time
// (-march=native by default, see CMakeLists.txt): the binary is built where it runs.
//
//   Vec, Mask        a register of kLanes floats; which lanes of a partial vector are live
//   mask(n)          the first min(n, kLanes) lanes
//   load_n/store_n   the first n lanes, plain instructions when n >= kLanes (the usual case)
//   load/store       whole vectors; load(p, m) reads only live lanes and zeroes the rest; store(p, m, x) writes
//                    only live lanes (never touching memory past them)
//   fmadd(a, b, c)   a * b + c in one rounding; fnmadd(a, b, c) = c - a * b
//   select(m, a, b)  a in the live lanes of m, b elsewhere
//   keep_positive(d, y)  d where y > 0, else 0 (the ReLU's backward, y its output)
//   sum_lanes(v)     lane j = the sum of v[j]'s lanes, for kLanes vectors (kLanes horizontal sums at once)
//   exp(x)           e^x, about 1 ulp (Cephes expf), arguments clamped to the float range
// kRegisters tells the register-blocked kernels how many accumulators fit.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#endif

namespace mmoe::kernels::simd {

// The Cephes expf polynomial, shared by every width: e^x = 2^n e^r, r = x - n ln 2 in [-ln2/2, ln2/2].
inline constexpr float kExpHi = 88.0f;  // n <= 127: 2^n stays finite for the AVX2 bit trick
inline constexpr float kExpLo = -87.3365447504f;  // 2^n stays a normal float (n >= -126) for the AVX2 bit trick
inline constexpr float kLog2e = 1.44269504088896341f;
inline constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
inline constexpr float kExpP[6] = {1.9875691500E-4f, 1.3981999507E-3f, 8.3334519073E-3f,
                                   4.1665795894E-2f, 1.6666665459E-1f, 5.0000001201E-1f};

#if defined(__AVX512F__)

inline constexpr size_t kLanes = 16;
inline constexpr int kRegisters = 32;
using Vec = __m512;
using Mask = __mmask16;

inline Mask mask(size_t n) { return n >= 16 ? static_cast<Mask>(0xFFFF) : static_cast<Mask>((1u << n) - 1u); }
inline Vec zero() { return _mm512_setzero_ps(); }
inline Vec set1(float x) { return _mm512_set1_ps(x); }
inline Vec load(const float* p) { return _mm512_loadu_ps(p); }
inline Vec load(const float* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
inline void store(float* p, Vec x) { _mm512_storeu_ps(p, x); }
inline void store(float* p, Mask m, Vec x) { _mm512_mask_storeu_ps(p, m, x); }
inline Vec add(Vec a, Vec b) { return _mm512_add_ps(a, b); }
inline Vec sub(Vec a, Vec b) { return _mm512_sub_ps(a, b); }
inline Vec mul(Vec a, Vec b) { return _mm512_mul_ps(a, b); }
inline Vec div(Vec a, Vec b) { return _mm512_div_ps(a, b); }
inline Vec max(Vec a, Vec b) { return _mm512_max_ps(a, b); }
inline Vec min(Vec a, Vec b) { return _mm512_min_ps(a, b); }
inline Vec sqrt(Vec a) { return _mm512_sqrt_ps(a); }
inline Vec fmadd(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
inline Vec fnmadd(Vec a, Vec b, Vec c) { return _mm512_fnmadd_ps(a, b, c); }
inline Vec select(Mask m, Vec if_live, Vec otherwise) { return _mm512_mask_mov_ps(otherwise, m, if_live); }
inline float reduce_add(Vec a) { return _mm512_reduce_add_ps(a); }
inline Vec keep_positive(Vec d, Vec y) { return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(y, zero(), _CMP_GT_OQ), d); }
inline Vec sum_lanes(const Vec* v) {
  alignas(64) float s[kLanes];
  for (size_t j = 0; j < kLanes; ++j) s[j] = reduce_add(v[j]);
  return _mm512_load_ps(s);
}
inline float reduce_max(Vec a) { return _mm512_reduce_max_ps(a); }
inline Vec round_nearest(Vec a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
inline Vec times_pow2(Vec y, Vec n) { return _mm512_scalef_ps(y, n); }

#elif defined(__AVX2__) && defined(__FMA__)

inline constexpr size_t kLanes = 8;
inline constexpr int kRegisters = 16;
using Vec = __m256;
using Mask = __m256i;  // all ones in a live lane

inline Mask mask(size_t n) {
  const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(std::min<size_t>(n, 8))), iota);
}
inline Vec zero() { return _mm256_setzero_ps(); }
inline Vec set1(float x) { return _mm256_set1_ps(x); }
inline Vec load(const float* p) { return _mm256_loadu_ps(p); }
inline Vec load(const float* p, Mask m) { return _mm256_maskload_ps(p, m); }
inline void store(float* p, Vec x) { _mm256_storeu_ps(p, x); }
inline void store(float* p, Mask m, Vec x) { _mm256_maskstore_ps(p, m, x); }
inline Vec add(Vec a, Vec b) { return _mm256_add_ps(a, b); }
inline Vec sub(Vec a, Vec b) { return _mm256_sub_ps(a, b); }
inline Vec mul(Vec a, Vec b) { return _mm256_mul_ps(a, b); }
inline Vec div(Vec a, Vec b) { return _mm256_div_ps(a, b); }
inline Vec max(Vec a, Vec b) { return _mm256_max_ps(a, b); }
inline Vec min(Vec a, Vec b) { return _mm256_min_ps(a, b); }
inline Vec sqrt(Vec a) { return _mm256_sqrt_ps(a); }
inline Vec fmadd(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
inline Vec fnmadd(Vec a, Vec b, Vec c) { return _mm256_fnmadd_ps(a, b, c); }
inline Vec select(Mask m, Vec if_live, Vec otherwise) {
  return _mm256_blendv_ps(otherwise, if_live, _mm256_castsi256_ps(m));
}
inline float reduce_add(Vec a) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
inline float reduce_max(Vec a) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
inline Vec keep_positive(Vec d, Vec y) { return _mm256_and_ps(d, _mm256_cmp_ps(y, zero(), _CMP_GT_OQ)); }
// Eight horizontal sums in 9 instructions (against 5 each, all on one dependency chain, with reduce_add).
inline Vec sum_lanes(const Vec* v) {
  const __m256 s03 = _mm256_hadd_ps(_mm256_hadd_ps(v[0], v[1]), _mm256_hadd_ps(v[2], v[3]));
  const __m256 s47 = _mm256_hadd_ps(_mm256_hadd_ps(v[4], v[5]), _mm256_hadd_ps(v[6], v[7]));
  // s03 = [v0..v3 summed over lanes 0-3 | the same over lanes 4-7], s47 likewise for v4..v7
  return _mm256_add_ps(_mm256_permute2f128_ps(s03, s47, 0x20), _mm256_permute2f128_ps(s03, s47, 0x31));
}
inline Vec round_nearest(Vec a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
// y * 2^n for integral n in [-126, 127]: n goes straight into the exponent bits.
inline Vec times_pow2(Vec y, Vec n) {
  const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(bits));
}

#else  // portable: one lane, so the same loop nests compile to scalar code

inline constexpr size_t kLanes = 1;
inline constexpr int kRegisters = 16;
using Vec = float;
using Mask = bool;

inline Mask mask(size_t n) { return n >= 1; }
inline Vec zero() { return 0.0f; }
inline Vec set1(float x) { return x; }
inline Vec load(const float* p) { return *p; }
inline Vec load(const float* p, Mask m) { return m ? *p : 0.0f; }
inline void store(float* p, Vec x) { *p = x; }
inline void store(float* p, Mask m, Vec x) {
  if (m) *p = x;
}
inline Vec add(Vec a, Vec b) { return a + b; }
inline Vec sub(Vec a, Vec b) { return a - b; }
inline Vec mul(Vec a, Vec b) { return a * b; }
inline Vec div(Vec a, Vec b) { return a / b; }
inline Vec max(Vec a, Vec b) { return a > b ? a : b; }
inline Vec min(Vec a, Vec b) { return a < b ? a : b; }
inline Vec sqrt(Vec a) { return std::sqrt(a); }
inline Vec fmadd(Vec a, Vec b, Vec c) { return std::fma(a, b, c); }
inline Vec fnmadd(Vec a, Vec b, Vec c) { return std::fma(-a, b, c); }
inline Vec select(Mask m, Vec if_live, Vec otherwise) { return m ? if_live : otherwise; }
inline float reduce_add(Vec a) { return a; }
inline float reduce_max(Vec a) { return a; }
inline Vec keep_positive(Vec d, Vec y) { return y > 0.0f ? d : 0.0f; }
inline Vec sum_lanes(const Vec* v) { return v[0]; }
inline Vec round_nearest(Vec a) { return std::nearbyint(a); }
inline Vec times_pow2(Vec y, Vec n) { return std::ldexp(y, static_cast<int>(n)); }

#endif

// The first n lanes (all of them for n >= kLanes), with a plain load or store when the vector is whole:
// AVX2's masked loads and stores cost several times a plain one, and whole vectors are the common case.
inline Vec load_n(const float* p, size_t n) { return n >= kLanes ? load(p) : load(p, mask(n)); }
inline void store_n(float* p, size_t n, Vec x) {
  if (n >= kLanes) store(p, x);
  else store(p, mask(n), x);
}
// x with the lanes past n zeroed.
inline Vec keep_n(Vec x, size_t n) { return n >= kLanes ? x : select(mask(n), x, zero()); }
// As load_n, with `fill` in the lanes past n.
inline Vec load_n_or(const float* p, size_t n, Vec fill) {
  return n >= kLanes ? load(p) : select(mask(n), load(p, mask(n)), fill);
}

inline Vec exp(Vec x) {
  x = max(min(x, set1(kExpHi)), set1(kExpLo));
  const Vec n = round_nearest(mul(x, set1(kLog2e)));
  x = fnmadd(n, set1(kLn2Hi), x);
  x = fnmadd(n, set1(kLn2Lo), x);
  Vec y = set1(kExpP[0]);
  for (int k = 1; k < 6; ++k) y = fmadd(y, x, set1(kExpP[k]));
  y = fmadd(y, mul(x, x), add(x, set1(1.0f)));
  return times_pow2(y, n);
}

}  // namespace mmoe::kernels::simd
