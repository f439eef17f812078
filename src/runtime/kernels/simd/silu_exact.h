// The exact float SiLU of 16 lanes: XNNPACK's AVX-512 sigmoid then its multiply, their float
// operations in their order (silu_exact.cpp says which). Shared by the one-pass SiLU kernel and
// the float convolution that writes the SiLU of its outputs (conv_float.cpp); inline, compiled
// for AVX-512 F in each.
//
// XNNPACK's AVX-512 sigmoid ("rr2, lut32, p2, perm2, scalef, div"): with z = -|x|,
//   n = round(z log2 e) to a multiple of 1/32 (the 1.5 * 2^18 bias trick, one FMA),
//   l = 2^frac(n) from a 32-entry table, indexed by the low five bits of the biased n,
//   t = z - n ln2 in two FMAs (ln2 split into a high and a low part),
//   e = 2^floor(n) * (l + l t (c1 + c2 t)) by SCALEF, f = e / (e + 1),
// then 1 - f where x is not negative (NaN where |x| is beyond about 2^88 and the reduction
// overflows, as XNNPACK's). The multiply is one float product x * f, clamped to [-inf, +inf] as
// XNNPACK's multiply clamps (MAXPS(product, -inf) turns a NaN into -inf). Denormals are off, as
// XNNPACK's threads run.
#pragma once

#include <immintrin.h>

#include <limits>

namespace qdet::rt::simd {

// 2^(k/32) for k = 0..31, rounded to float (XNNPACK's table; simd_silu_exact_test checks it
// against std::exp2). A constant, so that kernels inlining the SiLU make no call.
alignas(64) inline constexpr float kSiluExp2Table[32] = {
    0x1p+0f, 0x1.059b0ep+0f, 0x1.0b5586p+0f, 0x1.11301ep+0f,
    0x1.172b84p+0f, 0x1.1d4874p+0f, 0x1.2387a6p+0f, 0x1.29e9ep+0f,
    0x1.306fep+0f, 0x1.371a74p+0f, 0x1.3dea64p+0f, 0x1.44e086p+0f,
    0x1.4bfdaep+0f, 0x1.5342b6p+0f, 0x1.5ab07ep+0f, 0x1.6247ecp+0f,
    0x1.6a09e6p+0f, 0x1.71f75ep+0f, 0x1.7a1148p+0f, 0x1.82589ap+0f,
    0x1.8ace54p+0f, 0x1.93737cp+0f, 0x1.9c4918p+0f, 0x1.a5503cp+0f,
    0x1.ae89fap+0f, 0x1.b7f77p+0f, 0x1.c199bep+0f, 0x1.cb720ep+0f,
    0x1.d5818ep+0f, 0x1.dfc974p+0f, 0x1.ea4afap+0f, 0x1.f50766p+0f};

struct SiluConstants {
  __m512 table_lo, table_hi, bias, log2e, minus_ln2_hi, minus_ln2_lo, c2, c1, one, lowest, highest;
  __m512i sign;
};

__attribute__((target("avx512f"), always_inline)) inline SiluConstants silu_constants() {
  return {_mm512_load_ps(kSiluExp2Table),
          _mm512_load_ps(kSiluExp2Table + 16),
          _mm512_set1_ps(0x1.8p18f),
          _mm512_set1_ps(0x1.715476p0f),
          _mm512_set1_ps(-0x1.62E43p-1f),
          _mm512_set1_ps(0x1.05C61p-29f),
          _mm512_set1_ps(0.5f),
          _mm512_set1_ps(0x1.0000F6p0f),
          _mm512_set1_ps(1.0f),
          _mm512_set1_ps(-std::numeric_limits<float>::infinity()),
          _mm512_set1_ps(std::numeric_limits<float>::infinity()),
          _mm512_set1_epi32(static_cast<int32_t>(0x80000000u))};
}

// e / (e + 1) for e in [+0, 2] (the sigmoid's e is in [+0, 1]) or NaN, as VDIVPS rounds it, from
// RCP14, one Newton step and one FMA correction: five FMA-unit operations instead of the
// divider, which a convolution's SiLU epilogue cannot hide (every float in [+0, 2] checked
// against VDIVPS: simd_silu_exact_test).
__attribute__((target("avx512f"), always_inline)) inline __m512 quotient_over_one_plus(__m512 e, __m512 one) {
  const __m512 d = _mm512_add_ps(e, one);
  __m512 r = _mm512_rcp14_ps(d);
  r = _mm512_fmadd_ps(r, _mm512_fnmadd_ps(d, r, one), r);
  const __m512 q = _mm512_mul_ps(e, r);
  return _mm512_fmadd_ps(_mm512_fnmadd_ps(d, q, e), r, q);
}

// kNewton: the quotient by quotient_over_one_plus instead of VDIVPS (the same bits).
template <bool kNewton = false>
__attribute__((target("avx512f"), always_inline)) inline __m512 silu_exact_lanes(__m512 vx, const SiluConstants& s) {
  const __m512 z = _mm512_castsi512_ps(_mm512_or_epi32(_mm512_castps_si512(vx), s.sign));
  __m512 k = _mm512_fmadd_ps(z, s.log2e, s.bias);
  const __m512 l = _mm512_permutex2var_ps(s.table_lo, _mm512_castps_si512(k), s.table_hi);
  k = _mm512_sub_ps(k, s.bias);
  __m512 t = _mm512_fmadd_ps(k, s.minus_ln2_hi, z);
  t = _mm512_fmadd_ps(k, s.minus_ln2_lo, t);
  const __m512 p = _mm512_fmadd_ps(t, s.c2, s.c1);
  const __m512 tl = _mm512_mul_ps(t, l);
  const __m512 e = _mm512_scalef_ps(_mm512_fmadd_ps(tl, p, l), k);
  __m512 f = kNewton ? quotient_over_one_plus(e, s.one) : _mm512_div_ps(e, _mm512_add_ps(e, s.one));
  f = _mm512_mask_sub_ps(f, _mm512_testn_epi32_mask(_mm512_castps_si512(vx), s.sign), s.one, f);
  return _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(vx, f), s.lowest), s.highest);
}

}  // namespace qdet::rt::simd
