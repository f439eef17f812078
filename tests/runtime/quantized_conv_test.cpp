// CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED quantized kernels: hand-derived exact values,
// then seeded random shapes around SIMD widths against (a) an independent naive integer model
// of TFLite's arithmetic (exact) and (b) dequantize -> float conv -> quantize (within one step:
// the kernel rounds acc * M twice, each rounding contributing at most half a step, and M
// differs from the real multiplier by < 2^-31 relative, so |kernel - float| <= 1).
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "kernel_test_support.h"

namespace qdet::rt {
namespace {

using testing::KernelHarness;
using testing::per_channel;
using testing::per_tensor;
using testing::random_values;

TEST(QuantizedConv2d, Uint8OneByOneByHand) {
  // input s=0.5 z=128, weights s=0.25 z=128, bias s=0.125, output s=1 z=100: M = 0.125 exactly.
  // q_in 130 (1.0), q_w 132 (1.0), bias 8 (1.0): acc = 4*2 + 8 = 16 -> 16/8 = 2 -> 102.
  // q_in 118 (-5.0): acc = 4*-10 + 8 = -32 -> -4 -> 96.   q_in 133: acc = 20+8 = 28 -> 3.5 -> 4.
  KernelHarness h(graph::OpKind::kConv2d);
  h.add_input<uint8_t>({1, 1, 3, 1}, {130, 118, 133}, per_tensor(0.5f, 128));
  h.add_input<uint8_t>({1, 1, 1, 1}, {132}, per_tensor(0.25f, 128), true);
  h.add_input<int32_t>({1}, {8}, per_tensor(0.125f, 0), true);
  h.add_output(DType::kUInt8, per_tensor(1.0f, 100));
  h.run();
  EXPECT_EQ(h.output_shape(), (Shape{1, 1, 3, 1}));
  EXPECT_EQ(h.output<uint8_t>(), (std::vector<uint8_t>{102, 96, 104}));
}

TEST(QuantizedConv2d, Int8PerChannelSamePaddingByHand) {
  // 3x3 input of ones (q = 1 with z = 0, s = 1), 3x3 filter of ones, two output channels with
  // weight scales 1 and 0.5, output s = 1 z = -5, SAME: the corner sees 4 taps, the edge 6,
  // the centre 9. Channel 1 halves them: 2, 3, 4.5 -> 5 (half away from zero).
  KernelHarness h(graph::OpKind::kConv2d);
  h.op.attrs.padding = graph::Padding::kSame;
  h.add_input<int8_t>({1, 3, 3, 1}, std::vector<int8_t>(9, 1), per_tensor(1.0f, 0));
  h.add_input<int8_t>({2, 3, 3, 1}, std::vector<int8_t>(18, 1), per_channel({1.0f, 0.5f}, 0),
                      true);
  h.add_output(DType::kInt8, per_tensor(1.0f, -5));
  h.run();
  EXPECT_EQ(h.output<int8_t>(), (std::vector<int8_t>{-1, -3, 1, -2, -1, -3, 1, -2, 4, 0,
                                                      1, -2, -1, -3, 1, -2, -1, -3}));
}

TEST(QuantizedConv2d, PaddedTapsCountAsTheZeroPoint) {
  // uint8 input zero point 200: a padded tap must contribute 0, not (0 - 200) * w.
  KernelHarness h(graph::OpKind::kConv2d);
  h.op.attrs.padding = graph::Padding::kSame;
  h.add_input<uint8_t>({1, 1, 2, 1}, {200, 201}, per_tensor(1.0f, 200));
  h.add_input<uint8_t>({1, 1, 3, 1}, {11, 11, 11}, per_tensor(1.0f, 10), true);
  h.add_output(DType::kUInt8, per_tensor(1.0f, 0));
  h.run();
  EXPECT_EQ(h.output<uint8_t>(), (std::vector<uint8_t>{1, 1}));
}

TEST(QuantizedConv2d, FloatInputIsLeftToTheFloatKernel) {
  KernelHarness h(graph::OpKind::kConv2d);
  h.add_input<float>({1, 1, 1, 1}, {1.0f});
  h.add_input<float>({1, 1, 1, 1}, {1.0f}, {}, true);
  h.add_output(DType::kFloat32, {});
  EXPECT_EQ(h.prepare().code(), StatusCode::kUnsupported);
}

TEST(QuantizedConv2d, RejectsWrongPerChannelScaleCount) {
  KernelHarness h(graph::OpKind::kConv2d);
  h.add_input<int8_t>({1, 1, 1, 1}, {1}, per_tensor(1.0f, 0));
  h.add_input<int8_t>({3, 1, 1, 1}, {1, 1, 1}, per_channel({1.0f, 1.0f}, 0), true);
  h.add_output(DType::kInt8, per_tensor(1.0f, 0));
  const Status s = h.prepare();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "CONV_2D: per-channel weights need 3 scales along dimension 0, got 2 along 0");
}

TEST(QuantizedConv2d, Int16ActivationsNeedZeroPointZero) {
  KernelHarness h(graph::OpKind::kConv2d);
  h.add_input<int16_t>({1, 1, 1, 1}, {1}, per_tensor(1.0f, 3));
  h.add_input<int8_t>({1, 1, 1, 1}, {1}, per_channel({1.0f}, 0), true);
  h.add_output(DType::kInt16, per_tensor(1.0f, 0));
  EXPECT_EQ(h.prepare().message(),
            "CONV_2D: int16 activations must have zero point 0 (input 3, output 0)");
}

// ------------------------------------------------------------------------------------------
// Random shapes against two models.

enum class Family { kUInt8, kInt8, kInt16x8 };
const char* family_name(Family f) {
  return f == Family::kUInt8 ? "uint8" : f == Family::kInt8 ? "int8" : "int16x8";
}

struct ConvCase {
  Family family;
  bool depthwise;
  int32_t channels;
  int32_t stride;
  graph::Padding padding;
  uint32_t seed;
};

std::string case_name(const ConvCase& c) {
  return fmt::format("{} {} channels={} stride={} padding={} seed={}", family_name(c.family),
                     c.depthwise ? "depthwise" : "conv", c.channels, c.stride,
                     c.padding == graph::Padding::kSame ? "SAME" : "VALID", c.seed);
}

void PrintTo(const ConvCase& c, std::ostream* os) { *os << case_name(c); }

// Naive NHWC convolution over already offset-corrected integers (exact, int64) and over reals.
struct Geometry {
  int32_t n, h, w, in_c, kh, kw, out_c, out_h, out_w, pad_h, pad_w, stride, dm;
  bool depthwise;
};

Geometry make_geometry(int32_t n, int32_t h, int32_t w, int32_t in_c, int32_t k, int32_t out_c,
                       int32_t stride, graph::Padding padding, bool depthwise) {
  Geometry g{n, h, w, in_c, k, k, out_c, 0, 0, 0, 0, stride, depthwise ? out_c / in_c : 1,
             depthwise};
  if (padding == graph::Padding::kSame) {
    g.out_h = (h + stride - 1) / stride;
    g.out_w = (w + stride - 1) / stride;
  } else {
    g.out_h = (h - k) / stride + 1;
    g.out_w = (w - k) / stride + 1;
  }
  g.pad_h = std::max(0, ((g.out_h - 1) * stride + k - h) / 2);
  g.pad_w = std::max(0, ((g.out_w - 1) * stride + k - w) / 2);
  return g;
}

// value(b, oy, ox, oc) = sum over taps of in(...) * wt(...), T is int64_t or double.
template <typename T, typename In, typename W>
std::vector<T> naive_conv(const Geometry& g, In in, W wt) {
  std::vector<T> out(static_cast<size_t>(g.n) * g.out_h * g.out_w * g.out_c, T{0});
  for (int b = 0; b < g.n; ++b)
    for (int oy = 0; oy < g.out_h; ++oy)
      for (int ox = 0; ox < g.out_w; ++ox)
        for (int oc = 0; oc < g.out_c; ++oc) {
          T acc{0};
          for (int ky = 0; ky < g.kh; ++ky)
            for (int kx = 0; kx < g.kw; ++kx) {
              const int iy = oy * g.stride - g.pad_h + ky, ix = ox * g.stride - g.pad_w + kx;
              if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
              if (g.depthwise) {
                const int ic = oc / g.dm;
                acc += in(((b * g.h + iy) * g.w + ix) * g.in_c + ic) *
                       wt((ky * g.kw + kx) * g.out_c + oc);
              } else {
                for (int ic = 0; ic < g.in_c; ++ic)
                  acc += in(((b * g.h + iy) * g.w + ix) * g.in_c + ic) *
                         wt(((oc * g.kh + ky) * g.kw + kx) * g.in_c + ic);
              }
            }
          out[static_cast<size_t>(((b * g.out_h + oy) * g.out_w + ox) * g.out_c + oc)] = acc;
        }
  return out;
}

template <typename In, typename W, typename B, typename Out>
void run_conv_case(const ConvCase& c) {
  SCOPED_TRACE(case_name(c));
  std::mt19937 rng(c.seed);
  const int32_t in_c = c.channels;
  const int32_t out_c = c.depthwise ? in_c * (c.seed % 2 + 1) : (c.seed % 3 == 0 ? 1 : 9);
  const int32_t k = 3;
  const Geometry g = make_geometry(1 + c.seed % 2, 7 + c.seed % 3, 6 + c.seed % 4, in_c, k, out_c,
                                   c.stride, c.padding, c.depthwise);
  const bool is16 = c.family == Family::kInt16x8;
  const bool isu8 = c.family == Family::kUInt8;
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  const float in_scale = 0.01f + 0.05f * unit(rng);
  const int32_t in_zp = is16 ? 0 : isu8 ? 100 + static_cast<int32_t>(rng() % 50)
                                        : -20 + static_cast<int32_t>(rng() % 40);
  const int32_t w_zp = isu8 ? 120 + static_cast<int32_t>(rng() % 16) : 0;
  std::vector<float> w_scales;
  const int n_scales = isu8 ? 1 : out_c;
  for (int i = 0; i < n_scales; ++i) w_scales.push_back(0.002f + 0.02f * unit(rng));

  const int64_t in_elems = int64_t{g.n} * g.h * g.w * in_c;
  const int64_t w_elems = c.depthwise ? int64_t{k} * k * out_c : int64_t{out_c} * k * k * in_c;
  const auto x = random_values<In>(rng, in_elems);
  const auto w = isu8 ? random_values<W>(rng, w_elems) : random_values<W>(rng, w_elems, -127, 127);
  const auto bias = random_values<B>(rng, out_c, -5000, 5000);
  auto w_scale = [&](int oc) { return w_scales[n_scales == 1 ? 0 : oc]; };

  // Exact accumulators and real outputs.
  const auto acc = naive_conv<int64_t>(
      g, [&](int i) { return int64_t{x[i]} - in_zp; }, [&](int i) { return int64_t{w[i]} - w_zp; });
  std::vector<double> real(acc.size());
  for (size_t i = 0; i < acc.size(); ++i) {
    const int oc = static_cast<int>(i % out_c);
    real[i] = (static_cast<double>(acc[i]) + static_cast<double>(bias[oc])) *
              static_cast<double>(in_scale) * static_cast<double>(w_scale(oc));
  }
  // Output params spanning ~90% of the real range, so that both ends get clamped a little.
  const auto [lo, hi] = std::minmax_element(real.begin(), real.end());
  const int32_t qmin = std::numeric_limits<Out>::min(), qmax = std::numeric_limits<Out>::max();
  const float out_scale = static_cast<float>(std::max(1e-6, (*hi - *lo) * 0.9 / (qmax - qmin)));
  const int32_t out_zp =
      is16 ? 0 : std::clamp(static_cast<int32_t>(std::lround(qmin - *lo / out_scale)), qmin, qmax);
  const graph::Activation act = c.seed % 3 == 1 ? graph::Activation::kRelu : graph::Activation::kNone;

  KernelHarness h(c.depthwise ? graph::OpKind::kDepthwiseConv2d : graph::OpKind::kConv2d);
  h.op.attrs.padding = c.padding;
  h.op.attrs.stride_h = h.op.attrs.stride_w = c.stride;
  h.op.attrs.activation = act;
  h.add_input<In>({g.n, g.h, g.w, in_c}, x, per_tensor(in_scale, in_zp));
  const QuantParams wq = isu8 ? per_tensor(w_scales[0], w_zp)
                              : per_channel(w_scales, c.depthwise ? 3 : 0);
  if (c.depthwise)
    h.add_input<W>({1, k, k, out_c}, w, wq, true);
  else
    h.add_input<W>({out_c, k, k, in_c}, w, wq, true);
  h.add_input<B>({out_c}, bias, per_tensor(1.0f, 0), true);
  h.add_output(kDTypeOf<Out>, per_tensor(out_scale, out_zp));
  h.run();
  ASSERT_EQ(h.output_shape(), (Shape{g.n, g.out_h, g.out_w, out_c}));
  const auto got = h.output<Out>();

  auto range = activation_range_quantized(act, kDTypeOf<Out>, out_scale, out_zp);
  ASSERT_TRUE(range.ok());
  int64_t exact = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const int oc = static_cast<int>(i % out_c);
    const QuantizedMultiplier m = quantize_multiplier(static_cast<double>(in_scale) *
                                                      static_cast<double>(w_scale(oc)) /
                                                      static_cast<double>(out_scale));
    // (a) independent integer model of TFLite's arithmetic: exact.
    int32_t expect;
    if constexpr (std::is_same_v<B, int64_t>)
      expect = multiply_by_quantized_multiplier(acc[i] + bias[oc], m.multiplier, m.shift);
    else
      expect = multiply_by_quantized_multiplier(static_cast<int32_t>(acc[i] + bias[oc]),
                                                m.multiplier, m.shift);
    expect = std::clamp(expect + out_zp, range->min, range->max);
    ASSERT_EQ(static_cast<int32_t>(got[i]), expect) << "element " << i;
    // (b) float model: within one step.
    const int32_t fq = std::clamp(testing::quantize_double(real[i], out_scale, out_zp, qmin, qmax),
                                  range->min, range->max);
    ASSERT_LE(std::abs(static_cast<int32_t>(got[i]) - fq), 1) << "element " << i;
    exact += static_cast<int32_t>(got[i]) == fq;
  }
  // Most elements agree exactly with the float model (off-by-one only near rounding ties, or
  // through the int16x8 path's Q15 multiplier).
  EXPECT_GE(static_cast<double>(exact) / static_cast<double>(got.size()), is16 ? 0.5 : 0.9);
}

