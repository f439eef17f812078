// HARD_SWISH on int8 and uint8 with TFLite's 16-bit fixed-point arithmetic
// (activations.cc HardSwishPrepare, reference_ops::HardSwish):
//   prepare: hires = s_in / 128 (float); the output multiplier hires / s_out and the
//     "reluish" multiplier hires / (3 / 32768) become QuantizeMultiplier pairs whose Q31
//     significands are rounded to Q15 (DownScaleInt32ToInt16Multiplier); the output exponent
//     must be <= 0 (TFLite checks it).
//   eval: x = (q - z_in) * 128 in int16; preshift = SRDHM16(x, output multiplier);
//     reluish = x saturating-shifted left by (exponent - 1), SRDHM16 with the reluish
//     multiplier, shifted left one more (saturating) or right (rounding) by the exponent, then
//     mapped from [-1, 1] to [0, 1] as (r + 32768) >> 1; out = RoundingDivideByPOT(
//     SaturatingDoublingHighMul(reluish, preshift), -output exponent) + z_out, clamped.
// SRDHM16 is gemmlowp's int16 SaturatingRoundingDoublingHighMul; SaturatingDoublingHighMul
// truncates toward zero instead. Each output depends on one input byte: prepare tabulates the
// 256 results and eval looks them up.
#include <cmath>
#include <limits>
#include <memory>

#include "runtime/kernels/reference/quantized/quantized_common.h"
#include "runtime/kernels/reference/quantized/quantized_kernels.h"

namespace qdet::rt::quantized {
namespace {

struct HardSwishParams {
  int32_t in_zp = 0, out_zp = 0;
  int16_t out_multiplier = 0, reluish_multiplier = 0;
  int out_exponent = 0, reluish_exponent = 0;
};

int16_t to_q15(int32_t q31) {  // TFLite DownScaleInt32ToInt16Multiplier
  constexpr int32_t kRounding = 1 << 15;
  if (q31 >= std::numeric_limits<int32_t>::max() - kRounding) return std::numeric_limits<int16_t>::max();
  return static_cast<int16_t>((q31 + kRounding) >> 16);
}

int16_t srdhm16(int16_t a, int16_t b) {  // gemmlowp SaturatingRoundingDoublingHighMul<int16>
  if (a == b && a == std::numeric_limits<int16_t>::min()) return std::numeric_limits<int16_t>::max();
  const int32_t ab = static_cast<int32_t>(a) * b;
  const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
  return static_cast<int16_t>((ab + nudge) / (1 << 15));
}

int16_t sdhm16(int16_t a, int16_t b) {  // SaturatingDoublingHighMul: truncates
  if (a == b && a == std::numeric_limits<int16_t>::min()) return std::numeric_limits<int16_t>::max();
  return static_cast<int16_t>((static_cast<int32_t>(a) * b) / (1 << 15));
}

int16_t saturating_left_shift(int16_t v, int amount) {
  const int64_t r = static_cast<int64_t>(v) * (int64_t{1} << amount);
  return static_cast<int16_t>(std::clamp<int64_t>(r, std::numeric_limits<int16_t>::min(),
                                                  std::numeric_limits<int16_t>::max()));
}

int16_t rounding_divide_by_pot16(int16_t x, int exponent) {
  return static_cast<int16_t>(rounding_divide_by_pot(x, exponent));
}

int32_t hard_swish(const HardSwishParams& p, int32_t q) {
  const auto x = static_cast<int16_t>((q - p.in_zp) * (1 << 7));
  const int16_t preshift = srdhm16(x, p.out_multiplier);
  int16_t reluish = x;
  if (p.reluish_exponent > 0) reluish = saturating_left_shift(reluish, p.reluish_exponent - 1);
  reluish = srdhm16(reluish, p.reluish_multiplier);
  if (p.reluish_exponent > 0) reluish = saturating_left_shift(reluish, 1);
  if (p.reluish_exponent < 0) reluish = rounding_divide_by_pot16(reluish, -p.reluish_exponent);
  reluish = static_cast<int16_t>((reluish + (1 << 15)) >> 1);
  const int16_t out = rounding_divide_by_pot16(sdhm16(reluish, preshift), -p.out_exponent);
  return static_cast<int16_t>(out + p.out_zp);  // TFLite adds the zero point in int16
}

template <typename T>
void fill_table(const HardSwishParams& p, LookupTableData& d) {
  for (int32_t v = std::numeric_limits<T>::min(); v <= std::numeric_limits<T>::max(); ++v) {
    const int32_t r = std::clamp<int32_t>(hard_swish(p, v), std::numeric_limits<T>::min(),
                                          std::numeric_limits<T>::max());
    d.table[static_cast<uint8_t>(static_cast<T>(v))] = static_cast<uint8_t>(static_cast<T>(r));
  }
}

}  // namespace

Status hard_swish_prepare(PrepareContext& ctx) {
  const std::string op = "HARD_SWISH";
  QDET_ASSIGN_OR_RETURN(const ElementwiseTensors t, elementwise_tensors(ctx, op, is_int8_or_uint8));
  const TensorRef* in = &t.in;
  TensorRef& out = t.out;
  HardSwishParams p;
  p.in_zp = in->zero_point();
  p.out_zp = out.zero_point();
  const float hires = (1.0f / 128.0f) * in->scale();
  const QuantizedMultiplier m_out = quantize_multiplier(static_cast<double>(hires / out.scale()));
  const QuantizedMultiplier m_relu = quantize_multiplier(static_cast<double>(hires / (3.0f / 32768.0f)));
  if (m_out.shift > 0)
    return invalid_argument("{}: output scale {} is too small for input scale {} (TFLite needs "
                            "input scale / 128 <= output scale)", op, out.scale(), in->scale());
  p.out_multiplier = to_q15(m_out.multiplier);
  p.out_exponent = m_out.shift;
  p.reluish_multiplier = to_q15(m_relu.multiplier);
  p.reluish_exponent = m_relu.shift;
  auto d = std::make_unique<LookupTableData>();
  if (in->dtype == DType::kInt8) fill_table<int8_t>(p, *d);
  else fill_table<uint8_t>(p, *d);
  out.shape = in->shape;
  return keep_op_data(ctx, std::move(d));
}

}  // namespace qdet::rt::quantized
