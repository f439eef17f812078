// CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED reference kernels: hand-computed cases for
// padding, stride, dilation, activation, depth multiplier, plus random shapes against a naive
// direct convolution written independently here.
#include <gmock/gmock.h>

#include <numeric>
#include <random>

#include "graph_builder.h"

namespace qdet::rt {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using namespace testing;  // graph_builder.h: GraphBuilder, run_graph, to_bytes, values_of, per_tensor, F32

std::vector<float> iota_from(int n, float start) {
  std::vector<float> v(n);
  std::iota(v.begin(), v.end(), start);
  return v;
}

graph::OpAttrs conv_attrs(graph::Padding p, int stride, int dilation = 1,
                          graph::Activation act = graph::Activation::kNone) {
  graph::OpAttrs a;
  a.padding = p;
  a.stride_h = a.stride_w = stride;
  a.dilation_h = a.dilation_w = dilation;
  a.activation = act;
  return a;
}

std::vector<float> run_conv(Shape in_shape, Shape filter_shape, std::vector<float> filter,
                            std::vector<float> bias, Shape out_shape, graph::OpAttrs attrs,
                            std::vector<float> input,
                            graph::OpKind kind = graph::OpKind::kConv2d) {
  GraphBuilder b;
  int32_t in = b.input(F32, in_shape);
  int32_t w = b.constant(F32, filter_shape, filter);
  int32_t bi = bias.empty() ? -1 : b.constant(F32, {static_cast<int32_t>(bias.size())}, bias);
  int32_t out = b.tensor(F32, out_shape);
  b.op(kind, {in, w, bi}, {out}, attrs);
  b.output(out);
  auto r = run_graph(b.shared(), {to_bytes(input)});
  EXPECT_TRUE(r.ok()) << r.status().message();
  if (!r.ok()) return {};
  return values_of<float>((*r)->output(0));
}

TEST(Conv2d, SameStride2OddSizePadsOneBefore) {
  // 5x5 input 1..25, 3x3 ones, stride 2, SAME: 3x3 output, 1 pad row/col before and after.
  auto out = run_conv({1, 5, 5, 1}, {1, 3, 3, 1}, std::vector<float>(9, 1.0f), {}, {1, 3, 3, 1},
                      conv_attrs(graph::Padding::kSame, 2), iota_from(25, 1));
  EXPECT_THAT(out, ElementsAre(16, 33, 28, 69, 117, 87, 76, 123, 88));
}

TEST(Conv2d, SameStride2EvenSizePadsAfterOnly) {
  // 6x6 input, 3x3 ones, stride 2: total padding 1, all of it after (TFLite puts the odd one
  // at the end).
  auto out = run_conv({1, 6, 6, 1}, {1, 3, 3, 1}, std::vector<float>(9, 1.0f), {}, {1, 3, 3, 1},
                      conv_attrs(graph::Padding::kSame, 2), iota_from(36, 1));
  ASSERT_EQ(out.size(), 9u);
  EXPECT_EQ(out[0], 1 + 2 + 3 + 7 + 8 + 9 + 13 + 14 + 15);
  EXPECT_EQ(out[8], 29 + 30 + 35 + 36);
  EXPECT_EQ(out[2], 5 + 6 + 11 + 12 + 17 + 18);
}

TEST(Conv2d, DilationValid) {
  // 2x2 filter [1,10,100,1000] with dilation 2 covers a 3x3 window: (0,0),(0,2),(2,0),(2,2).
  auto out = run_conv({1, 5, 5, 1}, {1, 2, 2, 1}, {1, 10, 100, 1000}, {}, {1, 3, 3, 1},
                      conv_attrs(graph::Padding::kValid, 1, 2), iota_from(25, 1));
  ASSERT_EQ(out.size(), 9u);
  EXPECT_EQ(out[0], 1 + 3 * 10 + 11 * 100 + 13 * 1000);
  EXPECT_EQ(out[8], 13 + 15 * 10 + 23 * 100 + 25 * 1000);
}

TEST(Conv2d, ChannelsBiasAndRelu6) {
  // 1x1 conv, 2 in -> 3 out: out = W x + b, clamped to [0, 6].
  auto out = run_conv({1, 1, 2, 2}, {3, 1, 1, 2}, {1, 2, -1, 0, 3, 3}, {0.5f, 0, 1},
                      {1, 1, 2, 3},
                      conv_attrs(graph::Padding::kValid, 1, 1, graph::Activation::kRelu6),
                      {1, 1, 2, -1});
  // pixel (1,1): 1+2+.5=3.5, -1+0=-1->0, 3+3+1=7->6; pixel (2,-1): 0+.5, -2, 3+1
  EXPECT_THAT(out, ElementsAre(3.5f, 0, 6, 0.5f, 0, 4));
}

TEST(Conv2d, RejectsNonFloatWithUnsupported) {
  GraphBuilder b;
  int32_t in = b.input(DType::kInt16, {1, 2, 2, 1});
  int32_t w = b.constant(DType::kInt8, {1, 1, 1, 1}, std::vector<int8_t>{1});
  int32_t out = b.tensor(DType::kInt16, {1, 2, 2, 1});
  b.op(graph::OpKind::kConv2d, {in, w}, {out}, conv_attrs(graph::Padding::kValid, 1));
  b.output(out);
  auto r = Interpreter::create(b.shared());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnsupported);
  // One line: the op, its index and input dtype, and the reference kernel's reason (qdet runs
  // int16 CONV_2D, but not without quantization parameters); no kernel library is named.
  EXPECT_THAT(r.status().message(), ::testing::StartsWith("op 0 (CONV_2D): int16 input: "));
  EXPECT_THAT(r.status().message(), ::testing::Not(::testing::HasSubstr("xnnpack")));
  EXPECT_THAT(r.status().message(), ::testing::Not(::testing::HasSubstr("CONV_2D (op 0)")));
}

