// The 16x8 reference kernels that are specific to int16 (LOGISTIC), and the int16 paths of the
// shared quantized kernels exercised as a 16x8 model uses them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "kernel_test_support.h"

namespace qdet::rt {
namespace {

using testing::KernelHarness;
using testing::per_tensor;

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

std::vector<int16_t> logistic16(const std::vector<int16_t>& in, float in_scale) {
  KernelHarness h(graph::OpKind::kLogistic);
  h.add_input<int16_t>({static_cast<int32_t>(in.size())}, in, per_tensor(in_scale, 0));
  h.add_output(DType::kInt16, per_tensor(1.0f / 32768, 0));
  h.run();
  return h.output<int16_t>();
}

TEST(QuantizedLogisticInt16, ByHand) {
  // Scale 1/4000 (not a power of two): multiplier 3 * 4096 / 4000 = 3.072, doubled 13 times to
  // 25165.8 -> 25165, shift 13. q = 4000: x = (4000 * 25165 + 4096) >> 13 = 12288 -> uh 24,
  // ut 0 -> table[24] = 47911 (sigmoid(1) = 0.73106 in 0.16) -> (47911 << 9) + 512 >> 10 =
  // 23956 (0.73108 in Q15). Negative inputs mirror: 32768 - 23956 = 8812.
  const auto out = logistic16({0, 4000, -4000, 32767, -32768, 1, -1}, 1.0f / 4000);
  EXPECT_EQ(out, (std::vector<int16_t>{16384, 23956, 8812, 32759, 9, 16386, 16382}));
}

TEST(QuantizedLogisticInt16, EveryInputWithinTwoStepsOfDouble) {
  for (float s : {1.0f / 4000, 3e-4f, 1.7e-3f, 5e-5f}) {
    std::vector<int16_t> all;
    for (int32_t v = -32768; v <= 32767; v += 7) all.push_back(static_cast<int16_t>(v));
    const auto out = logistic16(all, s);
    for (size_t i = 0; i < all.size(); ++i) {
      const double expect = std::min(32767.0, std::round(sigmoid(double{s} * all[i]) * 32768.0));
      ASSERT_LE(std::abs(out[i] - expect), 3.0) << "scale " << s << " q " << all[i];
    }
  }
}

TEST(QuantizedLogisticInt16, Symmetric) {
  // sigmoid(-x) = 1 - sigmoid(x): the kernel's negative branch mirrors the positive one.
  std::mt19937 rng(7);
  const auto in = testing::random_values<int16_t>(rng, 2000, -32767, 32767);
  std::vector<int16_t> neg(in.size());
  for (size_t i = 0; i < in.size(); ++i) neg[i] = static_cast<int16_t>(-in[i]);
  const auto a = logistic16(in, 2.5e-4f), b = logistic16(neg, 2.5e-4f);
  for (size_t i = 0; i < in.size(); ++i) ASSERT_LE(std::abs(a[i] + b[i] - 32768), 1) << in[i];
}

TEST(QuantizedLogisticInt16, RejectsWrongOutputParams) {
  KernelHarness h(graph::OpKind::kLogistic);
  h.add_input<int16_t>({1}, {0}, per_tensor(1e-3f, 0));
  h.add_output(DType::kInt16, per_tensor(1.0f / 32767, 0));
  Status s = h.prepare();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.message();
  KernelHarness z(graph::OpKind::kLogistic);
  z.add_input<int16_t>({1}, {0}, per_tensor(1e-3f, 3));
  z.add_output(DType::kInt16, per_tensor(1.0f / 32768, 0));
  s = z.prepare();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.message();
}

}  // namespace
}  // namespace qdet::rt

namespace qdet::rt {
namespace {

// QUANTIZE float32 -> int16: TFLite's builtin kernel (optimized AffineQuantize<int16_t>) divides
// by the scale in double. 200.12291 / 0.00778219 is 25715.4999... in double, but the float
// quotient rounds up to 25715.5 and then away from zero to 25716.
TEST(QuantizeToInt16, DividesInDoubleAsTflite) {
  testing::KernelHarness h(graph::OpKind::kQuantize);
  const float x = 0x1.903eeep+7f;  // 200.12291
  h.add_input<float>({3}, {x, -x, 0.0f});
  h.add_output(DType::kInt16, testing::per_tensor(0.00778219f, 0));
  KernelRegistry registry;
  register_reference_kernels(registry);
  ASSERT_TRUE(h.prepare(&registry).ok());
  ASSERT_TRUE(h.eval().ok());
  EXPECT_EQ(h.output<int16_t>(), (std::vector<int16_t>{25715, -25715, 0}));
}

// The int16 loop rounds without calling std::round (so that it vectorizes): the same values as
// round(double(x) / scale) + clamp for ties on both sides of zero, values past the int16 range,
// infinities and NaN (0, the zero point's value), over runs long enough for the vector loop.
TEST(QuantizeToInt16, RoundsHalfAwayFromZeroLikeStdRound) {
  const float scale = 0.25f;
  std::vector<float> in;
  for (int k = -600; k <= 600; ++k) in.push_back(static_cast<float>(k) * 0.125f);  // ties every other value
  for (float v : {1e30f, -1e30f, 8191.875f, -8192.125f, 0.1249999f, -0.1249999f, 0.125f, -0.125f})
    in.push_back(v);
  in.push_back(std::numeric_limits<float>::infinity());
  in.push_back(-std::numeric_limits<float>::infinity());
  in.push_back(std::numeric_limits<float>::quiet_NaN());
  for (int zp : {0, 7}) {
    testing::KernelHarness h(graph::OpKind::kQuantize);
    h.add_input<float>({static_cast<int32_t>(in.size())}, in);
    h.add_output(DType::kInt16, testing::per_tensor(scale, zp));
    KernelRegistry registry;
    register_reference_kernels(registry);
    ASSERT_TRUE(h.prepare(&registry).ok());
    ASSERT_TRUE(h.eval().ok());
    std::vector<int16_t> want;
    for (float x : in) {
      double r = std::round(static_cast<double>(x) / scale);
      if (std::isnan(r)) r = 0;
      want.push_back(static_cast<int16_t>(std::clamp(r + zp, -32768.0, 32767.0)));
    }
    EXPECT_EQ(h.output<int16_t>(), want) << "zero point " << zp;
  }
}

}  // namespace
}  // namespace qdet::rt
