// Fixed-point arithmetic of quantized kernels, bit-exact with TensorFlow Lite (~2.12, the
// default double-rounding build, i.e. without TFLITE_SINGLE_ROUNDING).
//
// Conventions (TFLite's):
//   real value      r = scale * (q - zero_point)
//   real multiplier M ≈ multiplier * 2^(shift - 31), with multiplier in [2^30, 2^31) (or 0)
//                   shift > 0 means a left shift, shift < 0 a right shift ("exponent").
//
// Where the result of a kernel is defined by a rounding, this header says which one, because a
// quantized output must match TFLite's to the bit, not only to within a step:
//   saturating_rounding_doubling_high_mul  rounds half up (toward +inf): floor(a*b/2^31 + 1/2)
//   rounding_divide_by_pot                 rounds half away from zero
//   multiply_by_quantized_multiplier       both of the above, in that order ("double rounding")
// The prepare step of every quantized kernel turns its float scales into multipliers with the
// functions below (in double, like TFLite), and eval only calls the inline integer helpers.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "base/status.h"
#include "graph/op.h"
#include "tensor/dtype.h"

namespace qdet::rt {

// ---------------------------------------------------------------------------------------------
// Multipliers (prepare time)
// ---------------------------------------------------------------------------------------------

// A real multiplier M as a Q31 fixed-point significand and a power-of-two exponent:
// M ≈ multiplier * 2^(shift - 31).
struct QuantizedMultiplier {
  int32_t multiplier = 0;
  int shift = 0;
  bool operator==(const QuantizedMultiplier&) const = default;
};

// TFLite QuantizeMultiplier: frexp(M) = q * 2^shift with q in [0.5, 1); multiplier =
// round_half_away(q * 2^31). When rounding gives 2^31 the significand is halved and shift
// incremented. Multipliers below about 2^-31 (shift < -31) flush to {0, 0}; M == 0 gives {0, 0}.
// M must be finite and >= 0 (kernels check their scales before calling).
QuantizedMultiplier quantize_multiplier(double real_multiplier);

// TFLite QuantizeMultiplierSmallerThanOneExp: for 0 < M < 1, so that shift <= 0.
// Errors (kUnsupported, naming `what`) when M is outside (0, 1).
Result<QuantizedMultiplier> quantize_multiplier_smaller_than_one(double real_multiplier,
                                                                 const char* what);

// Per-channel output multipliers of CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED
// (TFLite PopulateConvolutionQuantizationParams): for each output channel c,
//   M_c = double(input_scale) * double(filter_scale_c) / double(output_scale).
// `filter_scales` holds one scale (per-tensor weights: every channel gets it) or num_channels.
struct ChannelMultipliers {
  std::vector<int32_t> multiplier;
  std::vector<int32_t> shift;
};
Result<ChannelMultipliers> per_channel_multipliers(float input_scale,
                                                   std::span<const float> filter_scales,
                                                   float output_scale, int32_t num_channels);

// ---------------------------------------------------------------------------------------------
// Activation range of quantized outputs
// ---------------------------------------------------------------------------------------------

struct QuantizedActivationRange {
  int32_t min = 0;
  int32_t max = 0;
};

// Smallest and largest value of an integer dtype (int8, uint8, int16, int32).
int32_t dtype_qmin(DType dtype);
int32_t dtype_qmax(DType dtype);

// TFLite's asymmetric zero point for a real range [rmin, rmax] (rmin <= 0 <= rmax, rmin < rmax)
// mapped to [qmin, qmax] with `scale` = (rmax - rmin) / (qmax - qmin): taken from whichever end
// of the range loses less precision, then rounded and kept in [qmin, qmax]
// (ChooseQuantizationParams in the converter, AsymmetricQuantizeFloats in hybrid kernels).
int32_t asymmetric_zero_point(double rmin, double rmax, double scale, int32_t qmin, int32_t qmax);

// TFLite CalculateActivationRangeQuantized: the clamp of a fused activation in the output's
// quantized domain. quantize(f) = zero_point + int32(round_half_away(f / scale)) in float.
//   NONE: [qmin, qmax]; RELU: [max(qmin, q(0)), qmax]; RELU6: [max(qmin, q(0)), min(qmax, q(6))];
//   RELU_N1_TO_1: [max(qmin, q(-1)), min(qmax, q(1))]. TANH and SIGN_BIT are kUnsupported.
Result<QuantizedActivationRange> activation_range_quantized(graph::Activation activation, DType dtype,
                                                   float scale, int32_t zero_point);

// ---------------------------------------------------------------------------------------------
// Real <-> quantized values
// ---------------------------------------------------------------------------------------------

// real = scale * (q - zero_point), in float like TFLite's Dequantize.
inline float dequantize_value(int32_t q, float scale, int32_t zero_point) {
  return scale * static_cast<float>(q - zero_point);
}

// TFLite AffineQuantize of one value: zero_point + int32(round_half_away(real / scale)) in
// float, clamped to [qmin, qmax].
inline int32_t quantize_value(float real, float scale, int32_t zero_point, int32_t qmin,
                              int32_t qmax) {
  const float scaled = std::round(real / scale);
  // Clamp in float first so that huge values do not overflow the int conversion.
  const float bounded = std::clamp(scaled, -2147483520.0f, 2147483520.0f);
  const int64_t q = static_cast<int64_t>(bounded) + zero_point;
  return static_cast<int32_t>(std::clamp<int64_t>(q, qmin, qmax));
}

// ---------------------------------------------------------------------------------------------
// Integer arithmetic (eval time)
// ---------------------------------------------------------------------------------------------

// gemmlowp SaturatingRoundingDoublingHighMul: the high 32 bits of 2*a*b, rounded, i.e.
// floor(a * b / 2^31 + 1/2) (ties toward +inf). The one overflowing case,
// a == b == INT32_MIN, saturates to INT32_MAX.
inline int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  if (a == b && a == std::numeric_limits<int32_t>::min())
    return std::numeric_limits<int32_t>::max();
  const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  const int64_t nudge = ab >= 0 ? (int64_t{1} << 30) : (1 - (int64_t{1} << 30));
  // C++ division truncates toward zero; with the nudge above this is round-half-up.
  return static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));
}

