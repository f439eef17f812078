// Hybrid CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED (float activations, int8 weights):
// the input quantizers on hand-computed values; the kernels on seeded random shapes against a
// direct transcription of TFLite's hybrid arithmetic written here (int32 sums of
// filter * (q - offset), then float(acc) * (input_scale * filter_scale) + bias); and against
// float convolution with the dequantized weights, within the error that quantizing the input
// can cause. Bad hybrid ops are refused with a message.
#include <gmock/gmock.h>

#include <cmath>
#include <random>

#include "graph_builder.h"
#include "runtime/kernels/reference/hybrid.h"

namespace qdet::rt {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace testing;  // graph_builder.h: GraphBuilder, run_graph, to_bytes, values_of, per_tensor, F32
using ref::InputQuantization;
using ref::quantize_input_asymmetric;
using ref::quantize_input_symmetric;
constexpr DType I8 = DType::kInt8;

TEST(HybridQuantize, SymmetricRoundsHalfAwayFromZero) {
  const std::vector<float> x = {-1.0f, 0.5f, 0.25f, 2.0f};
  std::vector<int8_t> q(x.size());
  const InputQuantization p = quantize_input_symmetric(x.data(), x.size(), q.data());
  EXPECT_FLOAT_EQ(p.scale, 2.0f / 127);
  EXPECT_EQ(p.offset, 0);
  EXPECT_THAT(q, ElementsAre(-64, 32, 16, 127));  // -63.5 -> -64, 31.75, 15.875, 127
}

TEST(HybridQuantize, AsymmetricZeroPointFromTheCheaperEnd) {
  // range [-1, 3]: scale 4/255, zero point -128 + 63.75 = -64.25 -> -64
  const std::vector<float> x = {-1.0f, 0.0f, 3.0f};
  std::vector<int8_t> q(x.size());
  const InputQuantization p = quantize_input_asymmetric(x.data(), x.size(), q.data());
  EXPECT_FLOAT_EQ(p.scale, 4.0f / 255);
  EXPECT_EQ(p.offset, -64);
  EXPECT_THAT(q, ElementsAre(-128, -64, 127));
}

TEST(HybridQuantize, AsymmetricPositiveRangeIncludesZero) {
  const std::vector<float> x = {1.0f, 0.25f};
  std::vector<int8_t> q(x.size());
  const InputQuantization p = quantize_input_asymmetric(x.data(), x.size(), q.data());
  EXPECT_FLOAT_EQ(p.scale, 1.0f / 255);
  EXPECT_EQ(p.offset, -128);
  EXPECT_EQ(q[0], 127);
  EXPECT_EQ(q[1], -64);  // -128 + 63.75
}

TEST(HybridQuantize, AllZerosGiveScaleOne) {
  const std::vector<float> x(5, 0.0f);
  std::vector<int8_t> q(x.size(), 9);
  for (auto* f : {&quantize_input_symmetric, &quantize_input_asymmetric}) {
    const InputQuantization p = f(x.data(), x.size(), q.data());
    EXPECT_EQ(p.scale, 1.0f);
    EXPECT_EQ(p.offset, 0);
    EXPECT_THAT(q, ::testing::Each(0));
  }
}

struct ConvCase {
  bool depthwise;
  int batch, h, w, ci, co, k, stride;
  graph::Padding padding;
  bool per_channel;
  graph::Activation act;
};

std::string describe(const ConvCase& c) {
  return fmt::format("{} b{} {}x{}x{} -> {} k{} s{} {} {} act{}",
                     c.depthwise ? "depthwise" : "conv", c.batch, c.h, c.w, c.ci, c.co, c.k,
                     c.stride, c.padding == graph::Padding::kSame ? "SAME" : "VALID",
                     c.per_channel ? "per-channel" : "per-tensor", static_cast<int>(c.act));
}

struct ConvProblem {
  Shape in_shape, filter_shape, out_shape;
  std::vector<float> input, bias, filter_scale;
  std::vector<int8_t> filter;
  int pad_top = 0, pad_left = 0;
};

int out_size(int in, int k, int s, graph::Padding p) {
  return p == graph::Padding::kSame ? (in + s - 1) / s : (in - k + s) / s;
}

ConvProblem make_problem(const ConvCase& c, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::uniform_int_distribution<int> wq(-127, 127);
  ConvProblem p;
  p.in_shape = {c.batch, c.h, c.w, c.ci};
  const int oh = out_size(c.h, c.k, c.stride, c.padding);
  const int ow = out_size(c.w, c.k, c.stride, c.padding);
  p.out_shape = {c.batch, oh, ow, c.co};
  p.filter_shape = c.depthwise ? Shape{1, c.k, c.k, c.co} : Shape{c.co, c.k, c.k, c.ci};
  if (c.padding == graph::Padding::kSame) {
    p.pad_top = std::max(0, ((oh - 1) * c.stride + c.k - c.h)) / 2;
    p.pad_left = std::max(0, ((ow - 1) * c.stride + c.k - c.w)) / 2;
  }
  // Inputs mostly positive with a few negatives, as after activations; asymmetric matters.
  p.input.resize(static_cast<size_t>(num_elements(p.in_shape)));
  for (auto& v : p.input) v = 2.0f * u(rng) + 1.5f;
  p.filter.resize(static_cast<size_t>(num_elements(p.filter_shape)));
  for (auto& v : p.filter) v = static_cast<int8_t>(wq(rng));
  p.bias.resize(c.co);
  for (auto& v : p.bias) v = u(rng);
  p.filter_scale.resize(c.per_channel ? c.co : 1);
  for (auto& s : p.filter_scale) s = 0.002f + 0.01f * (u(rng) + 1.0f);
  return p;
}

float act_clamp(float v, graph::Activation a) {
  if (a == graph::Activation::kRelu) return std::max(v, 0.0f);
  if (a == graph::Activation::kRelu6) return std::min(std::max(v, 0.0f), 6.0f);
  return v;
}

// TFLite's reference HybridConvPerChannel / DepthwiseConvHybridPerChannel, written directly.
std::vector<float> expected_hybrid(const ConvCase& c, const ConvProblem& p) {
  const bool asym = c.depthwise || p.filter_scale.size() > 1;  // one scale: symmetric
  const size_t per_batch = static_cast<size_t>(c.h) * c.w * c.ci;
  std::vector<int8_t> q(p.input.size());
  std::vector<InputQuantization> qp(c.batch);
  for (int b = 0; b < c.batch; ++b)
    qp[b] = asym ? quantize_input_asymmetric(&p.input[b * per_batch], per_batch, &q[b * per_batch])
                 : quantize_input_symmetric(&p.input[b * per_batch], per_batch, &q[b * per_batch]);
  const int oh = p.out_shape[1], ow = p.out_shape[2];
  std::vector<float> out(static_cast<size_t>(num_elements(p.out_shape)));
  for (int b = 0; b < c.batch; ++b)
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox)
        for (int oc = 0; oc < c.co; ++oc) {
          int32_t acc = 0;
          for (int ky = 0; ky < c.k; ++ky)
            for (int kx = 0; kx < c.k; ++kx) {
              const int iy = oy * c.stride - p.pad_top + ky, ix = ox * c.stride - p.pad_left + kx;
              if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;
              if (c.depthwise) {
                const int ic = oc / (c.co / c.ci);
                const int32_t x = q[((b * c.h + iy) * c.w + ix) * c.ci + ic] - qp[b].offset;
                acc += x * p.filter[(ky * c.k + kx) * c.co + oc];
              } else {
                for (int ic = 0; ic < c.ci; ++ic) {
                  const int32_t x = q[((b * c.h + iy) * c.w + ix) * c.ci + ic] - qp[b].offset;
                  acc += x * p.filter[((oc * c.k + ky) * c.k + kx) * c.ci + ic];
                }
              }
            }
          const float fs = p.filter_scale[c.per_channel ? oc : 0];
          out[((b * oh + oy) * ow + ox) * c.co + oc] =
              act_clamp(static_cast<float>(acc) * (qp[b].scale * fs) + p.bias[oc], c.act);
        }
  return out;
}

