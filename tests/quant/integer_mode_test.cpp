// The int8 / int16x8 rewrite on small hand-built graphs: exact parameters and values.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>

#include "quant/modes.h"
#include "quant/spec.h"
#include "graph_builder.h"

namespace qdet::quant {
namespace {

using graph::OpKind;
using testing::count_ops;
using testing::find_op;
using testing::GraphBuilder;

// input [1,2,2,2] -> CONV_2D(w [3,1,1,2], b [3]) -> c -> LOGISTIC -> s
//                                                 c -> RESHAPE [1,12] -> r
// CONCATENATION(r, ADD(s_flat, k)) ... kept small: out = CONCATENATION(reshape(c), reshape(s))
struct ConvModel {
  GraphBuilder b;
  int32_t in, w, bias, c, s, rc, rs, out, shape;
  ConvModel() {
    in = b.input("in", {1, 2, 2, 2});
    w = b.constant("w", {3, 1, 1, 2}, {63.5f, -31.75f, 31.75f, 0.f, 0.f, 0.f});
    bias = b.constant("bias", {3}, {0.5f, -1.f, 0.f});
    c = b.activation("c", {1, 2, 2, 3});
    s = b.activation("s", {1, 2, 2, 3});
    shape = b.int_constant("shape", {2}, {1, 12});
    rc = b.activation("rc", {1, 12});
    rs = b.activation("rs", {1, 12});
    out = b.activation("out", {1, 24});
    auto& conv = b.op(OpKind::kConv2d, {in, w, bias}, {c});
    conv.attrs.padding = graph::Padding::kValid;
    b.op(OpKind::kLogistic, {c}, {s});
    b.op(OpKind::kReshape, {c, shape}, {rc});
    b.op(OpKind::kReshape, {s, shape}, {rs});
    b.op(OpKind::kConcatenation, {rc, rs}, {out}).attrs.axis = 1;
    b.output(out);
  }
  RangeMap ranges() const {
    return {{"in", {0.f, 2.55f}}, {"c", {-10.f, 15.5f}}, {"out", {-10.f, 15.5f}},
            {"s", {0.f, 1.f}}, {"rc", {-10.f, 15.5f}}, {"rs", {0.f, 1.f}}};
  }
};

const graph::Tensor& tensor_named(const graph::Graph& g, const std::string& name) {
  for (const auto& t : g.tensors)
    if (t.name == name) return t;
  ADD_FAILURE() << "no tensor " << name;
  static graph::Tensor none;
  return none;
}

TEST(Int8Rewrite, ConvWeightsBiasAndActivations) {
  ConvModel m;
  Notes notes;
  auto r = quantize_integer(m.b.model(), m.ranges(), {}, &notes);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const graph::Graph& g = r->model.graph;
  ASSERT_TRUE(g.verify().ok());
  // Float I/O: the graph input and output keep their ids, names and float32 type.
  EXPECT_EQ(g.tensors[g.inputs[0]].name, "in");
  EXPECT_EQ(g.tensors[g.inputs[0]].dtype, DType::kFloat32);
  EXPECT_EQ(g.tensors[g.outputs[0]].name, "out");
  EXPECT_EQ(g.tensors[g.outputs[0]].dtype, DType::kFloat32);
  EXPECT_EQ(g.ops.front().kind, OpKind::kQuantize);
  EXPECT_EQ(g.ops.back().kind, OpKind::kDequantize);

  const int conv = find_op(g, OpKind::kConv2d);
  ASSERT_GE(conv, 0);
  const auto& x = g.tensors[g.ops[conv].inputs[0]];
  EXPECT_EQ(x.dtype, DType::kInt8);
  EXPECT_FLOAT_EQ(x.quant.scale[0], 0.01f);
  EXPECT_EQ(x.quant.zero_point[0], -128);
  // Weights: per channel on axis 0; channel 2 is all zero (scale 1).
  const auto& w = g.tensors[g.ops[conv].inputs[1]];
  EXPECT_EQ(w.dtype, DType::kInt8);
  EXPECT_EQ(w.quant.scale, (std::vector<float>{0.5f, 0.25f, 1.f}));
  EXPECT_EQ(w.quant.zero_point, (std::vector<int64_t>{0, 0, 0}));
  EXPECT_EQ(w.quant.quantized_dimension, 0);
  EXPECT_EQ(testing::int8_data(w), (std::vector<int8_t>{127, -64, 127, 0, 0, 0}));
  // Bias: int32, scale = 0.01 * weight scale per channel, zero point 0.
  const auto& b = g.tensors[g.ops[conv].inputs[2]];
  EXPECT_EQ(b.dtype, DType::kInt32);
  ASSERT_EQ(b.quant.scale.size(), 3u);
  EXPECT_FLOAT_EQ(b.quant.scale[0], 0.01f * 0.5f);
  EXPECT_FLOAT_EQ(b.quant.scale[1], 0.01f * 0.25f);
  EXPECT_EQ(testing::int32_data(b), (std::vector<int32_t>{100, -400, 0}));
  // Conv output from its range: [-10, 15.5] -> scale 0.1, zero point -28.
  const auto& c = g.tensors[g.ops[conv].outputs[0]];
  EXPECT_EQ(c.name, "c");
  EXPECT_FLOAT_EQ(c.quant.scale[0], 0.1f);
  EXPECT_EQ(c.quant.zero_point[0], -28);
  EXPECT_EQ(g.ops[conv].version, 3);
  // LOGISTIC: fixed 1/256, -128.
  const auto& s = tensor_named(g, "s");
  EXPECT_EQ(s.dtype, DType::kInt8);
  EXPECT_EQ(s.quant.scale[0], 1.f / 256);
  EXPECT_EQ(s.quant.zero_point[0], -128);
  // RESHAPE: same parameters as its input.
  EXPECT_EQ(tensor_named(g, "rc").quant, c.quant);
  EXPECT_EQ(tensor_named(g, "rs").quant, s.quant);
  // CONCATENATION: every input requantized to the output's parameters (one QUANTIZE, for rs).
  const int cat = find_op(g, OpKind::kConcatenation);
  const auto& out_q = g.tensors[g.ops[cat].outputs[0]].quant;
  for (int32_t t : g.ops[cat].inputs) EXPECT_EQ(g.tensors[t].quant, out_q);
  EXPECT_EQ(count_ops(g, OpKind::kQuantize), 2);  // input + requantize of rs
  EXPECT_EQ(count_ops(g, OpKind::kDequantize), 1);
  // The map from the float graph's tensors to the new ones.
  EXPECT_EQ(g.tensors[r->tensor_map[m.c]].name, "c");
  EXPECT_EQ(g.tensors[r->tensor_map[m.out]].dtype, DType::kInt8);
  EXPECT_TRUE(r->float_ops.empty());
}

// in -> CONV_2D c1, in -> CONV_2D c2, CONCATENATION(c1, c2) -> out; with `fan_out`, c1 is
// also read by a LOGISTIC (a second output).
GraphBuilder concat_model(bool fan_out) {
  GraphBuilder b;
  const int32_t in = b.input("in", {1, 2, 2, 2});
  const int32_t w1 = b.constant("w1", {2, 1, 1, 2}, {1.f, -0.5f, 0.25f, 2.f});
  const int32_t w2 = b.constant("w2", {2, 1, 1, 2}, {-3.f, 0.5f, 1.5f, 1.f});
  const int32_t c1 = b.activation("c1", {1, 2, 2, 2});
  const int32_t c2 = b.activation("c2", {1, 2, 2, 2});
  const int32_t out = b.activation("out", {1, 2, 2, 4});
  b.op(OpKind::kConv2d, {in, w1, -1}, {c1}).attrs.padding = graph::Padding::kValid;
  b.op(OpKind::kConv2d, {in, w2, -1}, {c2}).attrs.padding = graph::Padding::kValid;
  b.op(OpKind::kConcatenation, {c1, c2}, {out}).attrs.axis = 3;
  b.output(out);
  if (fan_out) {
    const int32_t s = b.activation("s", {1, 2, 2, 2});
    b.op(OpKind::kLogistic, {c1}, {s});
    b.output(s);
  }
  return b;
}

TEST(Int8Rewrite, ConcatenationInputsAreWrittenAtItsScale) {
  const RangeMap ranges = {{"in", {-1.f, 1.f}}, {"c1", {-2.f, 2.f}}, {"c2", {-6.f, 5.f}},
                           {"out", {-6.f, 5.f}}, {"s", {0.f, 1.f}}};
  for (bool fan_out : {false, true}) {
    GraphBuilder b = concat_model(fan_out);
    Notes notes;
    auto r = quantize_integer(b.model(), ranges, {}, &notes);
    ASSERT_TRUE(r.ok()) << r.status().message();
    const graph::Graph& g = r->model.graph;
    const int cat = find_op(g, OpKind::kConcatenation);
    ASSERT_GE(cat, 0);
    const auto& out_q = g.tensors[g.ops[cat].outputs[0]].quant;
    for (int32_t t : g.ops[cat].inputs) EXPECT_EQ(g.tensors[t].quant, out_q);
    // Each conv writes the concatenation's parameters unless another op reads its output:
    // then it keeps its own range and one QUANTIZE requantizes it.
    EXPECT_EQ(tensor_named(g, "c2").quant, out_q);
    EXPECT_EQ(tensor_named(g, "c1").quant == out_q, !fan_out);
    EXPECT_EQ(count_ops(g, OpKind::kQuantize), fan_out ? 2 : 1);  // the input (+ c1's requantize)
    const std::string note = fmt::format("{} concatenation inputs written at their concatenation's "
                                         "scale (no requantization)", fan_out ? 1 : 2);
    EXPECT_NE(std::find(notes.info.begin(), notes.info.end(), note), notes.info.end()) << note;
  }
}

TEST(Int8Rewrite, IntegerIo) {
  ConvModel m;
  IntegerOptions o;
  o.io = IoType::kInt8;
  auto r = quantize_integer(m.b.model(), m.ranges(), o, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const auto& g = r->model.graph;
  EXPECT_EQ(g.tensors[g.inputs[0]].dtype, DType::kInt8);
  EXPECT_EQ(g.tensors[g.inputs[0]].quant.zero_point[0], -128);
  EXPECT_EQ(g.tensors[g.outputs[0]].dtype, DType::kInt8);
  EXPECT_EQ(g.ops.front().kind, OpKind::kConv2d);

  o.io = IoType::kUInt8;
  r = quantize_integer(m.b.model(), m.ranges(), o, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const auto& g8 = r->model.graph;
  const auto& in = g8.tensors[g8.inputs[0]];
  EXPECT_EQ(in.dtype, DType::kUInt8);
  EXPECT_EQ(in.quant.zero_point[0], 0);  // int8's -128 + 128
  EXPECT_FLOAT_EQ(in.quant.scale[0], 0.01f);
  EXPECT_EQ(g8.ops.front().kind, OpKind::kQuantize);
  EXPECT_EQ(g8.tensors[g8.outputs[0]].dtype, DType::kUInt8);
  EXPECT_EQ(g8.ops.back().kind, OpKind::kQuantize);

  o.io = IoType::kInt16;
  EXPECT_FALSE(quantize_integer(m.b.model(), m.ranges(), o, nullptr).ok());
}

TEST(Int16x8Rewrite, SymmetricActivationsInt64Bias) {
  ConvModel m;
  IntegerOptions o;
  o.activations = DType::kInt16;
  auto r = quantize_integer(m.b.model(), m.ranges(), o, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const auto& g = r->model.graph;
  const int conv = find_op(g, OpKind::kConv2d);
  const auto& x = g.tensors[g.ops[conv].inputs[0]];
  EXPECT_EQ(x.dtype, DType::kInt16);
  EXPECT_EQ(x.quant.zero_point[0], 0);
  EXPECT_FLOAT_EQ(x.quant.scale[0], 2.55f / 32767);
  EXPECT_EQ(g.tensors[g.ops[conv].inputs[1]].dtype, DType::kInt8);
  const auto& b = g.tensors[g.ops[conv].inputs[2]];
  EXPECT_EQ(b.dtype, DType::kInt64);
  const auto bias = testing::int64_data(b);
  EXPECT_EQ(bias[0], static_cast<int64_t>(std::llround(0.5 / (double(x.quant.scale[0]) * 0.5))));
  const auto& c = tensor_named(g, "c");
  EXPECT_EQ(c.quant.zero_point[0], 0);
  EXPECT_FLOAT_EQ(c.quant.scale[0], 15.5f / 32767);
  EXPECT_EQ(tensor_named(g, "s").quant.scale[0], 1.f / 32768);
  EXPECT_EQ(tensor_named(g, "s").quant.zero_point[0], 0);
}

TEST(Int8Rewrite, FloatOpsGetQuantizeDequantizeAtTheBoundary) {
  ConvModel m;
  IntegerOptions o;
  o.float_ops = {1};  // the LOGISTIC
  auto r = quantize_integer(m.b.model(), m.ranges(), o, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const auto& g = r->model.graph;
  const int lg = find_op(g, OpKind::kLogistic);
  ASSERT_GE(lg, 1);
  EXPECT_EQ(g.tensors[g.ops[lg].inputs[0]].dtype, DType::kFloat32);
  EXPECT_EQ(g.ops[lg - 1].kind, OpKind::kDequantize);
  EXPECT_EQ(g.tensors[g.ops[lg].outputs[0]].dtype, DType::kFloat32);
  // The reshape of s reads float s through a QUANTIZE with s's calibrated range [0, 1].
  const auto& s_q = tensor_named(g, "s_int8");
  EXPECT_EQ(s_q.dtype, DType::kInt8);
  EXPECT_FLOAT_EQ(s_q.quant.scale[0], 1.f / 255);
  EXPECT_EQ(r->float_ops, (std::set<int32_t>{1}));
}

TEST(Int8Rewrite, UnsupportedOpStaysFloatWithAWarning) {
  GraphBuilder b;
  const int32_t in = b.input("in", {1, 4});
  const int32_t e = b.activation("e", {1, 4});
  const int32_t k = b.constant("k", {1, 4}, {1.f, 2.f, 3.f, 4.f});
  const int32_t out = b.activation("out", {1, 4});
  b.op(OpKind::kExp, {in}, {e});
  b.op(OpKind::kMul, {e, k}, {out});
  b.output(out);
  Notes notes;
  RangeMap ranges = {{"in", {-1.f, 1.f}}, {"e", {0.f, 2.72f}}, {"out", {0.f, 10.9f}}};
  auto r = quantize_integer(b.model(), ranges, {}, &notes);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(notes.warnings.size(), 1u);
  EXPECT_THAT(notes.warnings[0], ::testing::HasSubstr("EXP"));
  EXPECT_THAT(notes.warnings[0], ::testing::HasSubstr("kept in float"));
  const auto& g = r->model.graph;
  // EXP float; MUL int8 with its constant quantized from its own values [0, 4] -> scale 4/255.
  const int mul = find_op(g, OpKind::kMul);
  const auto& kq = g.tensors[g.ops[mul].inputs[1]];
  EXPECT_EQ(kq.dtype, DType::kInt8);
  EXPECT_FLOAT_EQ(kq.quant.scale[0], 4.f / 255);
  EXPECT_EQ(testing::int8_data(kq)[3], 127);
}

TEST(Int8Rewrite, MissingRangesAreNamed) {
  ConvModel m;
  RangeMap ranges = m.ranges();
  ranges.erase("c");
  ranges.erase("in");
  auto r = quantize_integer(m.b.model(), ranges, {}, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "no calibration range for 2 tensor(s): 'c', 'in'");
}

TEST(Int8Rewrite, NothingToQuantize) {
  GraphBuilder b;
  const int32_t in = b.input("in", {1, 4});
  const int32_t out = b.activation("out", {1, 4});
  b.op(OpKind::kExp, {in}, {out});
  b.output(out);
  auto r = quantize_integer(b.model(), {{"in", {0, 1}}, {"out", {1, 3}}}, {}, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), ::testing::HasSubstr("nothing to quantize"));
}

}  // namespace
}  // namespace qdet::quant
