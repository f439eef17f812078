// Head-aware rule 4 (uneven channels into a depthwise convolution) and calibrate.h
// channel_spread, on small hand-built graphs.
#include <gtest/gtest.h>

#include <set>

#include "graph_builder.h"
#include "quant/calibrate.h"
#include "quant/head_aware.h"

namespace qdet::quant {
namespace {

using graph::OpKind;

TEST(ChannelSpread, RangeOverTenthPercentileChannel) {
  EXPECT_DOUBLE_EQ(channel_spread({{0, 1}, {0, 1}, {-1, 0}}), 2.0);
  // Ten channels within 0.5 of 0 and one up to 90: the 10th-percentile span is 0.5.
  std::vector<Range> uneven(10, Range{-0.25f, 0.25f});
  uneven.push_back({0, 90});
  EXPECT_NEAR(channel_spread(uneven), 90.25 / 0.5, 1e-6);
  // Constant (dead) channels lose nothing to any scale and are ignored; nothing varying: 0.
  EXPECT_DOUBLE_EQ(channel_spread({{0, 0}, {0, 0}, {0, 4}, {-2, 2}}), 6.0 / 4.0);
  EXPECT_DOUBLE_EQ(channel_spread({{1, 1}, {1, 1}}), 0.0);
  EXPECT_DOUBLE_EQ(channel_spread({}), 0.0);
}

// conv0 -> LOGISTIC, MUL (SiLU) -> PAD -> DEPTHWISE -> conv1
struct SiluDepthwise {
  testing::GraphBuilder b;
  int32_t padded = -1;
  SiluDepthwise() {
    const int32_t in = b.input("in", {1, 8, 8, 3});
    const int32_t w0 = b.constant("w0", {4, 1, 1, 3}, std::vector<float>(12, 0.5f));
    const int32_t x = b.activation("x", {1, 8, 8, 4});
    b.op(OpKind::kConv2d, {in, w0, -1}, {x});
    const int32_t s = b.activation("s", {1, 8, 8, 4});
    b.op(OpKind::kLogistic, {x}, {s});
    const int32_t y = b.activation("y", {1, 8, 8, 4});
    b.op(OpKind::kMul, {x, s}, {y});
    const int32_t pads = b.int_constant("pads", {4, 2}, {0, 0, 1, 1, 1, 1, 0, 0});
    padded = b.activation("padded", {1, 10, 10, 4});
    b.op(OpKind::kPad, {y, pads}, {padded});
    const int32_t wd = b.constant("wd", {1, 3, 3, 4}, std::vector<float>(36, 0.1f));
    const int32_t d = b.activation("d", {1, 8, 8, 4});
    b.op(OpKind::kDepthwiseConv2d, {padded, wd, -1}, {d});
    const int32_t w1 = b.constant("w1", {2, 1, 1, 4}, std::vector<float>(8, 0.5f));
    const int32_t out = b.activation("out", {1, 8, 8, 2});
    b.op(OpKind::kConv2d, {d, w1, -1}, {out});
    b.output(out);
  }
  std::set<int32_t> kept(double spread, double max_spread) {
    HeadAwareOptions o;
    o.float_head_convs = false;  // rule 2b would keep the last conv (it makes the graph output)
    o.max_channel_spread = max_spread;
    o.channel_spreads[tensor_keys(b.model().graph)[padded]] = spread;
    auto d = choose_float_ops(b.model().graph, nullptr, o);
    EXPECT_TRUE(d.ok()) << d.status().message();
    std::set<int32_t> ops;
    if (d.ok())
      for (const auto& x : *d) {
        ops.insert(x.op);
        EXPECT_NE(x.reason.find("span"), std::string::npos) << x.reason;
      }
    return ops;
  }
};

TEST(HeadAwareChannelSpread, KeepsTheDepthwiseAndWhatMakesItsInputBackToTheConv) {
  SiluDepthwise g;
  // conv0, LOGISTIC, MUL, PAD, DEPTHWISE; not the convolution after the depthwise.
  EXPECT_EQ(g.kept(300, 64), (std::set<int32_t>{0, 1, 2, 3, 4}));
}

TEST(HeadAwareChannelSpread, BalancedChannelsOrRuleOffKeepNothing) {
  SiluDepthwise g;
  EXPECT_TRUE(g.kept(30, 64).empty());
  EXPECT_TRUE(g.kept(300, 0).empty());
}

// conv0 -> conv1 (head) -> MUL by a stride table (decode trigger) -> output; conv1 also feeds
// conv2, a graph output, in the second variant (so one of its readers is integer).
std::vector<FloatDecision> head_decisions(bool float_head_convs, bool second_reader) {
  testing::GraphBuilder b;
  const int32_t in = b.input("in", {1, 4, 4, 3});
  const int32_t w0 = b.constant("w0", {4, 1, 1, 3}, std::vector<float>(12, 0.5f));
  const int32_t x = b.activation("x", {1, 4, 4, 4});
  b.op(OpKind::kConv2d, {in, w0, -1}, {x});
  const int32_t w1 = b.constant("w1", {2, 1, 1, 4}, std::vector<float>(8, 0.5f));
  const int32_t h = b.activation("h", {1, 4, 4, 2});
  b.op(OpKind::kConv2d, {x, w1, -1}, {h});
  const int32_t stride = b.constant("stride", {2}, {8.f, 16.f});
  const int32_t boxes = b.activation("boxes", {1, 4, 4, 2});
  b.op(OpKind::kMul, {h, stride}, {boxes});
  b.output(boxes);
  if (second_reader) {
    const int32_t w2 = b.constant("w2", {2, 1, 1, 2}, std::vector<float>(4, 0.5f));
    const int32_t y = b.activation("y", {1, 4, 4, 2});
    b.op(OpKind::kConv2d, {h, w2, -1}, {y});
    b.output(y);
  }
  HeadAwareOptions o;
  o.float_head_convs = float_head_convs;
  auto d = choose_float_ops(b.model().graph, nullptr, o);
  EXPECT_TRUE(d.ok()) << d.status().message();
  return d.ok() ? *d : std::vector<FloatDecision>{};
}

TEST(HeadAwareHeadConvs, LastConvolutionWithOnlyFloatReadersStaysFloat) {
  const auto d = head_decisions(true, false);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].op, 1);  // the head conv, not conv0 (its reader is the int8 head conv)
  EXPECT_NE(d[0].reason.find("every reader is float"), std::string::npos) << d[0].reason;
  EXPECT_EQ(d[1].op, 2);  // the stride MUL
}

