// Float SiLU, MUL(x, LOGISTIC(x)), in one pass with the arithmetic of the XNNPACK operators it
// stands for (Debian's 2022 XNNPACK on an AVX-512 CPU): the same float operations in the same
// order, so the same bytes as its sigmoid operator followed by its multiply operator, without the
// sigmoid's store and reload. Plans that must keep XNNPACK's float bytes (exact_float: the float
// regions of int8 models) run it where the blocked operator pair (xnnpack-silu) ran; the
// interpreter first checks, once per process, that it gives XNNPACK's bytes on this CPU
// (xnn::silu_matches), and keeps the pair where it does not. The arithmetic is in silu_exact.h.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC bug 105593, see depthwise_8bit.cpp
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "runtime/denormals.h"
#include "runtime/kernels/reference/common.h"
#include "runtime/kernels/simd/kernels.h"
#include "runtime/kernels/simd/silu_exact.h"

namespace qdet::rt::simd {
namespace {

constexpr int kBlock = 4096;  // elements a task takes at a time

template <bool kNewton>
__attribute__((target("avx512f"))) void silu_avx512(const float* x, float* y, size_t n) {
  const SiluConstants constants = silu_constants();
  for (size_t i = 0; i < n; i += 16) {
    const size_t left = n - i;
    const __mmask16 mask = left >= 16 ? __mmask16{0xFFFF} : static_cast<__mmask16>((1u << left) - 1);
    _mm512_mask_storeu_ps(y + i, mask, silu_exact_lanes<kNewton>(_mm512_maskz_loadu_ps(mask, x + i), constants));
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
    silu_avx512<false>(x + begin, y + begin, std::min<size_t>(kBlock, n - begin));
  });
  return ok_status();
}

}  // namespace

bool silu_exact_available() { return __builtin_cpu_supports("avx512f"); }

void silu_exact(const float* x, float* y, size_t n) {
  DenormalsOff denormals_off;
  silu_avx512<false>(x, y, n);
}

void silu_exact_newton(const float* x, float* y, size_t n) {
  DenormalsOff denormals_off;
  silu_avx512<true>(x, y, n);
}

__attribute__((target("avx512f"))) void quotients_over_one_plus(const float* e, float* q, size_t n, bool newton) {
  DenormalsOff denormals_off;
  const __m512 one = _mm512_set1_ps(1.0f);
  for (size_t i = 0; i < n; i += 16) {
    const size_t left = n - i;
    const __mmask16 mask = left >= 16 ? __mmask16{0xFFFF} : static_cast<__mmask16>((1u << left) - 1);
    const __m512 v = _mm512_maskz_loadu_ps(mask, e + i);
    _mm512_mask_storeu_ps(q + i, mask,
                          newton ? quotient_over_one_plus(v, one) : _mm512_div_ps(v, _mm512_add_ps(v, one)));
  }
}

const Kernel kSiluExact = {"simd-silu", prepare, eval};

}  // namespace qdet::rt::simd