// A direct convolution, the textbook loops, to check the packed kernel on random shapes.
std::vector<float> naive_conv(const std::vector<float>& in, int n, int h, int w, int c,
                              const std::vector<float>& f, int oc, int kh, int kw, int groups,
                              const std::vector<float>& bias, int stride, int dil, bool same,
                              int* oh_out, int* ow_out) {
  const int eh = (kh - 1) * dil + 1, ew = (kw - 1) * dil + 1;
  const int oh = same ? (h + stride - 1) / stride : (h - eh + stride) / stride;
  const int ow = same ? (w + stride - 1) / stride : (w - ew + stride) / stride;
  const int pt = same ? std::max((oh - 1) * stride + eh - h, 0) / 2 : 0;
  const int pl = same ? std::max((ow - 1) * stride + ew - w, 0) / 2 : 0;
  const int kc = c / groups, ocg = oc / groups;
  std::vector<float> out(static_cast<size_t>(n) * oh * ow * oc);
  for (int b = 0; b < n; ++b)
    for (int y = 0; y < oh; ++y)
      for (int x = 0; x < ow; ++x)
        for (int o = 0; o < oc; ++o) {
          double s = bias[o];
          const int g = o / ocg;
          for (int i = 0; i < kh; ++i)
            for (int j = 0; j < kw; ++j)
              for (int k = 0; k < kc; ++k) {
                const int iy = y * stride - pt + i * dil, ix = x * stride - pl + j * dil;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                s += static_cast<double>(in[((b * h + iy) * w + ix) * c + g * kc + k]) *
                     f[((o * kh + i) * kw + j) * kc + k];
              }
          out[((b * oh + y) * ow + x) * oc + o] = static_cast<float>(s);
        }
  *oh_out = oh;
  *ow_out = ow;
  return out;
}

TEST(Conv2d, RandomShapesMatchDirectConvolution) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1, 1);
  struct Case { int h, w, c, oc, k, stride, dil, groups; bool same; };
  const Case cases[] = {{7, 9, 3, 8, 3, 2, 1, 1, true},  {8, 8, 16, 17, 3, 1, 1, 1, true},
                        {9, 7, 4, 6, 3, 2, 2, 1, false}, {5, 6, 8, 8, 3, 1, 1, 2, true},
                        {6, 6, 1, 1, 5, 3, 1, 1, true},  {4, 11, 9, 7, 1, 1, 1, 1, false}};
  for (const Case& k : cases) {
    std::vector<float> in(static_cast<size_t>(2) * k.h * k.w * k.c), f(static_cast<size_t>(k.oc) * k.k * k.k * (k.c / k.groups)), bias(k.oc);
    for (auto& v : in) v = u(rng);
    for (auto& v : f) v = u(rng);
    for (auto& v : bias) v = u(rng);
    int oh, ow;
    auto expected = naive_conv(in, 2, k.h, k.w, k.c, f, k.oc, k.k, k.k, k.groups, bias, k.stride,
                               k.dil, k.same, &oh, &ow);
    auto got = run_conv({2, k.h, k.w, k.c}, {k.oc, k.k, k.k, k.c / k.groups}, f, bias,
                        {2, oh, ow, k.oc},
                        conv_attrs(k.same ? graph::Padding::kSame : graph::Padding::kValid,
                                   k.stride, k.dil),
                        in);
    ASSERT_EQ(got.size(), expected.size()) << "h=" << k.h << " w=" << k.w << " c=" << k.c;
    // Float sums of at most 5*5*16 products of values in [-1,1]: 1e-5 absolute is generous.
    for (size_t i = 0; i < got.size(); ++i)
      ASSERT_NEAR(got[i], expected[i], 1e-5) << "element " << i << " h=" << k.h << " w=" << k.w
                                             << " c=" << k.c << " oc=" << k.oc << " k=" << k.k
                                             << " stride=" << k.stride << " dil=" << k.dil;
  }
}

