// A convolution channel whose weights are ~0 (dead or pruned) would get a per-channel scale so
// small that its requantization multiplier input_scale * weight_scale / output_scale is under
// 2^-32: XNNPACK and oneDNN refuse such ops and they ran on the reference kernel (NanoDet-m int8:
// 390 ms instead of 17). The rewriter raises that channel's scale to keep the multiplier at
// 2^-31; its weights re-round to 0, and the op runs on a fast kernel.
#include <gtest/gtest.h>

#include <cmath>

#include "graph_builder.h"
#include "quant/modes.h"
#include "runtime/interpreter.h"

namespace qdet::quant {
namespace {

using graph::OpKind;

TEST(DeadChannels, WeightScaleKeepsTheMultiplierInTheFastKernelsRange) {
  for (const OpKind kind : {OpKind::kConv2d, OpKind::kDepthwiseConv2d}) {
    const bool depthwise = kind == OpKind::kDepthwiseConv2d;
    // 4 output channels; channel 2's weights are 1e-20.
    std::vector<float> w(36);
    for (size_t e = 0; e < w.size(); ++e) {
      const size_t channel = depthwise ? e % 4 : e / 9;
      w[e] = channel == 2 ? 1e-20f : 0.05f * static_cast<float>(e % 7) - 0.15f;
    }
    testing::GraphBuilder b;
    const int32_t in = b.input("in", {1, 6, 6, depthwise ? 4 : 1});
    const int32_t wt = b.constant("w", depthwise ? Shape{1, 3, 3, 4} : Shape{4, 3, 3, 1}, w);
    const int32_t bt = b.constant("b", {4}, std::vector<float>{0.1f, -0.1f, 0.0f, 0.2f});
    const int32_t out = b.activation("out", {1, 4, 4, 4});
    auto& op = b.op(kind, {in, wt, bt}, {out});
    op.attrs.padding = graph::Padding::kValid;
    op.attrs.depth_multiplier = 1;
    b.output(out);
    Notes notes;
    auto q = quantize_integer(b.model(), {{"in", {-1.f, 1.f}}, {"out", {-2.f, 2.f}}}, {}, &notes);
    ASSERT_TRUE(q.ok()) << q.status().message();
    const graph::Graph& g = q->model.graph;
    const graph::Op* conv = nullptr;
    for (const auto& o : g.ops)
      if (o.kind == kind) conv = &o;
    ASSERT_NE(conv, nullptr);
    const auto& wq = g.tensors[conv->inputs[1]].quant;
    const double in_scale = g.tensors[conv->inputs[0]].quant.scale[0];
    const double out_scale = g.tensors[conv->outputs[0]].quant.scale[0];
    ASSERT_EQ(wq.scale.size(), 4u);
    for (size_t c = 0; c < 4; ++c)
      EXPECT_GE(in_scale * wq.scale[c] / out_scale, std::ldexp(1.0, -32)) << "channel " << c;
    EXPECT_FALSE(notes.info.empty());
    auto interp = rt::Interpreter::create(std::make_shared<const graph::Graph>(g));
    ASSERT_TRUE(interp.ok()) << interp.status().message();
    for (size_t i = 0; i < g.ops.size(); ++i)
      if (g.ops[i].kind == kind) EXPECT_STRNE((*interp)->kernel_name(i), "reference") << graph::op_name(kind);
  }
}

}  // namespace
}  // namespace qdet::quant
