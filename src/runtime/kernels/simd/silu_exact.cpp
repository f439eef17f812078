// Float SiLU, MUL(x, LOGISTIC(x)), in one pass with the arithmetic of the XNNPACK operators it
// stands for (Debian's 2022 XNNPACK on an AVX-512 CPU): the same float operations in the same
// order, so the same bytes as its sigmoid operator followed by its multiply operator, without the
// sigmoid's store and reload. Plans that must keep XNNPACK's float bytes (exact_float: the float
// regions of int8 models) run it where the blocked operator pair (xnnpack-silu) ran; the
// interpreter first checks, once per process, that it gives XNNPACK's bytes on this CPU
// (xnn::silu_matches), and keeps the pair where it does not.
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
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC bug 105593, see depthwise_8bit.cpp
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "runtime/denormals.h"
#include "runtime/kernels/reference/common.h"
#include "runtime/kernels/simd/kernels.h"

namespace qdet::rt::simd {
namespace {

constexpr int kBlock = 4096;  // elements a task takes at a time

// 2^(k/32) for k = 0..31, rounded to float.
const std::array<float, 32>& exp2_table() {
  static const std::array<float, 32> table = [] {
    std::array<float, 32> t{};
    for (int k = 0; k < 32; ++k) t[static_cast<size_t>(k)] = static_cast<float>(std::exp2(k / 32.0));
    return t;
  }();
  return table;
}

__attribute__((target("avx512f"))) void silu_avx512(const float* x, float* y, size_t n) {
  const float* table = exp2_table().data();
  const __m512 table_lo = _mm512_loadu_ps(table), table_hi = _mm512_loadu_ps(table + 16);
  const __m512i sign = _mm512_set1_epi32(static_cast<int32_t>(0x80000000u));
  const __m512 bias = _mm512_set1_ps(0x1.8p18f);
  const __m512 log2e = _mm512_set1_ps(0x1.715476p0f);
  const __m512 minus_ln2_hi = _mm512_set1_ps(-0x1.62E43p-1f), minus_ln2_lo = _mm512_set1_ps(0x1.05C61p-29f);
  const __m512 c2 = _mm512_set1_ps(0.5f), c1 = _mm512_set1_ps(0x1.0000F6p0f);
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512 lowest = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  const __m512 highest = _mm512_set1_ps(std::numeric_limits<float>::infinity());
  for (size_t i = 0; i < n; i += 16) {
    const size_t left = n - i;
    const __mmask16 mask = left >= 16 ? __mmask16{0xFFFF} : static_cast<__mmask16>((1u << left) - 1);
    const __m512 vx = _mm512_maskz_loadu_ps(mask, x + i);
    const __m512 z = _mm512_castsi512_ps(_mm512_or_epi32(_mm512_castps_si512(vx), sign));
    __m512 k = _mm512_fmadd_ps(z, log2e, bias);
    const __m512 l = _mm512_permutex2var_ps(table_lo, _mm512_castps_si512(k), table_hi);
    k = _mm512_sub_ps(k, bias);
    __m512 t = _mm512_fmadd_ps(k, minus_ln2_hi, z);
    t = _mm512_fmadd_ps(k, minus_ln2_lo, t);
    const __m512 p = _mm512_fmadd_ps(t, c2, c1);
    const __m512 tl = _mm512_mul_ps(t, l);
    const __m512 e = _mm512_scalef_ps(_mm512_fmadd_ps(tl, p, l), k);
    __m512 f = _mm512_div_ps(e, _mm512_add_ps(e, one));
    f = _mm512_mask_sub_ps(f, _mm512_testn_epi32_mask(_mm512_castps_si512(vx), sign), one, f);
    const __m512 product = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(vx, f), lowest), highest);
    _mm512_mask_storeu_ps(y + i, mask, product);
  }
}

Status prepare(PrepareContext& ctx) {
  if (!__builtin_cpu_supports("avx512f")) return unsupported("silu: no AVX-512");
  if (ctx.inputs.empty() || ctx.outputs.empty() || !ctx.inputs[0]) return invalid_argument("silu: no input");
  ctx.outputs[0]->shape = ctx.inputs[0]->shape;
  return ok_status();
}

Status eval(EvalContext& ctx) {
  const size_t n = static_cast<size_t>(ctx.inputs[0]->num_elements());
  const float* x = ctx.inputs[0]->as<const float>();
  float* y = ctx.outputs[0]->as<float>();
  const size_t blocks = (n + kBlock - 1) / kBlock;
  ref::parallel_for(ctx.threadpool, blocks, [&](size_t b) {
    DenormalsOff denormals_off;
    const size_t begin = b * kBlock;
    silu_avx512(x + begin, y + begin, std::min<size_t>(kBlock, n - begin));
  });
  return ok_status();
}

}  // namespace

bool silu_exact_available() { return __builtin_cpu_supports("avx512f"); }

void silu_exact(const float* x, float* y, size_t n) {
  DenormalsOff denormals_off;
  silu_avx512(x, y, n);
}

const Kernel kSiluExact = {"simd-silu", prepare, eval};

}  // namespace qdet::rt::simd
