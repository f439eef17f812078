// Bias correction in the int8 rewrite (modes.h IntegerOptions::input_means): the float bias
// loses (W_q - W) . E[x] per output channel before it is quantized.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/modes.h"
#include "graph_builder.h"

namespace qdet::quant {
namespace {

using graph::OpKind;
using testing::find_op;
using testing::GraphBuilder;

// Real value of int8 weight element i (per-channel scales on axis 0 or 3).
double dequantized(const graph::Tensor& w, size_t i) {
  const auto* q = reinterpret_cast<const int8_t*>(w.data.data());
  const auto& s = w.quant.scale;
  int64_t inner = 1;
  for (size_t d = static_cast<size_t>(w.quant.quantized_dimension) + 1; d < w.shape.size(); ++d)
    inner *= w.shape[d];
  const size_t c = s.size() == 1 ? 0 : (i / inner) % w.shape[w.quant.quantized_dimension];
  return q[i] * static_cast<double>(s[c]);
}

// Quantizes `b.model()` with and without means; checks op `kind`'s int32 bias against
// round((bias - (W_q - W) . E[x]) / (input_scale * weight_scale)), `in_channel(o, i)` naming
// the input channel that weight element i of output channel o reads.
template <typename InChannel>
void expect_corrected(GraphBuilder& b, OpKind kind, const RangeMap& ranges,
                      const std::vector<float>& w_float, const std::vector<float>& bias,
                      const std::vector<double>& means, InChannel in_channel) {
  IntegerOptions o;
  o.input_means = {{"in", means}};
  Notes notes;
  auto corrected = quantize_integer(b.model(), ranges, o, &notes);
  auto plain = quantize_integer(b.model(), ranges, {}, nullptr);
  ASSERT_TRUE(corrected.ok()) << corrected.status().message();
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  const graph::Graph& g = corrected->model.graph;
  const int op = find_op(g, kind);
  ASSERT_GE(op, 0);
  const auto& w = g.tensors[g.ops[op].inputs[1]];
  const auto& bq = g.tensors[g.ops[op].inputs[2]];
  const float in_scale = g.tensors[g.ops[op].inputs[0]].quant.scale[0];
  const size_t oc = bias.size();
  std::vector<double> err(oc, 0.0);
  for (size_t i = 0; i < w_float.size(); ++i) {
    const size_t o_ch = kind == OpKind::kDepthwiseConv2d ? i % oc : i / (w_float.size() / oc);
    err[o_ch] += (dequantized(w, i) - w_float[i]) * means[in_channel(o_ch, i)];
  }
  std::vector<int32_t> expected(oc);
  bool changed = false;
  for (size_t c = 0; c < oc; ++c) {
    const double scale = static_cast<double>(in_scale) * w.quant.scale[w.quant.scale.size() == 1 ? 0 : c];
    expected[c] = static_cast<int32_t>(std::lround((bias[c] - err[c]) / scale));
    changed = changed || std::lround(bias[c] / scale) != expected[c];
  }
  EXPECT_TRUE(changed) << "the test weights must round with an error that moves the bias";
  EXPECT_EQ(testing::int32_data(bq), expected);
  // Without means the bias is the plain quantized float bias.
  const graph::Graph& pg = plain->model.graph;
  const auto& pb = pg.tensors[pg.ops[find_op(pg, kind)].inputs[2]];
  EXPECT_NE(testing::int32_data(pb), expected);
  EXPECT_NE(std::find(notes.info.begin(), notes.info.end(), "bias correction: 1 ops"), notes.info.end());
}

TEST(BiasCorrection, Conv2dBiasLosesTheExpectedRoundingError) {
  // in [1,3,3,2] -> CONV_2D(w [2,2,2,2] VALID, b [2]) -> out [1,2,2,2]. Weights chosen so that
  // per-channel rounding (scale max|w|/127) leaves errors.
  const std::vector<float> w = {1.0f, 0.333f, -0.517f, 0.0123f, 0.77f, -0.291f, 0.4449f, 0.1001f,
                                -0.9f, 0.0314f, 0.271f, -0.1618f, 0.57721f, 0.00707f, -0.333f, 0.6667f};
  const std::vector<float> bias = {0.25f, -0.125f};
  GraphBuilder b;
  const int32_t in = b.input("in", {1, 3, 3, 2});
  const int32_t wt = b.constant("w", {2, 2, 2, 2}, w);
  const int32_t bt = b.constant("b", {2}, bias);
  const int32_t out = b.activation("out", {1, 2, 2, 2});
  b.op(OpKind::kConv2d, {in, wt, bt}, {out}).attrs.padding = graph::Padding::kValid;
  b.output(out);
  expect_corrected(b, OpKind::kConv2d, {{"in", {-1.f, 40.f}}, {"out", {-30.f, 30.f}}}, w, bias,
                   {25.0, -0.75}, [](size_t, size_t i) { return i % 2; });
}

TEST(BiasCorrection, DepthwiseUsesEachChannelsMean) {
  // in [1,2,2,2] -> DEPTHWISE_CONV_2D(w [1,2,2,2], multiplier 1) -> out [1,1,1,2].
  const std::vector<float> w = {0.9f, -0.0123f, 0.3337f, 0.51f, -0.271f, 0.7071f, 0.1234f, -0.99f};
  const std::vector<float> bias = {0.5f, -0.5f};
  GraphBuilder b;
  const int32_t in = b.input("in", {1, 2, 2, 2});
  const int32_t wt = b.constant("w", {1, 2, 2, 2}, w);
  const int32_t bt = b.constant("b", {2}, bias);
  const int32_t out = b.activation("out", {1, 1, 1, 2});
  auto& op = b.op(OpKind::kDepthwiseConv2d, {in, wt, bt}, {out});
  op.attrs.padding = graph::Padding::kValid;
  op.attrs.depth_multiplier = 1;
  b.output(out);
  expect_corrected(b, OpKind::kDepthwiseConv2d, {{"in", {-1.f, 60.f}}, {"out", {-40.f, 40.f}}}, w,
                   bias, {-0.5, 50.0}, [](size_t o, size_t) { return o; });
}

}  // namespace
}  // namespace qdet::quant
