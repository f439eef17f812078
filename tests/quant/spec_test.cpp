#include "quant/spec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

namespace qdet::quant {
namespace {

TEST(ActivationParams, Int8NudgesRangeToIncludeZero) {
  // [0.5, 2.55] becomes [0, 2.55]: scale 0.01, zero point -128.
  auto p = activation_params({0.5f, 2.55f}, DType::kInt8);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_FLOAT_EQ(p->scale[0], 0.01f);
  EXPECT_EQ(p->zero_point[0], -128);
  // [-1, 1]: scale 2/255; both ends give zero point -0.5 (the max end has the smaller error),
  // rounded half away from zero: -1.
  p = activation_params({-1.f, 1.f}, DType::kInt8);
  ASSERT_TRUE(p.ok());
  EXPECT_FLOAT_EQ(p->scale[0], 2.0f / 255);
  EXPECT_EQ(p->zero_point[0], -1);
  // Negative only: [-2.55, -1] -> [-2.55, 0], zero point at qmax.
  p = activation_params({-2.55f, -1.f}, DType::kInt8);
  ASSERT_TRUE(p.ok());
  EXPECT_FLOAT_EQ(p->scale[0], 0.01f);
  EXPECT_EQ(p->zero_point[0], 127);
}

TEST(ActivationParams, ZeroIsExactlyRepresentable) {
  for (Range r : {Range{-0.37f, 5.1f}, Range{-3.f, 0.2f}, Range{-100.f, 7.f}, Range{0.001f, 9.f}}) {
    auto p = activation_params(r, DType::kInt8);
    ASSERT_TRUE(p.ok());
    EXPECT_GE(p->zero_point[0], -128);
    EXPECT_LE(p->zero_point[0], 127);
    // The quantized range covers the real range within one step.
    const float lo = p->scale[0] * (-128 - p->zero_point[0]);
    const float hi = p->scale[0] * (127 - p->zero_point[0]);
    EXPECT_LE(lo, std::min(r.min, 0.f) + p->scale[0]);
    EXPECT_GE(hi, r.max - p->scale[0]);
  }
}

TEST(ActivationParams, Int16IsSymmetric) {
  auto p = activation_params({-2.f, 5.f}, DType::kInt16);
  ASSERT_TRUE(p.ok());
  EXPECT_FLOAT_EQ(p->scale[0], 5.f / 32767);
  EXPECT_EQ(p->zero_point[0], 0);
}

TEST(ActivationParams, Uint8AndDegenerateAndBad) {
  auto p = activation_params({0.f, 2.55f}, DType::kUInt8);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->zero_point[0], 0);
  EXPECT_FLOAT_EQ(p->scale[0], 0.01f);
  p = activation_params({0.f, 0.f}, DType::kInt8);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->scale[0], 1.f);
  EXPECT_FALSE(activation_params({NAN, 1.f}, DType::kInt8).ok());
  EXPECT_FALSE(activation_params({2.f, 1.f}, DType::kInt8).ok());
  EXPECT_FALSE(activation_params({0.f, 1.f}, DType::kFloat32).ok());
}

TEST(Weights, PerChannelSymmetricOnAxis0) {
  // [2 out channels, 1, 1, 3 in]: channel 0 max|w| = 63.5 (scale 0.5), channel 1 31.75 (0.25);
  // values chosen so that every quotient is exact and the halves show the rounding.
  std::vector<float> w = {63.5f, -31.75f, 0.f, 31.75f, -15.875f, 0.0f};
  auto q = quantize_weights_symmetric(w, {2, 1, 1, 3}, 0);
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(q->params.scale.size(), 2u);
  EXPECT_EQ(q->params.scale[0], 0.5f);
  EXPECT_EQ(q->params.scale[1], 0.25f);
  EXPECT_EQ(q->params.quantized_dimension, 0);
  std::vector<int8_t> v(6);
  std::memcpy(v.data(), q->data.data(), 6);
  EXPECT_EQ(v, (std::vector<int8_t>{127, -64, 0, 127, -64, 0}));  // -63.5 rounds away from zero
}

TEST(Weights, PerChannelOnAxis3AndPerTensor) {
  // Depthwise [1, 1, 2, 2]: channels on the last axis.
  std::vector<float> w = {63.5f, 254.f, -31.75f, -127.f};
  auto q = quantize_weights_symmetric(w, {1, 1, 2, 2}, 3);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->params.scale[0], 0.5f);
  EXPECT_EQ(q->params.scale[1], 2.f);
  EXPECT_EQ(q->params.quantized_dimension, 3);
  std::vector<int8_t> v(4);
  std::memcpy(v.data(), q->data.data(), 4);
  EXPECT_EQ(v, (std::vector<int8_t>{127, 127, -64, -64}));
  auto t = quantize_weights_symmetric(w, {1, 1, 2, 2}, -1);
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->params.scale.size(), 1u);
  EXPECT_EQ(t->params.scale[0], 2.f);
  std::vector<int8_t> vt(4);
  std::memcpy(vt.data(), t->data.data(), 4);
  EXPECT_EQ(vt, (std::vector<int8_t>{32, 127, -16, -64}));
  // All-zero channel: scale 1, values 0; never -128.
  auto z = quantize_weights_symmetric(std::vector<float>{0.f, 0.f, -3.f, 3.f}, {2, 2}, 0);
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(z->params.scale[0], 1.f);
  EXPECT_EQ(static_cast<int8_t>(z->data[2]), -127);
}

