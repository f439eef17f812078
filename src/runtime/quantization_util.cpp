#include "runtime/quantization_util.h"

#include <bit>
#include <cmath>
#include <limits>

namespace qdet::rt {

QuantizedMultiplier quantize_multiplier(double real_multiplier) {
  QuantizedMultiplier out;
  if (real_multiplier == 0.0 || !std::isfinite(real_multiplier)) return out;
  int shift = 0;
  const double q = std::frexp(real_multiplier, &shift);
  // TfLiteRound is std::round: half away from zero.
  auto q_fixed = static_cast<int64_t>(std::round(q * static_cast<double>(int64_t{1} << 31)));
  if (q_fixed == (int64_t{1} << 31)) {
    q_fixed /= 2;
    ++shift;
  }
  // A shift below -31 would shift every bit out: TFLite flushes such multipliers to zero.
  if (shift < -31) {
    shift = 0;
    q_fixed = 0;
  }
  out.multiplier = static_cast<int32_t>(q_fixed);
  out.shift = shift;
  return out;
}

Result<QuantizedMultiplier> quantize_multiplier_smaller_than_one(double real_multiplier,
                                                                 const char* what) {
  if (!(real_multiplier > 0.0 && real_multiplier < 1.0))
    return unsupported("{}: multiplier {} is outside (0, 1)", what, real_multiplier);
  QuantizedMultiplier m = quantize_multiplier(real_multiplier);
  if (m.shift > 0)  // q rounded up to 1.0 from just below it
    return unsupported("{}: multiplier {} rounds to 1", what, real_multiplier);
  return m;
}

Result<ChannelMultipliers> per_channel_multipliers(float input_scale,
                                                   std::span<const float> filter_scales,
                                                   float output_scale, int32_t num_channels) {
  if (filter_scales.size() != 1 && filter_scales.size() != static_cast<size_t>(num_channels))
    return invalid_argument("filter has {} scales for {} output channels", filter_scales.size(),
                            num_channels);
  if (!(input_scale > 0.0f) || !(output_scale > 0.0f) || !std::isfinite(input_scale) ||
      !std::isfinite(output_scale))
    return invalid_argument("input scale {} and output scale {} must be positive and finite",
                            input_scale, output_scale);
  ChannelMultipliers out;
  out.multiplier.resize(static_cast<size_t>(num_channels));
  out.shift.resize(static_cast<size_t>(num_channels));
  for (int32_t c = 0; c < num_channels; ++c) {
    const float fs = filter_scales.size() == 1 ? filter_scales[0] : filter_scales[c];
    if (!(fs >= 0.0f) || !std::isfinite(fs))
      return invalid_argument("filter scale {} of channel {} is not a finite non-negative number",
                              fs, c);
    const double effective = static_cast<double>(input_scale) * static_cast<double>(fs) /
                             static_cast<double>(output_scale);
    const QuantizedMultiplier m = quantize_multiplier(effective);
    // The int64 variant (16x8) supports shifts up to 7; an 8-bit output needs far less. A
    // larger multiplier means scales no converter produces.
    if (m.shift > 7)
      return unsupported("channel {}: output multiplier {} is too large (>= 128)", c, effective);
    out.multiplier[static_cast<size_t>(c)] = m.multiplier;
    out.shift[static_cast<size_t>(c)] = m.shift;
  }
  return out;
}

int32_t asymmetric_zero_point(double rmin, double rmax, double scale, int32_t qmin, int32_t qmax) {
  const double zp_from_min = qmin - rmin / scale;
  const double zp_from_max = qmax - rmax / scale;
  const double err_min = std::fabs(static_cast<double>(qmin)) + std::fabs(rmin / scale);
  const double err_max = std::fabs(static_cast<double>(qmax)) + std::fabs(rmax / scale);
  const double zp = err_min < err_max ? zp_from_min : zp_from_max;
  if (zp <= qmin) return qmin;
  if (zp >= qmax) return qmax;
  return static_cast<int32_t>(std::round(zp));
}

// int64 is not a quantized activation type: its range is not an int32's.
int32_t dtype_qmin(DType dtype) {
  return dtype == DType::kInt64 ? 0 : static_cast<int32_t>(dtype_traits(dtype).min_value);
}

int32_t dtype_qmax(DType dtype) {
  return dtype == DType::kInt64 ? 0 : static_cast<int32_t>(dtype_traits(dtype).max_value);
}

Result<QuantizedActivationRange> activation_range_quantized(graph::Activation activation, DType dtype,
                                                   float scale, int32_t zero_point) {
  if (dtype != DType::kInt8 && dtype != DType::kUInt8 && dtype != DType::kInt16 &&
      dtype != DType::kInt32)
    return unsupported("activation range: {} is not a quantized integer type",
                       dtype_name(dtype));
  if (!(scale > 0.0f) || !std::isfinite(scale))
    return invalid_argument("activation range: output scale {} must be positive and finite",
                            scale);
  const int32_t qmin = dtype_qmin(dtype);
  const int32_t qmax = dtype_qmax(dtype);
  // TFLite: zero_point + static_cast<int32_t>(TfLiteRound(f / scale)), float arithmetic.
  // The quotient is clamped so that tiny scales cannot overflow the conversion.
  auto quantize = [&](float f) {
    const float q = std::clamp(std::round(f / scale), -1e9f, 1e9f);
    return static_cast<int32_t>(std::clamp<int64_t>(
        int64_t{zero_point} + static_cast<int64_t>(q), std::numeric_limits<int32_t>::min(),
        std::numeric_limits<int32_t>::max()));
  };
  switch (activation) {
    case graph::Activation::kNone: return QuantizedActivationRange{qmin, qmax};
    case graph::Activation::kRelu: return QuantizedActivationRange{std::max(qmin, quantize(0.0f)), qmax};
    case graph::Activation::kRelu6:
      return QuantizedActivationRange{std::max(qmin, quantize(0.0f)), std::min(qmax, quantize(6.0f))};
    case graph::Activation::kReluN1To1:
      return QuantizedActivationRange{std::max(qmin, quantize(-1.0f)), std::min(qmax, quantize(1.0f))};
    default:
      return unsupported("fused activation {} is not supported on quantized outputs",
                         graph::activation_name(activation));
  }
}

int count_leading_sign_bits(int32_t x) {
  if (x >= 0) return std::countl_zero(static_cast<uint32_t>(x)) - 1;
  if (x == std::numeric_limits<int32_t>::min()) return 0;
  return std::countl_zero(2 * static_cast<uint32_t>(-x) - 1);
}

namespace {

// gemmlowp's FixedPoint<int32_t, N> arithmetic on raw values (int32 adds wrap like TFLite's).
int32_t wrapping_add(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}
int32_t wrapping_sub(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) - static_cast<uint32_t>(b));
}
// SaturatingRoundingMultiplyByPOT<exponent> for exponent > 0.
int32_t saturating_shift_left(int32_t x, int exponent) {
  const int32_t threshold = (int32_t{1} << (31 - exponent)) - 1;
  if (x > threshold) return std::numeric_limits<int32_t>::max();
  if (x < -threshold) return std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(static_cast<uint32_t>(x) << exponent);
}
// RoundingHalfSum: (a + b) / 2 rounded half away from zero.
int32_t rounding_half_sum(int32_t a, int32_t b) {
  const int64_t sum = int64_t{a} + int64_t{b};
  return static_cast<int32_t>((sum + (sum >= 0 ? 1 : -1)) / 2);
}

