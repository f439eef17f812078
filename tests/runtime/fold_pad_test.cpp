// A zero PAD of H and W read only by a float convolution whose kernel can take it (oneDNN's
// CONV_2D, XNNPACK's CONV_2D and DEPTHWISE_CONV_2D) is folded into the convolution's padding at
// plan time (no padded copy): the outputs equal the reference kernels' run of the unfused graph
// (within the float tolerance) and, for XNNPACK, the unfolded XNNPACK run bit for bit; the PAD
// shows as "fused", and a PAD with a second reader, or with a non-zero value, is left alone.
#include <gtest/gtest.h>

#include <optional>

#include <cstring>
#include <random>

#include "graph_builder.h"
#include "runtime/kernel_registry.h"
#include "runtime/kernels/simd/kernels.h"

namespace qdet::rt::testing {
namespace {

std::vector<float> random_values(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1, 1);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

struct PadConv {
  std::shared_ptr<const graph::Graph> graph;
  std::vector<uint8_t> input;
};

// x [1,9,11,5] -> PAD(paddings) -> CONV_2D 3x3 stride 2 VALID, 7 filters -> output (and, when
// `second_reader`, the padded tensor is also a graph output). With `depthwise`, a
// DEPTHWISE_CONV_2D 3x3 stride 2 of multiplier 2 (10 outputs) instead.
PadConv pad_conv(const std::vector<int32_t>& paddings, bool second_reader, bool depthwise = false) {
  GraphBuilder b;
  const int32_t x = b.input(DType::kFloat32, {1, 9, 11, 5});
  const int32_t p = b.constant(DType::kInt32, {4, 2}, paddings);
  const int32_t padded = b.tensor(DType::kFloat32, {1, 9 + paddings[2] + paddings[3], 11 + paddings[4] + paddings[5], 5});
  b.op(graph::OpKind::kPad, {x, p}, {padded});
  const int32_t outputs = depthwise ? 10 : 7;
  const Shape filter = depthwise ? Shape{1, 3, 3, 10} : Shape{7, 3, 3, 5};
  const int32_t w = b.constant(DType::kFloat32, filter, random_values(outputs * 3 * 3 * (depthwise ? 1 : 5), 2));
  const int32_t bias = b.constant(DType::kFloat32, {outputs}, random_values(outputs, 3));
  const int32_t oh = (9 + paddings[2] + paddings[3] - 3) / 2 + 1, ow = (11 + paddings[4] + paddings[5] - 3) / 2 + 1;
  const int32_t y = b.tensor(DType::kFloat32, {1, oh, ow, outputs});
  graph::OpAttrs conv;
  conv.padding = graph::Padding::kValid;
  conv.stride_h = conv.stride_w = 2;
  conv.depth_multiplier = depthwise ? 2 : 1;
  b.op(depthwise ? graph::OpKind::kDepthwiseConv2d : graph::OpKind::kConv2d, {padded, w, bias}, {y}, conv);
  b.output(y);
  if (second_reader) b.output(padded);
  return {b.shared(), to_bytes(random_values(9 * 11 * 5, 1))};
}

void expect_near_reference(const PadConv& c, const Interpreter& fast) {
  auto ref = run_graph(c.graph, {c.input});
  ASSERT_TRUE(ref.ok()) << ref.status().message();
  const TensorRef& a = fast.output(0);
  const TensorRef& e = (*ref)->output(0);
  ASSERT_EQ(a.shape, e.shape);
  for (int64_t i = 0; i < e.num_elements(); ++i)
    ASSERT_NEAR(a.as<const float>()[i], e.as<const float>()[i], 1e-5f) << i;
}

TEST(OnednnFoldPad, ZeroPadBecomesTheConvolutionsPadding) {
  const PadConv c = pad_conv({0, 0, 1, 2, 2, 1, 0, 0}, /*second_reader=*/false);
  auto fast = run_graph(c.graph, {c.input}, InterpreterOptions{});
  ASSERT_TRUE(fast.ok()) << fast.status().message();
  if (std::string((*fast)->kernel_name(1)) != "onednn")
    GTEST_SKIP() << "the convolution runs on " << (*fast)->kernel_name(1) << " here (QDET_ONEDNN=0?)";
  EXPECT_STREQ((*fast)->kernel_name(0), "fused");
  expect_near_reference(c, **fast);
}

TEST(OnednnFoldPad, PadWithAnotherReaderOrNonSpatialPaddingStays) {
  for (const auto& [paddings, second] :
       {std::pair{std::vector<int32_t>{0, 0, 1, 1, 1, 1, 0, 0}, true},
        std::pair{std::vector<int32_t>{0, 0, 1, 1, 1, 1, 0, 1}, false}}) {
    const PadConv c = pad_conv(paddings, second);
    auto fast = run_graph(c.graph, {c.input}, InterpreterOptions{});
    if (!fast.ok()) {  // a channel pad changes the convolution's input channels: not a valid graph
      EXPECT_NE(paddings[7], 0) << fast.status().message();
      continue;
    }
    EXPECT_STRNE((*fast)->kernel_name(0), "fused");
    expect_near_reference(c, **fast);
  }
}

// `folded` (an exact-float plan's run of c) against the same plan with keep_intermediates, which
// folds nothing: output 0 has the same bits.
void expect_unfolded_bits(const PadConv& c, const Interpreter& folded) {
  InterpreterOptions options;
  options.exact_float = true;
  options.keep_intermediates = true;
  auto unfolded = run_graph(c.graph, {c.input}, options);
  ASSERT_TRUE(unfolded.ok()) << unfolded.status().message();
  ASSERT_STRNE((*unfolded)->kernel_name(0), "fused");
  const TensorRef& a = folded.output(0);
  const TensorRef& e = (*unfolded)->output(0);
  ASSERT_EQ(a.shape, e.shape);
  EXPECT_EQ(0, std::memcmp(a.data, e.data, static_cast<size_t>(e.num_elements()) * sizeof(float)));
}

// exact_float keeps the float convolutions on XNNPACK (oneDNN declines them), and the PAD still
// folds there: XNNPACK reads its padding as zeros through the same indirection, so the folded run
// gives the unfolded XNNPACK run's bits (keep_intermediates turns folding off).
TEST(XnnpackFoldPad, ZeroPadGivesTheUnfoldedBits) {
  for (const bool depthwise : {false, true}) {
    for (const auto& paddings : {std::vector<int32_t>{0, 0, 1, 2, 2, 1, 0, 0}, std::vector<int32_t>{0, 0, 0, 1, 0, 1, 0, 0},
                                 std::vector<int32_t>{0, 0, 3, 0, 1, 4, 0, 0}}) {
      SCOPED_TRACE(::testing::Message() << (depthwise ? "depthwise" : "conv") << " pad " << paddings[2] << ","
                                        << paddings[3] << "," << paddings[4] << "," << paddings[5]);
      const PadConv c = pad_conv(paddings, /*second_reader=*/false, depthwise);
      InterpreterOptions folded_options;
      folded_options.exact_float = true;
      auto folded = run_graph(c.graph, {c.input}, folded_options);
      ASSERT_TRUE(folded.ok()) << folded.status().message();
      ASSERT_STREQ((*folded)->kernel_name(1), "xnnpack");
      EXPECT_STREQ((*folded)->kernel_name(0), "fused");
      expect_unfolded_bits(c, **folded);
      expect_near_reference(c, **folded);
    }
  }
}

// int8 / uint8: x -> PAD (the zero point; PADV2 with `pad_value`) -> CONV_2D or
// DEPTHWISE_CONV_2D 3x3 stride 2 VALID -> y. int8 has per-channel weights (zero point 0),
// uint8 per-tensor weights with a zero point, as TFLite's quantization spec has them.
PadConv quantized_pad_conv(DType t, const std::vector<int32_t>& paddings, bool depthwise, int32_t pad_value,
                           int32_t depth_multiplier = 2) {
  GraphBuilder b;
  const bool s8 = t == DType::kInt8;
  const QuantParams qx = per_tensor(0.05f, s8 ? -3 : 121);
  const int32_t x = b.input(t, {1, 9, 11, 6}, qx);
  const int32_t p = b.constant(DType::kInt32, {4, 2}, paddings);
  const int32_t padded = b.tensor(t, {1, 9 + paddings[2] + paddings[3], 11 + paddings[4] + paddings[5], 6}, qx);
  const bool v2 = pad_value != qx.zero_point[0];
  if (v2) {
    const int32_t value = s8 ? b.constant(t, {1}, std::vector<int8_t>{static_cast<int8_t>(pad_value)}, qx)
                             : b.constant(t, {1}, std::vector<uint8_t>{static_cast<uint8_t>(pad_value)}, qx);
    b.op(graph::OpKind::kPadV2, {x, p, value}, {padded});
  } else {
    b.op(graph::OpKind::kPad, {x, p}, {padded});
  }
  const int32_t outputs = depthwise ? 6 * depth_multiplier : 7, taps = depthwise ? 9 : 9 * 6;
  std::mt19937 rng(4);
  std::vector<uint8_t> w(static_cast<size_t>(outputs * taps));
  for (auto& v : w) v = static_cast<uint8_t>(s8 ? rng() % 255 + 1 : rng());  // int8: -127..127
  QuantParams qw;
  if (s8) {
    for (int32_t c = 0; c < outputs; ++c) qw.scale.push_back(0.002f + 0.0005f * c), qw.zero_point.push_back(0);
    qw.quantized_dimension = depthwise ? 3 : 0;
  } else {
    qw = per_tensor(0.003f, 131);
  }
  const int32_t wid = b.constant(t, depthwise ? Shape{1, 3, 3, outputs} : Shape{outputs, 3, 3, 6}, w, qw);
  std::vector<int32_t> bias(static_cast<size_t>(outputs));
  for (auto& v : bias) v = static_cast<int32_t>(rng() % 2001) - 1000;
  QuantParams qb;
  for (int32_t c = 0; c < outputs; ++c)
    qb.scale.push_back(qx.scale[0] * qw.scale[s8 ? c : 0]), qb.zero_point.push_back(0);
  const int32_t bid = b.constant(DType::kInt32, {outputs}, bias, qb);
  const int32_t oh = (9 + paddings[2] + paddings[3] - 3) / 2 + 1, ow = (11 + paddings[4] + paddings[5] - 3) / 2 + 1;
  const int32_t y = b.tensor(t, {1, oh, ow, outputs}, per_tensor(0.04f, s8 ? 5 : 117));
  graph::OpAttrs conv;
  conv.padding = graph::Padding::kValid;
  conv.stride_h = conv.stride_w = 2;
  conv.depth_multiplier = depthwise ? depth_multiplier : 1;
  b.op(depthwise ? graph::OpKind::kDepthwiseConv2d : graph::OpKind::kConv2d, {padded, wid, bid}, {y}, conv);
  b.output(y);
  std::vector<uint8_t> input(9 * 11 * 6);
  for (auto& v : input) v = static_cast<uint8_t>(rng());
  return {b.shared(), input};
}

// A PAD of the zero point folds into oneDNN's, XNNPACK's and qdet's SIMD (depthwise) int8/uint8
// convolutions (all pad with the source zero point): the folded run gives the unfolded run's bytes, and stays within
// one step of the reference kernels (XNNPACK's fp32 requantization against TFLite's fixed point).
TEST(QuantizedFoldPad, ZeroPointPadGivesTheUnfoldedBytes) {
  int folded_runs = 0, simd_runs = 0;
  for (const DType t : {DType::kInt8, DType::kUInt8}) {
    for (const bool depthwise : {false, true}) {
      for (const KernelImpl family : {KernelImpl::kOnednn, KernelImpl::kSimd, KernelImpl::kXnnpack}) {
        for (const auto& paddings : {std::vector<int32_t>{0, 0, 1, 2, 2, 1, 0, 0}, std::vector<int32_t>{0, 0, 0, 1, 0, 1, 0, 0}})
        for (const int32_t multiplier : {1, 2}) {
          if (!depthwise && multiplier != 1) continue;
          SCOPED_TRACE(::testing::Message() << dtype_name(t) << (depthwise ? " depthwise " : " conv ")
                                            << kernel_impl_name(family) << " pad " << paddings[2] << "," << paddings[3]
                                            << "," << paddings[4] << "," << paddings[5] << " multiplier " << multiplier);
          const PadConv c = quantized_pad_conv(t, paddings, depthwise, t == DType::kInt8 ? -3 : 121, multiplier);
          // qdet's SIMD family has no PAD kernel: with every family, it comes first for the depthwise.
          std::optional<OnlyFamily> only;
          if (family != KernelImpl::kSimd) only.emplace(family);
          auto folded = run_graph(c.graph, {c.input}, InterpreterOptions{});
          if (!folded.ok()) continue;  // the family does not take this convolution here
          if (std::string((*folded)->kernel_name(1)) != kernel_impl_name(family)) continue;
          EXPECT_STREQ((*folded)->kernel_name(0), "fused");
          ++folded_runs;
          simd_runs += family == KernelImpl::kSimd;
          auto unfolded = run_graph(c.graph, {c.input}, InterpreterOptions{.keep_intermediates = true});
          ASSERT_TRUE(unfolded.ok()) << unfolded.status().message();
          ASSERT_STRNE((*unfolded)->kernel_name(0), "fused");
          EXPECT_EQ(values_of<uint8_t>((*folded)->output(0)), values_of<uint8_t>((*unfolded)->output(0)));
          auto reference = run_graph(c.graph, {c.input});
          ASSERT_TRUE(reference.ok()) << reference.status().message();
          const auto a = values_of<uint8_t>((*folded)->output(0)), e = values_of<uint8_t>((*reference)->output(0));
          for (size_t i = 0; i < e.size(); ++i) {
            const int av = t == DType::kInt8 ? static_cast<int8_t>(a[i]) : a[i];
            const int ev = t == DType::kInt8 ? static_cast<int8_t>(e[i]) : e[i];
            ASSERT_LE(std::abs(av - ev), 1) << i;
          }
        }
      }
    }
  }
  EXPECT_GE(folded_runs, 12);  // XNNPACK's six cases at least, with both paddings
  if (simd::has_avx512_vnni()) EXPECT_EQ(simd_runs, 4);  // depth multiplier 1, int8 and uint8
}

// int8 x -> PAD (the zero point) -> DEQUANTIZE -> float CONV_2D or DEPTHWISE_CONV_2D 3x3 stride 2
// VALID -> y (the float regions of qdet's int8 files): the DEQUANTIZE reads the unpadded tensor
// and the padding, whose zero point dequantizes to +0.0, folds into the float convolution, with
// the unfolded run's bits (exact-float plans: XNNPACK). When the dequantized tensor is also a
// graph output, nothing folds.
PadConv pad_dequantize_conv(bool depthwise, bool second_reader) {
  GraphBuilder b;
  const QuantParams qx = per_tensor(0.05f, -3);
  const int32_t x = b.input(DType::kInt8, {1, 9, 11, 6}, qx);
  const int32_t p = b.constant(DType::kInt32, {4, 2}, std::vector<int32_t>{0, 0, 1, 2, 2, 1, 0, 0});
  const int32_t padded = b.tensor(DType::kInt8, {1, 12, 14, 6}, qx);
  b.op(graph::OpKind::kPad, {x, p}, {padded});
  const int32_t floats = b.tensor(DType::kFloat32, {1, 12, 14, 6});
  b.op(graph::OpKind::kDequantize, {padded}, {floats});
  const int32_t outputs = depthwise ? 6 : 7;
  const Shape filter = depthwise ? Shape{1, 3, 3, 6} : Shape{7, 3, 3, 6};
  const int32_t w = b.constant(DType::kFloat32, filter, random_values(outputs * 9 * (depthwise ? 1 : 6), 2));
  const int32_t bias = b.constant(DType::kFloat32, {outputs}, random_values(outputs, 3));
  const int32_t y = b.tensor(DType::kFloat32, {1, 5, 6, outputs});
  graph::OpAttrs conv;
  conv.padding = graph::Padding::kValid;
  conv.stride_h = conv.stride_w = 2;
  conv.depth_multiplier = 1;
  b.op(depthwise ? graph::OpKind::kDepthwiseConv2d : graph::OpKind::kConv2d, {floats, w, bias}, {y}, conv);
  b.output(y);
  if (second_reader) b.output(floats);
  std::mt19937 rng(5);
  std::vector<uint8_t> input(9 * 11 * 6);
  for (auto& v : input) v = static_cast<uint8_t>(rng());
  return {b.shared(), input};
}

TEST(QuantizedFoldPad, ZeroPointPadFoldsThroughDequantizeIntoFloatConvolution) {
  for (const bool depthwise : {false, true}) {
    for (const bool second_reader : {false, true}) {
      SCOPED_TRACE(::testing::Message() << (depthwise ? "depthwise" : "conv") << (second_reader ? ", second reader" : ""));
      const PadConv c = pad_dequantize_conv(depthwise, second_reader);
      InterpreterOptions options;
      options.exact_float = true;
      auto folded = run_graph(c.graph, {c.input}, options);
      ASSERT_TRUE(folded.ok()) << folded.status().message();
      // The convolution keeps XNNPACK's bytes: qdet's float convolution (AVX-512) or XNNPACK's.
      const std::string conv_kernel = (*folded)->kernel_name(2);
      EXPECT_TRUE(conv_kernel == (depthwise || !__builtin_cpu_supports("avx512f") ? "xnnpack" : "simd")) << conv_kernel;
      EXPECT_EQ(std::string((*folded)->kernel_name(0)) == "fused", !second_reader);
      expect_unfolded_bits(c, **folded);
    }
  }
}

// A PADV2 whose value is not the zero point pads with a real non-zero value: it stays.
TEST(QuantizedFoldPad, OtherPadValueStays) {
  const PadConv c = quantized_pad_conv(DType::kInt8, {0, 0, 1, 1, 1, 1, 0, 0}, /*depthwise=*/true, 7);
  auto fast = run_graph(c.graph, {c.input}, InterpreterOptions{});
  ASSERT_TRUE(fast.ok()) << fast.status().message();
  EXPECT_STRNE((*fast)->kernel_name(0), "fused");
  auto reference = run_graph(c.graph, {c.input});
  ASSERT_TRUE(reference.ok());
  const auto a = values_of<int8_t>((*fast)->output(0)), e = values_of<int8_t>((*reference)->output(0));
  for (size_t i = 0; i < e.size(); ++i) ASSERT_LE(std::abs(a[i] - e[i]), 1) << i;
}

}  // namespace
}  // namespace qdet::rt::testing
