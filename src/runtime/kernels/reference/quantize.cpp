// QUANTIZE from float32 to int8/uint8/int16, per tensor or per axis, as TFLite's reference
// AffineQuantize: q = clamp(round_half_away_from_zero(x / scale) + zero_point). (Requantizing
// an integer input is the quantized kernels' job.)
#include <immintrin.h>

#include <cmath>
#include <type_traits>

#include "base/simd_clones.h"
#include "runtime/kernels/reference/common.h"

namespace qdet::rt::ref {
namespace {

struct QuantizeData : OpData, ChannelQuantization {};

Status prepare(PrepareContext& ctx) {
  QDET_TRY(check_arity(ctx, 1, 1, 1));
  const TensorRef& in = *ctx.inputs[0];
  TensorRef& out = *ctx.outputs[0];
  if (in.dtype != DType::kFloat32) return no_kernel_for_dtype(in.dtype);
  if (out.dtype != DType::kInt8 && out.dtype != DType::kUInt8 && out.dtype != DType::kInt16)
    return unsupported("quantize to {}", dtype_name(out.dtype));
  const QuantParams& q = *out.quant;
  if (q.empty() || q.zero_point.size() != q.scale.size())
    return invalid_argument("the {} output has no valid quantization parameters", dtype_name(out.dtype));
  auto d = std::make_unique<QuantizeData>();
  QDET_ASSIGN_OR_RETURN(static_cast<ChannelQuantization&>(*d), channel_quantization(in.shape, q));
  for (float s : q.scale)
    if (!(s > 0.0f) || !std::isfinite(s)) return invalid_argument("invalid output scale {}", s);
  out.shape = in.shape;
  return keep_op_data(ctx, std::move(d));
}

// One channel's run of the int16 loop below with AVX-512, 8 values a step in double: the same
// division, std::round's half-away-from-zero as trunc plus a step where the dropped fraction is
// at least one half (the fraction is exact in double), the same float conversion and clamp; NaN
// becomes 0 as in the scalar loop, infinities saturate.
__attribute__((target("avx512f,avx512vl,avx512bw,avx512dq"))) void quantize_int16_avx512(
    const float* in, int16_t* out, int64_t n, double scale, float zp) {
  const __m512d s = _mm512_set1_pd(scale), half = _mm512_set1_pd(0.5), one = _mm512_set1_pd(1.0);
  const __m512d sign = _mm512_set1_pd(-0.0);
  const __m256 lo = _mm256_set1_ps(-32768.0f), hi = _mm256_set1_ps(32767.0f), z = _mm256_set1_ps(zp);
  for (int64_t i = 0; i < n; i += 8) {
    const __mmask8 m = n - i >= 8 ? __mmask8{0xFF} : static_cast<__mmask8>((1u << (n - i)) - 1);
    const __m512d q = _mm512_div_pd(_mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, in + i)), s);
    __m512d t = _mm512_roundscale_pd(q, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __mmask8 away = _mm512_cmp_pd_mask(_mm512_abs_pd(_mm512_sub_pd(q, t)), half, _CMP_GE_OQ);
    t = _mm512_mask_add_pd(t, away, t, _mm512_or_pd(_mm512_and_pd(q, sign), one));
    __m256 r = _mm512_cvtpd_ps(t);
    r = _mm256_mask_blend_ps(_mm256_cmp_ps_mask(r, r, _CMP_UNORD_Q), r, _mm256_setzero_ps());
    r = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(r, z), lo), hi);
    _mm_mask_storeu_epi16(out + i, m, _mm256_cvtepi32_epi16(_mm256_cvttps_epi32(r)));
  }
}

template <typename T>
void quantize(const QuantizeData& d, const float* in, T* out) {
  constexpr float lo = std::numeric_limits<T>::min(), hi = std::numeric_limits<T>::max();
  for (int64_t o = 0; o < d.outer; ++o)
    for (int64_t c = 0; c < d.channels; ++c) {
      const float scale = d.scale[c];
      const float zp = static_cast<float>(d.zero_point[c]);
      if constexpr (std::is_same_v<T, int16_t>) {
        if (cpu_has_avx512_v4()) {
          quantize_int16_avx512(in, out, d.inner, static_cast<double>(scale), zp);
          in += d.inner;
          out += d.inner;
          continue;
        }
      }
      for (int64_t i = 0; i < d.inner; ++i, ++in, ++out) {
        // round() then add the zero point; clamping in float avoids int overflow on huge
        // inputs, NaN becomes the zero point (real 0). TFLite's int16 AffineQuantize
        // (optimized_ops, the path its builtin kernel takes) divides in double; 8-bit outputs
        // divide in float (reference_ops). The two differ by one step when the float quotient
        // rounds across a .5.
        float r;
        if constexpr (std::is_same_v<T, int16_t>)
          r = static_cast<float>(std::round(static_cast<double>(*in) / static_cast<double>(scale)));
        else
          r = std::round(*in / scale);
        if (std::isnan(r)) r = 0.0f;
        const float v = std::min(std::max(r + zp, lo), hi);
        *out = static_cast<T>(v);
      }
    }
}

Status eval(EvalContext& ctx) {
  const auto& d = *op_data_as<QuantizeData>(ctx);
  const float* in = ctx.inputs[0]->as<const float>();
  TensorRef& out = *ctx.outputs[0];
  return with_element_type<int8_t, uint8_t, int16_t>(out.dtype, "QUANTIZE", [&](auto t) {
    quantize(d, in, out.as<decltype(t)>());
  });
}

}  // namespace

const Kernel kQuantizeFromFloat = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