// gemmlowp RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away from zero.
// exponent in [0, 31].
inline int32_t rounding_divide_by_pot(int32_t x, int exponent) {
  const int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// TFLite MultiplyByQuantizedMultiplier (int32 accumulator, double rounding):
//   RoundingDivideByPOT(SRDHM(x * 2^max(shift,0), multiplier), max(-shift,0)).
// The left shift wraps on overflow exactly like TFLite's int32 arithmetic (two's complement).
inline int32_t multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int shift) {
  const int left_shift = shift > 0 ? shift : 0;
  const int right_shift = shift > 0 ? 0 : -shift;
  const auto shifted = static_cast<int32_t>(static_cast<uint32_t>(x) << left_shift);
  return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted, multiplier),
                                right_shift);
}

// TFLite MultiplyByQuantizedMultiplier for int64 accumulators (16x8 kernels with int64 bias):
// the multiplier is first reduced to Q15 (rounded, saturating at 0x7FFF), then
// (x * m15 + 2^(14 - shift)) >> (15 - shift) — one rounding, half up. Requires multiplier >= 0,
// shift in [-31, 7] and |x| < 2^47 (TFLite's assumptions).
inline int32_t multiply_by_quantized_multiplier(int64_t x, int32_t multiplier, int shift) {
  const int32_t reduced =
      multiplier < 0x7FFF0000 ? ((multiplier + (1 << 15)) >> 16) : 0x7FFF;
  const int total_shift = 15 - shift;
  const int64_t rounded = x * static_cast<int64_t>(reduced) + (int64_t{1} << (total_shift - 1));
  return static_cast<int32_t>(rounded >> total_shift);
}

// TFLite MultiplyByQuantizedMultiplierSmallerThanOneExp (shift <= 0): the same arithmetic as
// multiply_by_quantized_multiplier with a non-positive shift; kept as its own name because
// ADD/SUB use it and TFLite's reference kernels spell it out.
inline int32_t multiply_by_quantized_multiplier_smaller_than_one(int32_t x, int32_t multiplier,
                                                                 int shift) {
  return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x, multiplier), -shift);
}

// TFLite MultiplyByQuantizedMultiplierGreaterThanOne (shift >= 0).
inline int32_t multiply_by_quantized_multiplier_greater_than_one(int32_t x, int32_t multiplier,
                                                                 int shift) {
  const auto shifted = static_cast<int32_t>(static_cast<uint32_t>(x) << shift);
  return saturating_rounding_doubling_high_mul(shifted, multiplier);
}

// gemmlowp RoundingDivideByPOT for any exponent, as the WebAssembly TFLite computes it where
// TFLite's own arithmetic leaves [0, 31] (quantized DIV of a small numerator): the mask
// (1 << e) - 1 is formed in 64 bits and truncated to 32, and the arithmetic right shift takes
// its count modulo 32 (WebAssembly's i32.shr_s; x86's sar does the same).
inline int32_t rounding_divide_by_pot_any(int32_t x, int exponent) {
  const auto mask = static_cast<int32_t>(
      static_cast<uint32_t>((uint64_t{1} << (static_cast<unsigned>(exponent) & 63u)) - 1));
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> (static_cast<unsigned>(exponent) & 31u)) + (remainder > threshold ? 1 : 0);
}

// TFLite CountLeadingSignBits of an int32 (0 gives 31).
int count_leading_sign_bits(int32_t x);

// TFLite GetReciprocal (x_integer_digits = 31 in quantized DIV): 1/x as a Q0.31 significand of
// gemmlowp's Newton-Raphson one_over_one_plus_x_for_x_in_0_1, and the exponent
// `num_bits_over_unit` (1/x = result * 2^-31 * 2^-num_bits_over_unit). Integer overflow wraps
// as in TFLite's int32 arithmetic; x = 0 (a division by a quantized zero) gives what the
// WebAssembly TFLite gives (the shift by 32 taken modulo 32).
int32_t reciprocal_fixed_point(int32_t x, int x_integer_digits, int* num_bits_over_unit);

// TFLite GetInvSqrtQuantizedMultiplierExp(x, kReverseShift = -1): 1/sqrt(x) for x >= 0 as a
// multiplier and shift for MultiplyByQuantizedMultiplier (x <= 1 gives {INT32_MAX, 0}).
QuantizedMultiplier inv_sqrt_quantized_multiplier(int32_t x);

}  // namespace qdet::rt