Result<std::vector<float>> run_hybrid(const ConvCase& c, const ConvProblem& p,
                                      InterpreterOptions options = testing::kReferenceOnly) {
  GraphBuilder g;
  QuantParams fq;
  fq.scale = p.filter_scale;
  fq.zero_point.assign(p.filter_scale.size(), 0);
  fq.quantized_dimension = c.depthwise ? 3 : 0;
  const int32_t in = g.input(F32, p.in_shape);
  const int32_t w = g.constant(I8, p.filter_shape, p.filter, fq);
  const int32_t bias = g.constant(F32, {c.co}, p.bias);
  const int32_t out = g.tensor(F32, p.out_shape);
  graph::OpAttrs a;
  a.padding = c.padding;
  a.stride_h = a.stride_w = c.stride;
  a.activation = c.act;
  g.op(c.depthwise ? graph::OpKind::kDepthwiseConv2d : graph::OpKind::kConv2d, {in, w, bias},
       {out}, a);
  g.output(out);
  QDET_ASSIGN_OR_RETURN(auto interp, run_graph(g.shared(), {to_bytes(p.input)}, options));
  if (interp->output(0).shape != p.out_shape)
    return internal_error("output shape {}", shape_to_string(interp->output(0).shape));
  return values_of<float>(interp->output(0));
}