TEST(Weights, MseScalesClipAnOutlierForFinerSteps) {
  // Channel 0: 65536 weights spread over +-0.8 and one outlier at 1.0 (clipping it makes every
  // other step finer); channel 1: one weight at 1.0 among tiny ones (clipping never pays).
  constexpr int kN = 65536;
  std::vector<float> w(2 * kN);
  for (int i = 0; i < kN; ++i) w[i] = -0.8f + 1.6f * static_cast<float>((i * 7919) % kN) / kN;
  w[5] = 1.0f;
  for (int i = 0; i < kN; ++i) w[kN + i] = 0.001f * static_cast<float>(i % 7 - 3);
  w[kN + 9] = 1.0f;
  auto plain = quantize_weights_symmetric(w, {2, kN}, 0);
  ASSERT_TRUE(plain.ok());
  auto refined = *plain;
  refine_weight_scales_mse(w, {2, kN}, 0, refined);
  auto error = [&](const QuantizedConstant& q, int c) {
    double e = 0;
    for (int i = 0; i < kN; ++i) {
      const double r = static_cast<int8_t>(q.data[c * kN + i]) * static_cast<double>(q.params.scale[c]);
      e += (r - w[c * kN + i]) * (r - w[c * kN + i]);
    }
    return e;
  };
  EXPECT_LT(refined.params.scale[0], 0.95f * plain->params.scale[0]);
  EXPECT_GE(refined.params.scale[0], 0.7f * plain->params.scale[0]);
  EXPECT_LT(error(refined, 0), 0.8 * error(*plain, 0));
  EXPECT_EQ(refined.params.scale[1], plain->params.scale[1]);
  for (uint8_t b : refined.data) ASSERT_NE(static_cast<int8_t>(b), -128);  // symmetric [-127, 127]
}

TEST(Bias, ScaleIsInputTimesWeightPerChannel) {
  std::vector<float> b = {0.5f, -1.0f};
  std::vector<float> ws = {0.01f, 0.002f};
  auto q = quantize_bias(b, 0.1f, ws, DType::kInt32);
  ASSERT_TRUE(q.ok());
  EXPECT_FLOAT_EQ(q->params.scale[0], 0.001f);
  EXPECT_FLOAT_EQ(q->params.scale[1], 0.0002f);
  EXPECT_EQ(q->params.zero_point, (std::vector<int64_t>{0, 0}));
  std::vector<int32_t> v(2);
  std::memcpy(v.data(), q->data.data(), 8);
  EXPECT_EQ(v, (std::vector<int32_t>{500, -5000}));
  auto q64 = quantize_bias(b, 0.1f, std::vector<float>{0.01f}, DType::kInt64);
  ASSERT_TRUE(q64.ok());
  EXPECT_EQ(q64->data.size(), 16u);
  EXPECT_FALSE(quantize_bias(b, 0.1f, std::vector<float>{1, 2, 3}, DType::kInt32).ok());
}

TEST(OpSpec, FixedOutputsAndRules) {
  const OpQuantSpec* s = op_quant_spec(graph::OpKind::kLogistic);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->output, OutputRule::kFixed);
  EXPECT_FLOAT_EQ(s->fixed_int8.scale[0], 1.f / 256);
  EXPECT_EQ(s->fixed_int8.zero_point[0], -128);
  EXPECT_FLOAT_EQ(op_quant_spec(graph::OpKind::kTanh)->fixed_int8.scale[0], 1.f / 128);
  EXPECT_EQ(op_quant_spec(graph::OpKind::kTanh)->fixed_int8.zero_point[0], 0);
  EXPECT_EQ(op_quant_spec(graph::OpKind::kSoftmax)->fixed_int16.zero_point[0], 0);
  EXPECT_EQ(op_quant_spec(graph::OpKind::kReshape)->output, OutputRule::kSameAsInput);
  EXPECT_EQ(op_quant_spec(graph::OpKind::kMaxPool2d)->output, OutputRule::kSameAsInput);
  EXPECT_EQ(op_quant_spec(graph::OpKind::kConcatenation)->output, OutputRule::kShared);
  EXPECT_EQ(op_quant_spec(graph::OpKind::kDepthwiseConv2d)->weight_axis, 3);
  EXPECT_EQ(op_quant_spec(graph::OpKind::kConv2d)->weight_axis, 0);
  EXPECT_EQ(op_quant_spec(graph::OpKind::kFullyConnected)->bias_input, 2);
  EXPECT_EQ(op_quant_spec(graph::OpKind::kExp), nullptr);
  EXPECT_EQ(op_quant_spec(graph::OpKind::kScatterNd), nullptr);
  EXPECT_EQ(op_quant_spec(graph::OpKind::kDetectionPostProcess), nullptr);
}

}  // namespace
}  // namespace qdet::quant