TEST(HeadAwareHeadConvs, OffOrAnIntegerReaderKeepsItQuantized) {
  const auto off = head_decisions(false, false);
  ASSERT_EQ(off.size(), 1u);
  EXPECT_EQ(off[0].op, 2);
  for (const auto& x : head_decisions(true, true)) EXPECT_NE(x.op, 1) << x.reason;
}

// Raw head outputs (darknet [yolo] layers, decoded by qdet's float post-processing): conv0 ->
// conv1 -> graph output. conv1's only reader is the post-processing: it stays float; conv0,
// read by the still-integer conv1 when the rule decides, does not.
TEST(HeadAwareHeadConvs, ConvolutionMakingAGraphOutputStaysFloat) {
  for (const bool on : {true, false}) {
    testing::GraphBuilder b;
    const int32_t in = b.input("in", {1, 4, 4, 3});
    const int32_t w0 = b.constant("w0", {4, 1, 1, 3}, std::vector<float>(12, 0.5f));
    const int32_t x = b.activation("x", {1, 4, 4, 4});
    b.op(OpKind::kConv2d, {in, w0, -1}, {x});
    const int32_t w1 = b.constant("w1", {6, 1, 1, 4}, std::vector<float>(24, 0.5f));
    const int32_t head = b.activation("head", {1, 4, 4, 6});
    b.op(OpKind::kConv2d, {x, w1, -1}, {head});
    b.output(head);
    HeadAwareOptions o;
    o.float_head_convs = on;
    auto d = choose_float_ops(b.model().graph, nullptr, o);
    ASSERT_TRUE(d.ok()) << d.status().message();
    if (!on) {
      EXPECT_TRUE(d->empty());
      continue;
    }
    ASSERT_EQ(d->size(), 1u);
    EXPECT_EQ((*d)[0].op, 1);
    EXPECT_NE((*d)[0].reason.find("every reader is float"), std::string::npos) << (*d)[0].reason;
  }
}

}  // namespace
}  // namespace qdet::quant