TEST(DepthwiseConv2d, MultiplierTwoSamePadding) {
  // 1x3x3x1 input 1..9, depth multiplier 2: channel 0 = 3x3 ones, channel 1 = centre tap x10.
  std::vector<float> filter(18, 0.0f);
  for (int i = 0; i < 9; ++i) filter[i * 2] = 1.0f;
  filter[4 * 2 + 1] = 10.0f;
  auto out = run_conv({1, 3, 3, 1}, {1, 3, 3, 2}, filter, {0, 1}, {1, 3, 3, 2},
                      conv_attrs(graph::Padding::kSame, 1), iota_from(9, 1),
                      graph::OpKind::kDepthwiseConv2d);
  ASSERT_EQ(out.size(), 18u);
  EXPECT_EQ(out[0], 1 + 2 + 4 + 5);       // corner window
  EXPECT_EQ(out[1], 10 * 1 + 1);          // centre tap of pixel (0,0) + bias
  EXPECT_EQ(out[8], 45);                  // centre pixel sees everything
  EXPECT_EQ(out[9], 51);
  EXPECT_EQ(out[17], 91);                 // pixel (2,2): 9 x 10 + 1
}

TEST(DepthwiseConv2d, StrideTwoDilationTwoPerChannel) {
  // 2 channels, 5x5, 2x2 filter dilation 2, stride 2, VALID -> 2x2.
  std::vector<float> in(50);
  for (int i = 0; i < 25; ++i) {
    in[i * 2] = static_cast<float>(i + 1);
    in[i * 2 + 1] = -static_cast<float>(i + 1);
  }
  auto out = run_conv({1, 5, 5, 2}, {1, 2, 2, 2}, {1, 1, 1, 1, 1, 1, 1, 0}, {}, {1, 2, 2, 2},
                      conv_attrs(graph::Padding::kValid, 2, 2), in,
                      graph::OpKind::kDepthwiseConv2d);
  // output (0,0) reads (0,0),(0,2),(2,0),(2,2) = 1,3,11,13 (sum 28); channel 1 skips the
  // last tap: -(1+3+11); output (0,1) reads 3,5,13,15; (1,0) 11,13,21,23; (1,1) 13,15,23,25.
  EXPECT_THAT(out, ElementsAre(28, -15, 36, -21, 68, -45, 76, -51));
}

TEST(FullyConnected, KeepNumDimsAndBias) {
  GraphBuilder b;
  int32_t in = b.input(F32, {2, 1, 3});
  int32_t w = b.constant(F32, {2, 3}, std::vector<float>{1, 0, -1, 2, 2, 2});
  int32_t bias = b.constant(F32, {2}, std::vector<float>{10, 0});
  int32_t out = b.tensor(F32, {2, 1, 2});
  graph::OpAttrs a;
  a.keep_num_dims = true;
  b.op(graph::OpKind::kFullyConnected, {in, w, bias}, {out}, a);
  b.output(out);
  auto r = run_graph(b.shared(), {to_bytes(std::vector<float>{1, 2, 3, -1, 0, 4})});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_THAT(values_of<float>((*r)->output(0)), ElementsAre(8, 12, 5, 6));
}

TEST(FullyConnected, FlattensWithoutKeepNumDims) {
  GraphBuilder b;
  int32_t in = b.input(F32, {2, 2, 2});
  int32_t w = b.constant(F32, {1, 4}, std::vector<float>{1, 1, 1, 1});
  int32_t out = b.tensor(F32, {2, 1});
  graph::OpAttrs a;
  a.activation = graph::Activation::kRelu;
  b.op(graph::OpKind::kFullyConnected, {in, w, -1}, {out}, a);
  b.output(out);
  auto r = run_graph(b.shared(), {to_bytes(std::vector<float>{1, 2, 3, 4, -5, -6, 7, 1})});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_THAT(values_of<float>((*r)->output(0)), ElementsAre(10, 0));
}

}  // namespace
}  // namespace qdet::rt
