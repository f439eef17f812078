// float, fp16 and dynamic modes on small hand-built graphs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "quant/graph_edit.h"
#include "quant/modes.h"
#include "graph_builder.h"
#include "tensor/fp16.h"

namespace qdet::quant {
namespace {

using graph::OpKind;
using testing::count_ops;
using testing::find_op;
using testing::GraphBuilder;

std::vector<float> values_of(const graph::Tensor& t) {
  auto v = constant_values(t);
  EXPECT_TRUE(v.ok()) << v.status().message();
  return v.ok() ? *v : std::vector<float>{};
}

// A uint8 model as old converters write them: uint8 input -> QUANTIZE to int8 -> CONV_2D with
// int8 per-channel weights and int32 bias -> DEQUANTIZE -> float output.
graph::Model quantized_model() {
  GraphBuilder b;
  auto& g = b.model().graph;
  const int32_t in = b.input("image", {1, 1, 1, 2});
  g.tensors[in].dtype = DType::kUInt8;
  g.tensors[in].quant.scale = {0.5f};
  g.tensors[in].quant.zero_point = {128};
  const int32_t q = b.activation("image_int8", {1, 1, 1, 2}, DType::kInt8);
  g.tensors[q].quant.scale = {0.5f};
  g.tensors[q].quant.zero_point = {0};
  graph::Tensor w;
  w.name = "w";
  w.dtype = DType::kInt8;
  w.shape = {2, 1, 1, 2};
  w.data = {10, static_cast<uint8_t>(-20), 30, 40};
  w.quant.scale = {0.1f, 0.01f};
  w.quant.zero_point = {0, 0};
  const int32_t wid = g.add_tensor(w);
  graph::Tensor bias;
  bias.name = "b";
  bias.dtype = DType::kInt32;
  bias.shape = {2};
  bias.data.resize(8);
  const int32_t bv[2] = {100, -100};
  std::memcpy(bias.data.data(), bv, 8);
  bias.quant.scale = {0.05f, 0.005f};
  bias.quant.zero_point = {0, 0};
  const int32_t bid = g.add_tensor(bias);
  const int32_t c = b.activation("c", {1, 1, 1, 2}, DType::kInt8);
  g.tensors[c].quant.scale = {0.25f};
  g.tensors[c].quant.zero_point = {-3};
  const int32_t out = b.activation("out", {1, 1, 1, 2});
  b.op(OpKind::kQuantize, {in}, {q});
  b.op(OpKind::kConv2d, {q, wid, bid}, {c}).version = 3;
  b.op(OpKind::kDequantize, {c}, {out});
  b.output(out);
  return b.model();
}

TEST(FloatMode, DequantizesWeightsAndActivationsKeepsIntegerInput) {
  Notes notes;
  auto r = dequantize_model(quantized_model(), {}, &notes);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const auto& g = r->graph;
  ASSERT_EQ(g.ops.size(), 2u);
  EXPECT_EQ(g.ops[0].kind, OpKind::kDequantize);  // the kept uint8 input
  EXPECT_EQ(g.tensors[g.inputs[0]].dtype, DType::kUInt8);
  EXPECT_EQ(g.tensors[g.ops[0].outputs[0]].dtype, DType::kFloat32);
  const auto& conv = g.ops[1];
  EXPECT_EQ(conv.kind, OpKind::kConv2d);
  EXPECT_EQ(conv.inputs[0], g.ops[0].outputs[0]);
  const auto& w = g.tensors[conv.inputs[1]];
  EXPECT_EQ(w.dtype, DType::kFloat32);
  EXPECT_TRUE(w.quant.empty());
  EXPECT_THAT(values_of(w), ::testing::Pointwise(::testing::FloatEq(), std::vector<float>{1.f, -2.f, 0.3f, 0.4f}));
  EXPECT_THAT(values_of(g.tensors[conv.inputs[2]]), ::testing::Pointwise(::testing::FloatEq(), std::vector<float>{5.f, -0.5f}));
  // The output keeps its name and is the conv's float output now.
  EXPECT_EQ(g.outputs[0], conv.outputs[0]);
  EXPECT_EQ(g.tensors[g.outputs[0]].name, "out");
  EXPECT_EQ(g.tensors[g.outputs[0]].dtype, DType::kFloat32);
}

// TOCO's uint8 "Relu6" convolutions have no fused activation: their [0, 6] output range clamps.
TEST(FloatMode, AnOutputRangeStartingAtZeroBecomesTheFusedActivation) {
  struct Case {
    float scale;
    int64_t zero_point;
    graph::Activation expected;
  };
  for (const Case& c : {Case{6.f / 255.f, -128, graph::Activation::kRelu6},
                        Case{0.1f, -128, graph::Activation::kRelu},
                        Case{0.25f, -3, graph::Activation::kNone}}) {
    graph::Model m = quantized_model();
    for (auto& t : m.graph.tensors)
      if (t.name == "c") t.quant.scale = {c.scale}, t.quant.zero_point = {c.zero_point};
    auto r = dequantize_model(m, {}, nullptr);
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_EQ(r->graph.ops.size(), 2u);
    EXPECT_EQ(r->graph.ops[1].attrs.activation, c.expected) << c.scale << " " << c.zero_point;
  }
}

TEST(FloatMode, FloatIoMakesTheInputFloat) {
  FloatOptions o;
  o.keep_integer_io = false;
  auto r = dequantize_model(quantized_model(), o, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->graph.ops.size(), 1u);
  EXPECT_EQ(r->graph.tensors[r->graph.inputs[0]].dtype, DType::kFloat32);
  EXPECT_EQ(r->graph.ops[0].inputs[0], r->graph.inputs[0]);
}

TEST(FloatMode, Float16ConstantsBecomeFloat32) {
  GraphBuilder b;
  auto& g = b.model().graph;
  const int32_t in = b.input("in", {1, 2});
  graph::Tensor h;
  h.name = "k16";
  h.dtype = DType::kFloat16;
  h.shape = {1, 2};
  for (float v : {0.5f, -3.f}) {
    const uint16_t x = fp32_to_fp16(v);
    h.data.push_back(x & 0xff);
    h.data.push_back(x >> 8);
  }
  const int32_t hid = g.add_tensor(h);
  const int32_t k = b.activation("k", {1, 2});
  const int32_t out = b.activation("out", {1, 2});
  b.op(OpKind::kDequantize, {hid}, {k});
  b.op(OpKind::kAdd, {in, k}, {out});
  b.output(out);
  auto r = dequantize_model(b.model(), {}, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->graph.ops.size(), 1u);
  const auto& kk = r->graph.tensors[r->graph.ops[0].inputs[1]];
  EXPECT_EQ(kk.dtype, DType::kFloat32);
  EXPECT_THAT(values_of(kk), ::testing::ElementsAre(0.5f, -3.f));
}

graph::Model float_conv_model(int out_channels, int in_channels) {
  GraphBuilder b;
  const int32_t in = b.input("in", {1, 3, 3, in_channels});
  std::vector<float> wv(out_channels * in_channels), bv(out_channels, 0.25f);
  for (size_t i = 0; i < wv.size(); ++i) wv[i] = static_cast<float>(i % 7) - 3.f;
  const int32_t w = b.constant("w", {out_channels, 1, 1, in_channels}, wv);
  const int32_t bias = b.constant("b", {out_channels}, bv);
  const int32_t c = b.activation("c", {1, 3, 3, out_channels});
  const int32_t w2 = b.constant("w2", {1, 1, 1, out_channels}, std::vector<float>(out_channels, 1.f));
  const int32_t b2 = b.constant("b2", {1}, {0.f});
  const int32_t d = b.activation("d", {1, 3, 3, 1});
  b.op(OpKind::kConv2d, {in, w, bias}, {c});
  b.op(OpKind::kConv2d, {c, w2, b2}, {d});
  b.output(d);
  return b.model();
}

TEST(Fp16Mode, EveryFloatConstantGetsAFloat16TwinAndOneDequantize) {
  Notes notes;
  auto r = to_fp16(float_conv_model(4, 8), {}, &notes);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const auto& g = r->graph;
  EXPECT_EQ(count_ops(g, OpKind::kDequantize), 4);
  int fp16 = 0;
  for (const auto& t : g.tensors)
    if (t.is_constant()) {
      EXPECT_EQ(t.dtype, DType::kFloat16) << t.name;
      ++fp16;
    }
  EXPECT_EQ(fp16, 4);
  // Each DEQUANTIZE comes right before its reader and is named like the converter's.
  const int conv = find_op(g, OpKind::kConv2d);
  EXPECT_EQ(g.tensors[g.ops[conv].inputs[1]].name, "w_dequantize");
  EXPECT_EQ(g.ops[conv - 1].kind, OpKind::kDequantize);
  // Values round-trip through float16 (these are exact in float16).
  const auto& w16 = g.tensors[g.ops[find_op(g, OpKind::kDequantize)].inputs[0]];
  EXPECT_EQ(values_of(w16)[0], -3.f);
  ASSERT_EQ(notes.info.size(), 1u);
}

TEST(Fp16Mode, FloatOpsKeepFloat32AndNothingToDoIsAWarning) {
  auto r = to_fp16(float_conv_model(4, 8), {1}, nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(count_ops(r->graph, OpKind::kDequantize), 2);
  GraphBuilder b;
  const int32_t in = b.input("in", {1});
  const int32_t out = b.activation("out", {1});
  b.op(OpKind::kExp, {in}, {out});
  b.output(out);
  Notes notes;
  ASSERT_TRUE(to_fp16(b.model(), {}, &notes).ok());
  ASSERT_EQ(notes.warnings.size(), 1u);
  EXPECT_THAT(notes.warnings[0], ::testing::HasSubstr("nothing to convert"));
}

TEST(DynamicMode, LargeWeightsInt8PerChannelSmallOnesStayFloat) {
  DynamicOptions o;
  o.min_elements = 32;  // w has 4 x 8 = 32 values, w2 has 4
  Notes notes;
  auto r = to_dynamic(float_conv_model(4, 8), o, &notes);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const auto& g = r->graph;
  const auto& w = g.tensors[g.ops[0].inputs[1]];
  EXPECT_EQ(w.dtype, DType::kInt8);
  // Every channel of w has max |w| = 3: equal scales are written as one per-tensor scale (as
  // TFLite's hybrid conv then reads it), so CONV_2D is version 2 (dynamic_mode_test.cpp has
  // the per-channel case).
  EXPECT_EQ(w.quant.scale.size(), 1u);
  EXPECT_EQ(g.ops[0].version, 2);  // hybrid per-tensor CONV_2D
  EXPECT_EQ(g.tensors[g.ops[0].inputs[2]].dtype, DType::kFloat32);  // bias stays float
  EXPECT_EQ(g.tensors[g.ops[1].inputs[1]].dtype, DType::kFloat32);  // w2: too small
  EXPECT_EQ(g.tensors[g.ops[0].outputs[0]].dtype, DType::kFloat32);

  o.hybrid = false;
  r = to_dynamic(float_conv_model(4, 8), o, nullptr);
  ASSERT_TRUE(r.ok());
  const auto& g2 = r->graph;
  ASSERT_EQ(g2.ops[0].kind, OpKind::kDequantize);
  EXPECT_EQ(g2.tensors[g2.ops[0].inputs[0]].dtype, DType::kInt8);
  EXPECT_EQ(g2.tensors[g2.ops[1].inputs[1]].dtype, DType::kFloat32);
  EXPECT_EQ(g2.ops[1].version, 1);

  o.min_elements = 1024;
  Notes none;
  ASSERT_TRUE(to_dynamic(float_conv_model(4, 8), o, &none).ok());
  ASSERT_EQ(none.warnings.size(), 1u);
  EXPECT_THAT(none.warnings[0], ::testing::HasSubstr("nothing to quantize"));
}

}  // namespace
}  // namespace qdet::quant
