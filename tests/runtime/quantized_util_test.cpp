// Fixed-point helpers of runtime/quantization_util.h against hand-derived values and against
// an independent 128-bit model of the same rounding rules.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "runtime/quantization_util.h"

namespace qdet::rt {
namespace {

constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax = std::numeric_limits<int32_t>::max();

TEST(QuantizeMultiplier, KnownValues) {
  // 0.5 = 0.5 * 2^0 -> 2^30, shift 0; 1.0 = 0.5 * 2^1; 0.75 = 0.75 * 2^0.
  EXPECT_EQ(quantize_multiplier(0.5), (QuantizedMultiplier{1 << 30, 0}));
  EXPECT_EQ(quantize_multiplier(1.0), (QuantizedMultiplier{1 << 30, 1}));
  EXPECT_EQ(quantize_multiplier(0.75), (QuantizedMultiplier{1610612736, 0}));
  EXPECT_EQ(quantize_multiplier(0.125), (QuantizedMultiplier{1 << 30, -2}));
  EXPECT_EQ(quantize_multiplier(3.0), (QuantizedMultiplier{1610612736, 2}));
  // 1/3 = 0.6666.. * 2^-1: round(0.6666.. * 2^31) = 1431655765.
  EXPECT_EQ(quantize_multiplier(1.0 / 3.0), (QuantizedMultiplier{1431655765, -1}));
  EXPECT_EQ(quantize_multiplier(0.0), (QuantizedMultiplier{0, 0}));
}

TEST(QuantizeMultiplier, SignificandRoundingUpToOneRenormalizes) {
  // q = 1 - 2^-33: q * 2^31 = 2^31 - 1/4 rounds to 2^31 -> halved, shift + 1.
  const double m = 1.0 - std::ldexp(1.0, -33);
  EXPECT_EQ(quantize_multiplier(m), (QuantizedMultiplier{1 << 30, 1}));
}

TEST(QuantizeMultiplier, TinyMultipliersFlushToZero) {
  // frexp(2^-40) = 0.5 * 2^-39: shift -39 < -31 -> {0, 0} like TFLite.
  EXPECT_EQ(quantize_multiplier(std::ldexp(1.0, -40)), (QuantizedMultiplier{0, 0}));
  // 2^-32 = 0.5 * 2^-31 is still representable.
  EXPECT_EQ(quantize_multiplier(std::ldexp(1.0, -32)), (QuantizedMultiplier{1 << 30, -31}));
}

TEST(QuantizeMultiplier, SmallerThanOneRejectsOutOfRange) {
  EXPECT_TRUE(quantize_multiplier_smaller_than_one(0.3, "x").ok());
  EXPECT_EQ(quantize_multiplier_smaller_than_one(1.0, "x").status().code(),
            StatusCode::kUnsupported);
  EXPECT_EQ(quantize_multiplier_smaller_than_one(0.0, "x").status().code(),
            StatusCode::kUnsupported);
  EXPECT_EQ(quantize_multiplier_smaller_than_one(1.0 - 1e-12, "ADD output").status().message(),
            "ADD output: multiplier 0.999999999999 rounds to 1");
}

TEST(QuantizeMultiplier, RelativeErrorBelowTwoToMinus31) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> exponent(-20.0, 6.0);
  for (int i = 0; i < 2000; ++i) {
    const double m = std::exp2(exponent(rng));
    const QuantizedMultiplier q = quantize_multiplier(m);
    ASSERT_GE(q.multiplier, 1 << 30);
    const double back = std::ldexp(static_cast<double>(q.multiplier), q.shift - 31);
    EXPECT_LE(std::abs(back - m) / m, std::ldexp(1.0, -31)) << m;
  }
}

TEST(SaturatingRoundingDoublingHighMul, KnownValues) {
  // 0.5 * 0.5 = 0.25 in Q31.
  EXPECT_EQ(saturating_rounding_doubling_high_mul(1 << 30, 1 << 30), 1 << 29);
  // a * b / 2^31 = 0.5 exactly: rounds up to 1; -0.5 rounds up to 0; -1.5 rounds up to -1.
  EXPECT_EQ(saturating_rounding_doubling_high_mul(1, 1 << 30), 1);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-1, 1 << 30), 0);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-3, 1 << 30), -1);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(3, 1 << 30), 2);
  // The only overflow saturates.
  EXPECT_EQ(saturating_rounding_doubling_high_mul(kMin, kMin), kMax);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(kMin, kMax), -kMax);
}

