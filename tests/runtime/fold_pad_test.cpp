// A zero PAD of H and W read only by a float convolution whose kernel can take it (oneDNN's
// CONV_2D, XNNPACK's CONV_2D and DEPTHWISE_CONV_2D) is folded into the convolution's padding at
// plan time (no padded copy): the outputs equal the reference kernels' run of the unfused graph
// (within the float tolerance) and, for XNNPACK, the unfolded XNNPACK run bit for bit; the PAD
// shows as "fused", and a PAD with a second reader, or with a non-zero value, is left alone.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "graph_builder.h"

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
      InterpreterOptions unfolded_options = folded_options;
      unfolded_options.keep_intermediates = true;
      auto unfolded = run_graph(c.graph, {c.input}, unfolded_options);
      ASSERT_TRUE(unfolded.ok()) << unfolded.status().message();
      ASSERT_STRNE((*unfolded)->kernel_name(0), "fused");
      const TensorRef& a = (*folded)->output(0);
      const TensorRef& e = (*unfolded)->output(0);
      ASSERT_EQ(a.shape, e.shape);
      EXPECT_EQ(0, std::memcmp(a.data, e.data, static_cast<size_t>(e.num_elements()) * sizeof(float)));
      expect_near_reference(c, **folded);
    }
  }
}

}  // namespace
}  // namespace qdet::rt::testing
