// DEQUANTIZE (float16, per-tensor and per-axis integers) and QUANTIZE from float (rounding
// half away from zero, clamping).
#include <gmock/gmock.h>

#include "graph_builder.h"
#include "tensor/fp16.h"

namespace qdet::rt {
namespace {

using ::testing::ElementsAre;
using namespace testing;  // graph_builder.h: GraphBuilder, run_graph, to_bytes, values_of, per_tensor, F32

TEST(Dequantize, Float16Constant) {
  GraphBuilder b;
  std::vector<uint16_t> h = {fp32_to_fp16(1.5f), fp32_to_fp16(-2.0f), fp32_to_fp16(65504.0f)};
  int32_t w = b.constant(DType::kFloat16, {3}, h);
  int32_t out = b.tensor(DType::kFloat32, {3});
  b.op(graph::OpKind::kDequantize, {w}, {out});
  b.output(out);
  auto r = run_graph(b.shared(), {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_THAT(values_of<float>((*r)->output(0)), ElementsAre(1.5f, -2.0f, 65504.0f));
}

// DEQUANTIZE of a constant is computed once at plan time ("folded"): the convolution reading
// it sees constant float weights (so the XNNPACK kernel can pack them) and the result equals
// the unfolded reference computation. DEQUANTIZE of a graph input is not folded.
TEST(Dequantize, ConstantInputIsFoldedAtPlanTime) {
  GraphBuilder b;
  std::vector<uint16_t> w16;
  for (int i = 0; i < 8 * 3 * 3 * 4; ++i) w16.push_back(fp32_to_fp16(0.01f * float(i % 17) - 0.08f));
  int32_t w = b.constant(DType::kFloat16, {8, 3, 3, 4}, w16);
  int32_t wf = b.tensor(DType::kFloat32, {8, 3, 3, 4});
  b.op(graph::OpKind::kDequantize, {w}, {wf});
  int32_t x = b.input(DType::kFloat32, {1, 5, 5, 4});
  int32_t y = b.tensor(DType::kFloat32, {1, 5, 5, 8});
  graph::OpAttrs conv;
  conv.padding = graph::Padding::kSame;
  b.op(graph::OpKind::kConv2d, {x, wf}, {y}, conv);
  int32_t q = b.input(DType::kInt8, {2}, testing::per_tensor(0.5f, 0));
  int32_t qf = b.tensor(DType::kFloat32, {2});
  b.op(graph::OpKind::kDequantize, {q}, {qf});
  b.output(y);
  b.output(qf);
  std::vector<float> pixels(100);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = float(i % 7) - 3.0f;
  const auto in0 = to_bytes(pixels);
  const auto in1 = to_bytes(std::vector<int8_t>{3, -4});
  auto fast = run_graph(b.shared(), {in0, in1}, InterpreterOptions{});
  ASSERT_TRUE(fast.ok()) << fast.status().message();
  EXPECT_STREQ((*fast)->kernel_name(0), "folded");
  // The convolution sees constant weights, which a fast family packs (oneDNN's JIT or XNNPACK).
  const std::string conv_kernel = (*fast)->kernel_name(1);
  EXPECT_TRUE(conv_kernel == "onednn" || conv_kernel == "xnnpack") << conv_kernel;
  EXPECT_STREQ((*fast)->kernel_name(2), "reference");  // input, not constant
  EXPECT_TRUE((*fast)->tensor(wf).is_constant);
  EXPECT_THAT(values_of<float>((*fast)->output(1)), ElementsAre(1.5f, -2.0f));
  auto ref = run_graph(b.shared(), {in0, in1});
  ASSERT_TRUE(ref.ok()) << ref.status().message();
  EXPECT_STREQ((*ref)->kernel_name(1), "reference");
  const auto a = values_of<float>((*fast)->output(0)), e = values_of<float>((*ref)->output(0));
  ASSERT_EQ(a.size(), e.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], e[i], 1e-5f) << i;
  // Invoking again reads the folded weights again (they are not in the reused arena).
  ASSERT_TRUE((*fast)->invoke().ok());
  EXPECT_EQ(values_of<float>((*fast)->output(0)), a);
}

TEST(Dequantize, PerAxisInt8AndPerTensorUInt8) {
  GraphBuilder b;
  QuantParams q;
  q.scale = {0.5f, 2.0f};
  q.zero_point = {0, 1};
  q.quantized_dimension = 1;
  int32_t x = b.input(DType::kInt8, {2, 2}, q);
  int32_t out = b.tensor(DType::kFloat32, {2, 2});
  b.op(graph::OpKind::kDequantize, {x}, {out});
  int32_t y = b.input(DType::kUInt8, {2}, testing::per_tensor(0.25f, 128));
  int32_t out2 = b.tensor(DType::kFloat32, {2});
  b.op(graph::OpKind::kDequantize, {y}, {out2});
  b.output(out);
  b.output(out2);
  auto r = run_graph(b.shared(), {to_bytes(std::vector<int8_t>{4, 4, -128, 127}),
                                  to_bytes(std::vector<uint8_t>{0, 255})});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_THAT(values_of<float>((*r)->output(0)), ElementsAre(2, 6, -64, 252));
  EXPECT_THAT(values_of<float>((*r)->output(1)), ElementsAre(-32, 31.75f));
}

TEST(Quantize, RoundsHalfAwayFromZeroAndClamps) {
  GraphBuilder b;
  int32_t x = b.input(DType::kFloat32, {6});
  int32_t out = b.tensor(DType::kInt8, {6}, testing::per_tensor(0.5f, -1));
  b.op(graph::OpKind::kQuantize, {x}, {out});
  int32_t out16 = b.tensor(DType::kInt16, {6}, testing::per_tensor(1.0f, 0));
  b.op(graph::OpKind::kQuantize, {x}, {out16});
  b.output(out);
  b.output(out16);
  // x / 0.5: 2.5 -> 3, -2.5 -> -3, 0.5 -> 1 (half away from zero), 1000 and -1000 clamp.
  auto r = run_graph(b.shared(), {to_bytes(std::vector<float>{1.25f, -1.25f, 0.25f, 1000, -1000, 0})});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_THAT(values_of<int8_t>((*r)->output(0)), ElementsAre(2, -4, 0, 127, -128, -1));
  EXPECT_THAT(values_of<int16_t>((*r)->output(1)), ElementsAre(1, -1, 0, 1000, -1000, 0));
}

TEST(Quantize, UInt8Output) {
  GraphBuilder b;
  int32_t x = b.input(DType::kFloat32, {3});
  int32_t out = b.tensor(DType::kUInt8, {3}, testing::per_tensor(0.5f, 10));
  b.op(graph::OpKind::kQuantize, {x}, {out});
  b.output(out);
  // 2.5 -> 3 (+10); 400 + 10 clamps to 255; -20 + 10 clamps to 0.
  auto r = run_graph(b.shared(), {to_bytes(std::vector<float>{1.25f, 200.0f, -10.0f})});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_THAT(values_of<uint8_t>((*r)->output(0)), ElementsAre(13, 255, 0));
}

}  // namespace
}  // namespace qdet::rt