TEST(RoundingDivideByPot, TiesAwayFromZero) {
  EXPECT_EQ(rounding_divide_by_pot(5, 1), 3);    // 2.5 -> 3
  EXPECT_EQ(rounding_divide_by_pot(-5, 1), -3);  // -2.5 -> -3
  EXPECT_EQ(rounding_divide_by_pot(6, 2), 2);    // 1.5 -> 2
  EXPECT_EQ(rounding_divide_by_pot(-6, 2), -2);  // -1.5 -> -2
  EXPECT_EQ(rounding_divide_by_pot(-7, 2), -2);  // -1.75 -> -2
  EXPECT_EQ(rounding_divide_by_pot(-5, 2), -1);  // -1.25 -> -1
  EXPECT_EQ(rounding_divide_by_pot(12345, 0), 12345);
  EXPECT_EQ(rounding_divide_by_pot(kMax, 31), 1);
  EXPECT_EQ(rounding_divide_by_pot(kMin, 31), -1);
}

// An independent model: exact integer arithmetic in __int128 with floor division.
__int128 floor_div(__int128 a, __int128 b) {
  __int128 q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
int32_t model_srdhm(int32_t a, int32_t b) {
  if (a == kMin && b == kMin) return kMax;
  // floor(a*b / 2^31 + 1/2) = floor((2ab + 2^31) / 2^32)
  return static_cast<int32_t>(floor_div(__int128{2} * a * b + (__int128{1} << 31), __int128{1} << 32));
}
int32_t model_rdbp(int32_t x, int e) {
  if (e == 0) return x;
  // round half away from zero of x / 2^e
  const __int128 d = __int128{1} << e;
  const __int128 ax = x < 0 ? -__int128{x} : __int128{x};
  const __int128 r = (2 * ax + d) / (2 * d);
  return static_cast<int32_t>(x < 0 ? -r : r);
}

TEST(FixedPoint, MatchesIndependentModelOnRandomValues) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<int32_t> any(kMin, kMax);
  std::uniform_int_distribution<int32_t> small(-70000, 70000);
  std::uniform_int_distribution<int> exp(0, 31);
  for (int i = 0; i < 20000; ++i) {
    const int32_t a = i % 2 ? any(rng) : small(rng);
    const int32_t b = any(rng);
    ASSERT_EQ(saturating_rounding_doubling_high_mul(a, b), model_srdhm(a, b)) << a << " " << b;
    const int e = exp(rng);
    ASSERT_EQ(rounding_divide_by_pot(a, e), model_rdbp(a, e)) << a << " " << e;
  }
}

TEST(MultiplyByQuantizedMultiplier, DoubleRoundingAsTflite) {
  // M = 0.125 exactly (2^30, shift -2): 20 * 0.125 = 2.5 -> 3, -20 -> -3 (half away from 0).
  EXPECT_EQ(multiply_by_quantized_multiplier(20, 1 << 30, -2), 3);
  EXPECT_EQ(multiply_by_quantized_multiplier(-20, 1 << 30, -2), -3);
  EXPECT_EQ(multiply_by_quantized_multiplier(-19, 1 << 30, -2), -2);
  // Left shift: M = 2.0 (2^30, shift 2): 7 * 2 = 14.
  EXPECT_EQ(multiply_by_quantized_multiplier(7, 1 << 30, 2), 14);
  // Double rounding differs from one rounding: M = (2^30 + 1) / 2^31 * 2^-1, x = 1:
  // SRDHM(1, 2^30 + 1) = round(0.5000000005) = 1, then 1 / 2 = 0.5 -> 1, although
  // x * M = 0.25000000023 would round to 0 in one step.
  EXPECT_EQ(multiply_by_quantized_multiplier(1, (1 << 30) + 1, -1), 1);
  // Same as the model for random accumulators and multipliers.
  std::mt19937 rng(3);
  std::uniform_int_distribution<int32_t> acc(-(1 << 24), 1 << 24);
  std::uniform_int_distribution<int32_t> mult(1 << 30, kMax);
  std::uniform_int_distribution<int> shift(-31, 0);
  for (int i = 0; i < 5000; ++i) {
    const int32_t x = acc(rng), m = mult(rng);
    const int s = shift(rng);
    ASSERT_EQ(multiply_by_quantized_multiplier(x, m, s), model_rdbp(model_srdhm(x, m), -s));
    ASSERT_EQ(multiply_by_quantized_multiplier_smaller_than_one(x, m, s),
              model_rdbp(model_srdhm(x, m), -s));
  }
}