class QuantizedConvRandom : public ::testing::TestWithParam<ConvCase> {};

TEST_P(QuantizedConvRandom, MatchesIntegerAndFloatModels) {
  const ConvCase& c = GetParam();
  switch (c.family) {
    case Family::kUInt8: run_conv_case<uint8_t, uint8_t, int32_t, uint8_t>(c); break;
    case Family::kInt8: run_conv_case<int8_t, int8_t, int32_t, int8_t>(c); break;
    case Family::kInt16x8: run_conv_case<int16_t, int8_t, int64_t, int16_t>(c); break;
  }
}

std::vector<ConvCase> all_conv_cases() {
  std::vector<ConvCase> cases;
  uint32_t seed = 1;
  for (Family f : {Family::kUInt8, Family::kInt8, Family::kInt16x8})
    for (bool dw : {false, true})
      for (int32_t ch : {1, 7, 8, 9, 16, 17})
        for (int32_t stride : {1, 2})
          for (graph::Padding p : {graph::Padding::kSame, graph::Padding::kValid})
            cases.push_back({f, dw, ch, stride, p, seed++});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Shapes, QuantizedConvRandom, ::testing::ValuesIn(all_conv_cases()),
                         [](const ::testing::TestParamInfo<ConvCase>& info) {
                           const ConvCase& c = info.param;
                           return fmt::format("{}_{}_c{}_s{}_{}", family_name(c.family),
                                              c.depthwise ? "dw" : "conv", c.channels, c.stride,
                                              c.padding == graph::Padding::kSame ? "same" : "valid");
                         });