std::vector<ConvCase> conv_cases() {
  using graph::Activation;
  using graph::Padding;
  std::vector<ConvCase> cases;
  // conv: channel counts around the 4-wide blocks and the 256-channel accumulator block
  for (int co : {1, 3, 4, 5, 17, 260})
    cases.push_back({false, 1, 7, 6, 3, co, 3, 1, Padding::kSame, true, Activation::kNone});
  for (int ci : {1, 8, 9, 17})
    cases.push_back({false, 2, 9, 8, ci, 7, 3, 2, Padding::kSame, true, Activation::kRelu});
  cases.push_back({false, 1, 8, 8, 16, 8, 1, 1, Padding::kValid, true, Activation::kRelu6});
  cases.push_back({false, 1, 9, 7, 5, 6, 5, 2, Padding::kValid, true, Activation::kNone});
  cases.push_back({false, 2, 6, 6, 4, 9, 3, 1, Padding::kSame, false, Activation::kNone});
  cases.push_back({false, 1, 2, 2, 3, 4, 5, 1, Padding::kSame, true, Activation::kNone});
  // depthwise: multiplier 1 and 2, channels straddling SIMD widths
  for (int ch : {1, 7, 8, 9, 16, 17})
    cases.push_back({true, 1, 8, 7, ch, ch, 3, 1, Padding::kSame, true, Activation::kNone});
  cases.push_back({true, 2, 9, 9, 8, 8, 3, 2, Padding::kSame, true, Activation::kRelu6});
  cases.push_back({true, 1, 9, 8, 5, 10, 3, 2, Padding::kValid, true, Activation::kRelu});
  cases.push_back({true, 1, 10, 10, 300, 300, 5, 1, Padding::kSame, true, Activation::kNone});
  return cases;
}

TEST(HybridConv, MatchesTfliteArithmeticOnRandomShapes) {
  uint32_t seed = 1;
  for (const ConvCase& c : conv_cases()) {
    const ConvProblem p = make_problem(c, seed++);
    auto got = run_hybrid(c, p);
    ASSERT_TRUE(got.ok()) << describe(c) << ": " << got.status().message();
    const std::vector<float> want = expected_hybrid(c, p);
    ASSERT_EQ(got->size(), want.size()) << describe(c);
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_EQ((*got)[i], want[i]) << describe(c) << " at " << i;  // same float expression
  }
}

TEST(HybridConv, ThreadsDoNotChangeResults) {
  const ConvCase c{false, 2, 9, 8, 9, 7, 3, 2, graph::Padding::kSame, true,
                   graph::Activation::kNone};
  const ConvProblem p = make_problem(c, 99);
  auto one = run_hybrid(c, p);
  InterpreterOptions o = testing::kReferenceOnly;
  o.num_threads = 2;
  auto two = run_hybrid(c, p, o);
  ASSERT_TRUE(one.ok() && two.ok());
  EXPECT_EQ(*one, *two);
}