TEST(MultiplyByQuantizedMultiplier, Int64VariantUsesQ15Multiplier) {
  // M = 0.5 (2^30 -> Q15 2^14), shift 0: (x * 2^14 + 2^14) >> 15 = floor(x/2 + 1/2).
  EXPECT_EQ(multiply_by_quantized_multiplier(int64_t{5}, 1 << 30, 0), 3);
  EXPECT_EQ(multiply_by_quantized_multiplier(int64_t{-5}, 1 << 30, 0), -2);  // -2.5 -> -2 (up)
  EXPECT_EQ(multiply_by_quantized_multiplier(int64_t{1} << 40, 1 << 30, -20), 1 << 19);
  // The Q15 reduction saturates at 0x7FFF for multipliers >= 0x7FFF0000.
  EXPECT_EQ(multiply_by_quantized_multiplier(int64_t{32768}, 0x7FFFFFFF, 0), 32767);
  // Random check against floor((x * m15 + 2^(14-s)) / 2^(15-s)).
  std::mt19937 rng(5);
  std::uniform_int_distribution<int64_t> acc(-(int64_t{1} << 40), int64_t{1} << 40);
  std::uniform_int_distribution<int32_t> mult(1 << 30, kMax);
  std::uniform_int_distribution<int> shift(-31, -10);
  for (int i = 0; i < 5000; ++i) {
    const int64_t x = acc(rng);
    const int32_t m = mult(rng);
    const int s = shift(rng);
    const int32_t m15 = m < 0x7FFF0000 ? (m + (1 << 15)) >> 16 : 0x7FFF;
    const __int128 num = __int128{x} * m15 + (__int128{1} << (14 - s));
    ASSERT_EQ(multiply_by_quantized_multiplier(x, m, s),
              static_cast<int32_t>(floor_div(num, __int128{1} << (15 - s))));
  }
}

TEST(PerChannelMultipliers, ComputedInDoubleFromFloatScales) {
  const std::vector<float> filter = {0.02f, 0.5f};
  auto r = per_channel_multipliers(0.1f, filter, 0.05f, 2);
  ASSERT_TRUE(r.ok()) << r.status().message();
  for (int c = 0; c < 2; ++c) {
    const QuantizedMultiplier q = quantize_multiplier(static_cast<double>(0.1f) *
                                                      static_cast<double>(filter[c]) /
                                                      static_cast<double>(0.05f));
    EXPECT_EQ(r->multiplier[c], q.multiplier);
    EXPECT_EQ(r->shift[c], q.shift);
  }
  // 0.1 * 0.5 / 0.05 = 1 -> shift 1.
  EXPECT_EQ(r->shift[1], 1);
  // Per-tensor weights broadcast to every channel.
  auto one = per_channel_multipliers(0.1f, std::vector<float>{0.02f}, 0.05f, 3);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->multiplier.size(), 3u);
  EXPECT_EQ(one->multiplier[2], r->multiplier[0]);
  // Wrong count.
  EXPECT_EQ(per_channel_multipliers(0.1f, filter, 0.05f, 3).status().message(),
            "filter has 2 scales for 3 output channels");
}

TEST(ActivationRange, QuantizedClamps) {
  using graph::Activation;
  // uint8, scale 0.05, zp 10: RELU6 -> [10, 10 + 120]; RELU -> [10, 255].
  auto r6 = activation_range_quantized(Activation::kRelu6, DType::kUInt8, 0.05f, 10);
  ASSERT_TRUE(r6.ok());
  EXPECT_EQ(r6->min, 10);
  EXPECT_EQ(r6->max, 130);
  auto relu = activation_range_quantized(Activation::kRelu, DType::kUInt8, 0.05f, 10);
  EXPECT_EQ(relu->min, 10);
  EXPECT_EQ(relu->max, 255);
  // int8, scale 0.1, zp -20: RELU_N1_TO_1 -> [-30, -10]; NONE -> full range.
  auto n1 = activation_range_quantized(Activation::kReluN1To1, DType::kInt8, 0.1f, -20);
  EXPECT_EQ(n1->min, -30);
  EXPECT_EQ(n1->max, -10);
  auto none = activation_range_quantized(Activation::kNone, DType::kInt8, 0.1f, -20);
  EXPECT_EQ(none->min, -128);
  EXPECT_EQ(none->max, 127);
  // RELU6 whose 6.0 lies beyond the type: clamp at qmax. zp -128 + 6/0.01 = 472 -> 127.
  auto wide = activation_range_quantized(Activation::kRelu6, DType::kInt8, 0.01f, -128);
  EXPECT_EQ(wide->max, 127);
  auto i16 = activation_range_quantized(Activation::kNone, DType::kInt16, 0.01f, 0);
  EXPECT_EQ(i16->min, -32768);
  EXPECT_EQ(i16->max, 32767);
  EXPECT_EQ(activation_range_quantized(Activation::kTanh, DType::kInt8, 0.1f, 0).status().code(),
            StatusCode::kUnsupported);
}

TEST(QuantizeValue, RoundsHalfAwayAndClamps) {
  EXPECT_EQ(quantize_value(0.25f, 0.5f, 10, 0, 255), 11);   // 0.5 -> 1
  EXPECT_EQ(quantize_value(-0.25f, 0.5f, 10, 0, 255), 9);   // -0.5 -> -1
  EXPECT_EQ(quantize_value(1000.0f, 0.5f, 10, 0, 255), 255);
  EXPECT_EQ(quantize_value(-1e30f, 1e-10f, 0, -128, 127), -128);
  EXPECT_FLOAT_EQ(dequantize_value(130, 0.5f, 128), 1.0f);
}

}  // namespace
}  // namespace qdet::rt