// gemmlowp one_over_one_plus_x_for_x_in_0_1: a is Q0.31, the result Q0.31.
int32_t one_over_one_plus_x(int32_t a) {
  constexpr int32_t kOneQ0 = std::numeric_limits<int32_t>::max();  // F0::One()
  constexpr int32_t kOneQ2 = int32_t{1} << 29;                     // F2::One()
  constexpr int32_t k48Over17 = 1515870810, kNeg32Over17 = -1010580540;  // Q2.29
  const int32_t half_denominator = rounding_half_sum(a, kOneQ0);
  int32_t x = wrapping_add(k48Over17, saturating_rounding_doubling_high_mul(half_denominator, kNeg32Over17));
  for (int i = 0; i < 3; ++i) {
    const int32_t half_denominator_times_x = saturating_rounding_doubling_high_mul(half_denominator, x);
    const int32_t one_minus = wrapping_sub(kOneQ2, half_denominator_times_x);
    // x * one_minus is Q4.27; Rescale<2> multiplies by 4, saturating.
    x = wrapping_add(x, saturating_shift_left(saturating_rounding_doubling_high_mul(x, one_minus), 2));
  }
  // ExactMulByPot<-1> (Q2 -> Q1, the raw value unchanged), then Rescale<0>: times 2, saturating.
  return saturating_shift_left(x, 1);
}

}  // namespace