TEST(QuantizedDepthwiseConv2d, DepthMultiplierAndDilationByHand) {
  // in_c 1, depth multiplier 2, 1x2 filter with dilation 2 over a 1x3 row, VALID: one output
  // pixel reads x[0] and x[2]. int8, all scales 1, zero points 0, bias {1, -1}.
  KernelHarness h(graph::OpKind::kDepthwiseConv2d);
  h.op.attrs.padding = graph::Padding::kValid;
  h.op.attrs.dilation_w = 2;
  h.add_input<int8_t>({1, 1, 3, 1}, {3, 100, 5}, per_tensor(1.0f, 0));
  // filter [1, 1, 2, 2]: tap 0 -> (oc0 2, oc1 -1), tap 1 -> (oc0 1, oc1 4)
  h.add_input<int8_t>({1, 1, 2, 2}, {2, -1, 1, 4}, per_channel({1.0f, 1.0f}, 3), true);
  h.add_input<int32_t>({2}, {1, -1}, per_tensor(1.0f, 0), true);
  h.add_output(DType::kInt8, per_tensor(1.0f, 0));
  h.run();
  EXPECT_EQ(h.output_shape(), (Shape{1, 1, 1, 2}));
  // oc0: 3*2 + 5*1 + 1 = 12; oc1: 3*-1 + 5*4 - 1 = 16
  EXPECT_EQ(h.output<int8_t>(), (std::vector<int8_t>{12, 16}));
}