// Against float convolution with dequantized weights: quantizing the input moves each input by
// at most half a step, so an output moves by at most sum |w| * step / 2 over its window.
TEST(HybridConv, CloseToFloatConvolutionWithDequantizedWeights) {
  for (const ConvCase& c : conv_cases()) {
    if (c.act != graph::Activation::kNone) continue;
    const ConvProblem p = make_problem(c, 1000 + c.co + c.ci);
    auto got = run_hybrid(c, p);
    ASSERT_TRUE(got.ok()) << got.status().message();
    GraphBuilder g;
    std::vector<float> wf(p.filter.size());
    const int co_axis_stride = c.depthwise ? 1 : static_cast<int>(p.filter.size() / c.co);
    for (size_t i = 0; i < wf.size(); ++i) {
      const int oc = c.depthwise ? static_cast<int>(i % c.co) : static_cast<int>(i / co_axis_stride);
      wf[i] = p.filter[i] * p.filter_scale[c.per_channel ? oc : 0];
    }
    const int32_t in = g.input(F32, p.in_shape);
    const int32_t w = g.constant(F32, p.filter_shape, wf);
    const int32_t bias = g.constant(F32, {c.co}, p.bias);
    const int32_t out = g.tensor(F32, p.out_shape);
    graph::OpAttrs a;
    a.padding = c.padding;
    a.stride_h = a.stride_w = c.stride;
    g.op(c.depthwise ? graph::OpKind::kDepthwiseConv2d : graph::OpKind::kConv2d, {in, w, bias},
         {out}, a);
    g.output(out);
    auto f = run_graph(g.shared(), {to_bytes(p.input)});
    ASSERT_TRUE(f.ok());
    const auto want = values_of<float>((*f)->output(0));
    // inputs lie in [-0.5, 3.5]: step <= 4/255 (asymmetric) or 3.5/127 (symmetric)
    const float step = 3.5f / 127;
    const int window = c.depthwise ? c.k * c.k : c.k * c.k * c.ci;
    for (size_t i = 0; i < want.size(); ++i) {
      const int oc = static_cast<int>(i % c.co);
      const float bound = window * 127 * p.filter_scale[c.per_channel ? oc : 0] * step / 2 + 1e-4f;
      ASSERT_NEAR((*got)[i], want[i], bound) << describe(c) << " at " << i;
    }
  }
}

graph::Graph one_op_graph(graph::OpKind kind, Shape in_shape, Shape w_shape, QuantParams wq,
                          Shape out_shape, graph::OpAttrs a = {}) {
  GraphBuilder g;
  const int32_t in = g.input(F32, in_shape);
  const int32_t w = g.constant(I8, w_shape, std::vector<int8_t>(num_elements(w_shape), 1), wq);
  const int32_t out = g.tensor(F32, out_shape);
  g.op(kind, {in, w, -1}, {out}, a);
  g.output(out);
  return g.graph();
}

Status create(graph::Graph g) {
  return Interpreter::create(std::make_shared<graph::Graph>(std::move(g)), testing::kReferenceOnly)
      .status();
}

TEST(HybridConv, RefusesWhatTfliteHybridKernelsCannotRun) {
  QuantParams per_channel;
  per_channel.scale = {0.1f, 0.2f};
  per_channel.zero_point = {0, 0};
  per_channel.quantized_dimension = 0;
  graph::OpAttrs dilated;
  dilated.dilation_h = dilated.dilation_w = 2;
  Status s = create(one_op_graph(graph::OpKind::kConv2d, {1, 6, 6, 3}, {2, 3, 3, 3}, per_channel,
                                 {1, 6, 6, 2}, dilated));
  EXPECT_THAT(s.message(), HasSubstr("dilation 2x2 is not supported"));

  s = create(one_op_graph(graph::OpKind::kConv2d, {1, 6, 6, 4}, {2, 3, 3, 2}, per_channel,
                          {1, 6, 6, 2}));
  EXPECT_THAT(s.message(), HasSubstr("grouped hybrid convolution is not supported"));

  s = create(one_op_graph(graph::OpKind::kDepthwiseConv2d, {1, 6, 6, 2}, {1, 3, 3, 2},
                          testing::per_tensor(0.1f, 0), {1, 6, 6, 2}));
  EXPECT_THAT(s.message(), HasSubstr("needs one filter scale per channel"));

  s = create(one_op_graph(graph::OpKind::kFullyConnected, {1, 4}, {2, 4},
                          testing::per_tensor(0.1f, 3), {1, 2}));
  EXPECT_THAT(s.message(), HasSubstr("zero point 3 is not 0"));
}