int32_t reciprocal_fixed_point(int32_t x, int x_integer_digits, int* num_bits_over_unit) {
  const int headroom_plus_one = std::countl_zero(static_cast<uint32_t>(x));  // 32 for x = 0
  *num_bits_over_unit = x_integer_digits - headroom_plus_one;
  const auto shifted_sum_minus_one = static_cast<int32_t>(
      (static_cast<uint32_t>(x) << (headroom_plus_one & 31)) - (uint32_t{1} << 31));
  return one_over_one_plus_x(shifted_sum_minus_one);
}

QuantizedMultiplier inv_sqrt_quantized_multiplier(int32_t input) {
  if (input <= 1) return {std::numeric_limits<int32_t>::max(), 0};
  int shift = 11;
  while (input >= (1 << 29)) {
    input /= 4;
    ++shift;
  }
  const int max_left_shift_bits = std::countl_zero(static_cast<uint32_t>(input)) - 1;
  const int left_shift_bit_pairs = max_left_shift_bits / 2 - 1;
  shift -= left_shift_bit_pairs;
  input <<= 2 * left_shift_bit_pairs;
  // Newton-Raphson for 1/sqrt in Q3.28 (gemmlowp FixedPoint<int32_t, 3>), from x = 1, 5 steps.
  const int32_t fixed_input = input >> 1;
  const int32_t half_input = rounding_divide_by_pot(fixed_input, 1);  // SaturatingRoundingMultiplyByPOT<-1>
  constexpr int32_t kHalfThree = (1 << 28) + (1 << 27);             // 1.5 in Q3.28
  int32_t x = 1 << 28;                                                // 1.0
  for (int i = 0; i < 5; ++i) {
    // x*x*x: Q6.25 then Q9.22; Rescale<3> multiplies by 2^6, saturating.
    const int32_t x2 = saturating_rounding_doubling_high_mul(x, x);
    const int32_t x3 = saturating_shift_left(saturating_rounding_doubling_high_mul(x2, x), 6);
    // 1.5 * x - half_input * x3: each Q6.25; Rescale<3> multiplies the difference by 2^3.
    const int32_t a = saturating_rounding_doubling_high_mul(kHalfThree, x);
    const int32_t b = saturating_rounding_doubling_high_mul(half_input, x3);
    x = saturating_shift_left(wrapping_sub(a, b), 3);
  }
  constexpr int32_t kHalfSqrt2 = 1518500250;  // sqrt(2) / 2 in Q0.31
  x = saturating_rounding_doubling_high_mul(x, kHalfSqrt2);  // Q3.28
  if (shift < 0) {
    x = static_cast<int32_t>(static_cast<uint32_t>(x) << -shift);
    shift = 0;
  }
  return {x, -shift};
}

}  // namespace qdet::rt