// FULLY_CONNECTED: exact against the integer model, one step against floats.
template <typename In, typename W, typename B, typename Out>
void run_fc_case(int32_t depth, int32_t units, uint32_t seed, bool per_channel_weights) {
  SCOPED_TRACE(fmt::format("depth={} units={} seed={}", depth, units, seed));
  std::mt19937 rng(seed);
  const bool isu8 = std::is_same_v<In, uint8_t>;
  const bool is16 = std::is_same_v<In, int16_t>;
  const int32_t batches = 3;
  const float in_scale = 0.02f;
  const int32_t in_zp = is16 ? 0 : isu8 ? 130 : -7;
  const int32_t w_zp = isu8 ? 127 : 0;
  std::vector<float> ws;
  for (int u = 0; u < (per_channel_weights ? units : 1); ++u) ws.push_back(0.004f + 0.001f * u);
  const auto x = random_values<In>(rng, int64_t{batches} * depth);
  const auto w = isu8 ? random_values<W>(rng, int64_t{units} * depth)
                      : random_values<W>(rng, int64_t{units} * depth, -127, 127);
  const auto bias = random_values<B>(rng, units, -3000, 3000);
  const float out_scale = is16 ? 0.0005f : 0.05f;
  const int32_t out_zp = is16 ? 0 : isu8 ? 120 : 3;

  KernelHarness h(graph::OpKind::kFullyConnected);
  h.add_input<In>({batches, depth}, x, per_tensor(in_scale, in_zp));
  h.add_input<W>({units, depth}, w, per_channel_weights ? per_channel(ws, 0) : per_tensor(ws[0], w_zp),
                 true);
  h.add_input<B>({units}, bias, per_tensor(1.0f, 0), true);
  h.add_output(kDTypeOf<Out>, per_tensor(out_scale, out_zp));
  h.run();
  ASSERT_EQ(h.output_shape(), (Shape{batches, units}));
  const auto got = h.output<Out>();
  const int32_t qmin = std::numeric_limits<Out>::min(), qmax = std::numeric_limits<Out>::max();
  for (int b = 0; b < batches; ++b)
    for (int u = 0; u < units; ++u) {
      int64_t acc = bias[u];
      for (int k = 0; k < depth; ++k)
        acc += (int64_t{x[b * depth + k]} - in_zp) * (int64_t{w[u * depth + k]} - w_zp);
      const float s = ws[per_channel_weights ? u : 0];
      const QuantizedMultiplier m = quantize_multiplier(double{in_scale} * double{s} / double{out_scale});
      int32_t expect = is16 ? multiply_by_quantized_multiplier(acc, m.multiplier, m.shift)
                            : multiply_by_quantized_multiplier(static_cast<int32_t>(acc), m.multiplier, m.shift);
      expect = std::clamp(expect + out_zp, qmin, qmax);
      const int32_t v = got[static_cast<size_t>(b * units + u)];
      ASSERT_EQ(v, expect) << b << "," << u;
      const double real = static_cast<double>(acc) * in_scale * s;
      ASSERT_LE(std::abs(v - testing::quantize_double(real, out_scale, out_zp, qmin, qmax)), 1);
    }
}