// FULLY_CONNECTED: each row quantized on its own; symmetric or asymmetric by the option.
std::vector<float> expected_fc(const std::vector<float>& x, int rows, int depth,
                               const std::vector<int8_t>& w, int units,
                               const std::vector<float>& scales, const std::vector<float>& bias,
                               bool asym) {
  std::vector<float> out(static_cast<size_t>(rows) * units);
  std::vector<int8_t> q(depth);
  for (int r = 0; r < rows; ++r) {
    const InputQuantization p = asym ? quantize_input_asymmetric(&x[r * depth], depth, q.data())
                                     : quantize_input_symmetric(&x[r * depth], depth, q.data());
    for (int u = 0; u < units; ++u) {
      int32_t acc = 0;
      for (int k = 0; k < depth; ++k) acc += (q[k] - p.offset) * w[u * depth + k];
      const float s = scales.size() == 1 ? scales[0] : scales[u];
      out[r * units + u] = bias[u] + static_cast<float>(acc) * (p.scale * s);
    }
  }
  return out;
}

TEST(HybridFullyConnected, MatchesTfliteArithmeticSymmetricAndAsymmetric) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 2.0f);
  std::uniform_int_distribution<int> wq(-127, 127);
  for (bool asym : {false, true})
    for (bool per_channel : {false, true})
      for (int depth : {1, 7, 16, 33}) {
        const int rows = 3, units = 5;
        std::vector<float> x(rows * depth), bias(units);
        for (auto& v : x) v = u(rng);
        for (auto& v : bias) v = u(rng);
        std::fill(x.begin(), x.begin() + depth, 0.0f);  // an all-zero row
        std::vector<int8_t> w(units * depth);
        for (auto& v : w) v = static_cast<int8_t>(wq(rng));
        QuantParams q;
        q.scale = per_channel ? std::vector<float>{0.01f, 0.02f, 0.03f, 0.015f, 0.005f}
                              : std::vector<float>{0.02f};
        q.zero_point.assign(q.scale.size(), 0);
        GraphBuilder g;
        const int32_t in = g.input(F32, {rows, depth});
        const int32_t wt = g.constant(I8, {units, depth}, w, q);
        const int32_t b = g.constant(F32, {units}, bias);
        const int32_t out = g.tensor(F32, {rows, units});
        graph::OpAttrs a;
        a.asymmetric_quantize_inputs = asym;
        g.op(graph::OpKind::kFullyConnected, {in, wt, b}, {out}, a);
        g.output(out);
        auto r = run_graph(g.shared(), {to_bytes(x)});
        ASSERT_TRUE(r.ok()) << r.status().message();
        EXPECT_EQ(values_of<float>((*r)->output(0)),
                  expected_fc(x, rows, depth, w, units, q.scale, bias, asym))
            << "asym " << asym << " per_channel " << per_channel << " depth " << depth;
      }
}

TEST(HybridFullyConnected, KeepNumDimsAndReluApply) {
  GraphBuilder g;
  const int32_t in = g.input(F32, {1, 2, 2});
  const int32_t w = g.constant(I8, {1, 2}, std::vector<int8_t>{127, -127}, testing::per_tensor(1.0f / 127, 0));
  const int32_t out = g.tensor(F32, {1, 2, 1});
  graph::OpAttrs a;
  a.keep_num_dims = true;
  a.activation = graph::Activation::kRelu;
  g.op(graph::OpKind::kFullyConnected, {in, w, -1}, {out}, a);
  g.output(out);
  // rows (1, 0) and (0, 1): 1 and -1 -> relu 0 (symmetric: q = 127 exactly)
  auto r = run_graph(g.shared(), {to_bytes(std::vector<float>{1.0f, 0.0f, 0.0f, 1.0f})});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)->output(0).shape, (Shape{1, 2, 1}));
  const auto v = values_of<float>((*r)->output(0));
  EXPECT_NEAR(v[0], 1.0f, 1e-6f);
  EXPECT_EQ(v[1], 0.0f);
}

}  // namespace
}  // namespace qdet::rt
