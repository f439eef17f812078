// DEQUANTIZE (float16, per-tensor and per-axis integers) and QUANTIZE from float (rounding
// half away from zero, clamping).
#include <gmock/gmock.h>

#include "graph_builder.h"
#include "tensor/fp16.h"

namespace qdet::rt {
namespace {

using ::testing::ElementsAre;
using testing::GraphBuilder;
using testing::run_graph;
using testing::to_bytes;
using testing::values_of;

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

TEST(Dequantize, PerAxisInt8AndPerTensorUInt8) {
  GraphBuilder b;
  QuantParams q;
  q.scale = {0.5f, 2.0f};
  q.zero_point = {0, 1};
  q.quantized_dimension = 1;
  int32_t x = b.input(DType::kInt8, {2, 2}, q);
  int32_t out = b.tensor(DType::kFloat32, {2, 2});
  b.op(graph::OpKind::kDequantize, {x}, {out});
  int32_t y = b.input(DType::kUInt8, {2}, testing::quant(0.25f, 128));
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
  int32_t out = b.tensor(DType::kInt8, {6}, testing::quant(0.5f, -1));
  b.op(graph::OpKind::kQuantize, {x}, {out});
  int32_t out16 = b.tensor(DType::kInt16, {6}, testing::quant(1.0f, 0));
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
  int32_t out = b.tensor(DType::kUInt8, {3}, testing::quant(0.5f, 10));
  b.op(graph::OpKind::kQuantize, {x}, {out});
  b.output(out);
  // 2.5 -> 3 (+10); 400 + 10 clamps to 255; -20 + 10 clamps to 0.
  auto r = run_graph(b.shared(), {to_bytes(std::vector<float>{1.25f, 200.0f, -10.0f})});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_THAT(values_of<uint8_t>((*r)->output(0)), ElementsAre(13, 255, 0));
}

}  // namespace
}  // namespace qdet::rt