TEST(QuantizedFullyConnected, Uint8) {
  for (int32_t depth : {1, 7, 8, 9, 16, 17, 64}) run_fc_case<uint8_t, uint8_t, int32_t, uint8_t>(depth, 5, depth, false);
}
TEST(QuantizedFullyConnected, Int8PerTensorAndPerChannel) {
  for (int32_t depth : {1, 8, 17, 33}) {
    run_fc_case<int8_t, int8_t, int32_t, int8_t>(depth, 9, depth, false);
    run_fc_case<int8_t, int8_t, int32_t, int8_t>(depth, 9, depth + 100, true);
  }
}
TEST(QuantizedFullyConnected, Int16x8) {
  for (int32_t depth : {7, 16, 40}) run_fc_case<int16_t, int8_t, int64_t, int16_t>(depth, 4, depth, true);
}

TEST(QuantizedFullyConnected, KeepNumDimsAndFlattening) {
  KernelHarness h(graph::OpKind::kFullyConnected);
  h.op.attrs.keep_num_dims = true;
  h.add_input<int8_t>({2, 3, 2}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, per_tensor(1.0f, 0));
  h.add_input<int8_t>({1, 2}, {1, -1}, per_tensor(1.0f, 0), true);
  h.add_output(DType::kInt8, per_tensor(1.0f, 0));
  h.run();
  EXPECT_EQ(h.output_shape(), (Shape{2, 3, 1}));
  EXPECT_EQ(h.output<int8_t>(), (std::vector<int8_t>{-1, -1, -1, -1, -1, -1}));

  KernelHarness flat(graph::OpKind::kFullyConnected);
  flat.add_input<int8_t>({2, 3, 2}, std::vector<int8_t>(12, 1), per_tensor(1.0f, 0));
  flat.add_input<int8_t>({1, 4}, {1, 1, 1, 1}, per_tensor(1.0f, 0), true);
  flat.add_output(DType::kInt8, per_tensor(1.0f, 0));
  flat.run();
  EXPECT_EQ(flat.output_shape(), (Shape{3, 1}));
  EXPECT_EQ(flat.output<int8_t>(), (std::vector<int8_t>{4, 4, 4}));
}

}  // namespace
}  // namespace qdet::rt
