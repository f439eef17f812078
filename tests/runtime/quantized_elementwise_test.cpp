// ADD, SUB, MUL, DIV, LOGISTIC, TANH, SOFTMAX, CONCATENATION, RSQRT and QUANTIZE (requantization) quantized
// kernels: hand-derived exact values, then random tensors against a float model of the op on
// dequantized values (within one step: each kernel's integer path rounds at most twice, with
// intermediate precision of at least 2^-20 of a step).
#include <gtest/gtest.h>

#include <set>

#include <cmath>
#include <random>

#include "kernel_test_support.h"

namespace qdet::rt {
namespace {

using testing::KernelHarness;
using testing::per_tensor;
using testing::random_values;

// Numpy-style broadcast index of output element `o` into an input of shape `in`.
int64_t broadcast_index(const Shape& out, const Shape& in, int64_t o) {
  int64_t idx = 0, stride = 1;
  for (int d = static_cast<int>(out.size()) - 1; d >= 0; --d) {
    const int64_t coord = o % out[static_cast<size_t>(d)];
    o /= out[static_cast<size_t>(d)];
    const int id = d - static_cast<int>(out.size() - in.size());
    if (id < 0) continue;
    const int32_t dim = in[static_cast<size_t>(id)];
    if (dim != 1) idx += coord * stride;
    stride *= dim;
  }
  return idx;
}

TEST(QuantizedAdd, Int8ByHand) {
  // s = 0.5 for both inputs, output s = 1: 1.5 + 2.0 = 3.5 -> 4; -3.5 -> -4 (the final
  // RoundingDivideByPOT rounds half away from zero); 0.5 + 0 = 0.5 -> 1.
  KernelHarness h(graph::OpKind::kAdd);
  h.add_input<int8_t>({3}, {3, -3, 1}, per_tensor(0.5f, 0));
  h.add_input<int8_t>({3}, {4, -4, 0}, per_tensor(0.5f, 0));
  h.add_output(DType::kInt8, per_tensor(1.0f, 0));
  h.run();
  EXPECT_EQ(h.output<int8_t>(), (std::vector<int8_t>{4, -4, 1}));
}

TEST(QuantizedSub, Uint8WithReluByHand) {
  // in1 s=1 z=10, in2 s=1 z=20, out s=0.5 z=5, RELU: (15-10) - (22-20) = 3 -> 6 + 5 = 11;
  // (10-10) - (30-20) = -10 -> -20 + 5 -> clamped to the RELU floor 5.
  KernelHarness h(graph::OpKind::kSub);
  h.op.attrs.activation = graph::Activation::kRelu;
  h.add_input<uint8_t>({2}, {15, 10}, per_tensor(1.0f, 10));
  h.add_input<uint8_t>({2}, {22, 30}, per_tensor(1.0f, 20));
  h.add_output(DType::kUInt8, per_tensor(0.5f, 5));
  h.run();
  EXPECT_EQ(h.output<uint8_t>(), (std::vector<uint8_t>{11, 5}));
}

TEST(QuantizedMul, Int8ByHand) {
  // s1 = 0.5, s2 = 0.25, out s = 0.125: M = 1 exactly. (4 - 0) * (6 - 2) = 16 -> 16 + (-3).
  KernelHarness h(graph::OpKind::kMul);
  h.add_input<int8_t>({1}, {4}, per_tensor(0.5f, 0));
  h.add_input<int8_t>({1}, {6}, per_tensor(0.25f, 2));
  h.add_output(DType::kInt8, per_tensor(0.125f, -3));
  h.run();
  EXPECT_EQ(h.output<int8_t>(), (std::vector<int8_t>{13}));
}

TEST(QuantizedBinary, RejectsShapesThatDoNotBroadcast) {
  KernelHarness h(graph::OpKind::kAdd);
  h.add_input<int8_t>({2, 3}, std::vector<int8_t>(6), per_tensor(1.0f, 0));
  h.add_input<int8_t>({2}, std::vector<int8_t>(2), per_tensor(1.0f, 0));
  h.add_output(DType::kInt8, per_tensor(1.0f, 0));
  EXPECT_EQ(h.prepare().message(), "ADD: shapes [2,3] and [2] do not broadcast");
}

TEST(QuantizedBinary, Int16PowerOfTwoPathIsUnsupported) {
  KernelHarness h(graph::OpKind::kAdd);  // pot_scale_int16 defaults to true, as in TFLite
  h.add_input<int16_t>({1}, {1}, per_tensor(0.5f, 0));
  h.add_input<int16_t>({1}, {1}, per_tensor(0.25f, 0));
  h.add_output(DType::kInt16, per_tensor(1.0f, 0));
  EXPECT_EQ(h.prepare().code(), StatusCode::kUnsupported);
  h.op.attrs.pot_scale_int16 = false;  // the general-scale path (what 16x8 converters write)
  EXPECT_TRUE(h.prepare().ok());
}

TEST(QuantizedBinary, FloatIsLeftToTheFloatKernel) {
  KernelHarness h(graph::OpKind::kMul);
  h.add_input<float>({1}, {1.0f});
  h.add_input<float>({1}, {1.0f});
  h.add_output(DType::kFloat32, {});
  EXPECT_EQ(h.prepare().code(), StatusCode::kUnsupported);
}

enum class BinOp { kAdd, kSub, kMul };

template <typename T>
void run_binary_case(BinOp bop, const Shape& a_shape, const Shape& b_shape, uint32_t seed) {
  const char* names[] = {"ADD", "SUB", "MUL"};
  SCOPED_TRACE(fmt::format("{} {} {} {} seed={}", names[static_cast<int>(bop)], dtype_name(kDTypeOf<T>),
                           shape_to_string(a_shape), shape_to_string(b_shape), seed));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  const bool is16 = std::is_same_v<T, int16_t>;
  const int32_t qmin = std::numeric_limits<T>::min(), qmax = std::numeric_limits<T>::max();
  auto zp = [&] { return is16 ? 0 : static_cast<int32_t>(qmin + 60 + rng() % 130); };
  const float s1 = (is16 ? 0.0005f : 0.02f) * (0.5f + u(rng));
  const float s2 = (is16 ? 0.0005f : 0.02f) * (0.5f + 2 * u(rng));
  const int32_t z1 = zp(), z2 = zp(), zo = zp();
  float so = bop == BinOp::kMul ? s1 * s2 * (is16 ? 5000.0f : 60.0f) : (s1 + s2) * 1.1f;
  const auto a = random_values<T>(rng, num_elements(a_shape));
  const auto b = random_values<T>(rng, num_elements(b_shape));

  const graph::OpKind kind = bop == BinOp::kAdd   ? graph::OpKind::kAdd
                             : bop == BinOp::kSub ? graph::OpKind::kSub
                                                  : graph::OpKind::kMul;
  KernelHarness h(kind);
  h.op.attrs.pot_scale_int16 = false;
  h.op.attrs.activation = seed % 2 ? graph::Activation::kRelu6 : graph::Activation::kNone;
  h.add_input<T>(a_shape, a, per_tensor(s1, z1));
  h.add_input<T>(b_shape, b, per_tensor(s2, z2));
  h.add_output(kDTypeOf<T>, per_tensor(so, zo));
  h.run();
  const Shape out_shape = h.output_shape();
  const auto got = h.output<T>();
  auto range = activation_range_quantized(h.op.attrs.activation, kDTypeOf<T>, so, zo);
  ASSERT_TRUE(range.ok());
  int64_t exact = 0;
  for (int64_t o = 0; o < static_cast<int64_t>(got.size()); ++o) {
    const double x1 = double{s1} * (a[static_cast<size_t>(broadcast_index(out_shape, a_shape, o))] - z1);
    const double x2 = double{s2} * (b[static_cast<size_t>(broadcast_index(out_shape, b_shape, o))] - z2);
    const double real = bop == BinOp::kAdd ? x1 + x2 : bop == BinOp::kSub ? x1 - x2 : x1 * x2;
    const int32_t expect =
        std::clamp(testing::quantize_double(real, so, zo, qmin, qmax), range->min, range->max);
    ASSERT_LE(std::abs(static_cast<int32_t>(got[static_cast<size_t>(o)]) - expect), 1)
        << "element " << o << " real " << real;
    exact += got[static_cast<size_t>(o)] == expect;
  }
  EXPECT_GE(static_cast<double>(exact) / static_cast<double>(got.size()), 0.9);
}

TEST(QuantizedBinary, RandomAgainstFloatModel) {
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{1, 7}, {1, 7}},           {{2, 3, 8}, {2, 3, 8}},    {{2, 4, 9}, {9}},
      {{1, 16}, {1}},             {{3, 1, 17}, {1, 5, 17}},  {{1}, {2, 2, 2, 2, 3}},
      {{2, 1, 3, 1, 2, 2}, {1, 4, 1, 3, 1, 2}}};
  uint32_t seed = 1;
  for (const auto& [a, b] : shapes)
    for (BinOp op : {BinOp::kAdd, BinOp::kSub, BinOp::kMul}) {
      run_binary_case<int8_t>(op, a, b, seed++);
      run_binary_case<uint8_t>(op, a, b, seed++);
      run_binary_case<int16_t>(op, a, b, seed++);
    }
}

TEST(QuantizedBinary, BroadcastOutputShape) {
  KernelHarness h(graph::OpKind::kAdd);
  h.add_input<uint8_t>({3, 1, 2}, std::vector<uint8_t>(6, 1), per_tensor(1.0f, 0));
  h.add_input<uint8_t>({4, 1}, {1, 2, 3, 4}, per_tensor(1.0f, 0));
  h.add_output(DType::kUInt8, per_tensor(1.0f, 0));
  h.run();
  EXPECT_EQ(h.output_shape(), (Shape{3, 4, 2}));
  const auto v = h.output<uint8_t>();
  EXPECT_EQ(v[0], 2);
  EXPECT_EQ(v[7], 5);   // [0,3,1]
  EXPECT_EQ(v[23], 5);  // [2,3,1]
}

// ------------------------------------------------------------------------------------------

TEST(QuantizedLogistic, FixedOutputParamsByHand) {
  // int8: s_in 0.1, z_in 0. q 0 -> sigmoid(0) = 0.5 -> 128 steps of 1/256 -> -128 + 128 = 0.
  // q 127 -> sigmoid(12.7) * 256 = 255.9992 -> 256 -> 128 -> clamped to 127. q -128 -> -128.
  KernelHarness h(graph::OpKind::kLogistic);
  h.add_input<int8_t>({3}, {0, 127, -128}, per_tensor(0.1f, 0));
  h.add_output(DType::kInt8, per_tensor(1.0f / 256, -128));
  h.run();
  EXPECT_EQ(h.output<int8_t>(), (std::vector<int8_t>{0, 127, -128}));
  // uint8: z_in 128 -> 0.5 -> 128 (z_out 0); q 138 -> sigmoid(1) * 256 = 187.14 -> 187.
  KernelHarness u(graph::OpKind::kLogistic);
  u.add_input<uint8_t>({2}, {128, 138}, per_tensor(0.1f, 128));
  u.add_output(DType::kUInt8, per_tensor(1.0f / 256, 0));
  u.run();
  EXPECT_EQ(u.output<uint8_t>(), (std::vector<uint8_t>{128, 187}));
}

TEST(QuantizedLogistic, RequiresOutputScaleOneOver256) {
  KernelHarness h(graph::OpKind::kLogistic);
  h.add_input<int8_t>({1}, {0}, per_tensor(0.1f, 0));
  h.add_output(DType::kInt8, per_tensor(1.0f / 255, -128));
  const Status s = h.prepare();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message().rfind("LOGISTIC: output scale must be 1/256", 0), 0u) << s.message();
}

template <typename T>
void check_table_op(graph::OpKind kind, double (*f)(double), float out_scale, int32_t out_zp,
                    uint32_t seed) {
  std::mt19937 rng(seed);
  const float in_scale = 0.01f + 0.1f * std::uniform_real_distribution<float>(0, 1)(rng);
  const int32_t in_zp = static_cast<int32_t>(std::numeric_limits<T>::min()) + 30 +
                        static_cast<int32_t>(rng() % 200);
  std::vector<T> all;
  for (int32_t v = std::numeric_limits<T>::min(); v <= std::numeric_limits<T>::max(); ++v)
    all.push_back(static_cast<T>(v));
  KernelHarness h(kind);
  h.add_input<T>({16, 16}, all, per_tensor(in_scale, in_zp));
  h.add_output(kDTypeOf<T>, per_tensor(out_scale, out_zp));
  h.run();
  const auto got = h.output<T>();
  for (size_t i = 0; i < all.size(); ++i) {
    const double y = f(double{in_scale} * (all[i] - in_zp));
    const int32_t expect = testing::quantize_double(y, out_scale, out_zp, std::numeric_limits<T>::min(),
                                                    std::numeric_limits<T>::max());
    // The table is computed in float (expf, tanhf): it may differ from double only where
    // y / s_out lies within float rounding of a .5 tie.
    ASSERT_LE(std::abs(static_cast<int32_t>(got[i]) - expect), 1) << "q=" << int{all[i]};
    if (std::abs(std::abs(std::fmod(y / out_scale, 1.0)) - 0.5) > 1e-3) {
      ASSERT_EQ(static_cast<int32_t>(got[i]), expect) << "q=" << int{all[i]};
    }
  }
}

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double tanh_d(double x) { return std::tanh(x); }

TEST(QuantizedLogistic, EveryInputAgainstDouble) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    check_table_op<int8_t>(graph::OpKind::kLogistic, sigmoid, 1.0f / 256, -128, seed);
    check_table_op<uint8_t>(graph::OpKind::kLogistic, sigmoid, 1.0f / 256, 0, seed);
  }
}

TEST(QuantizedTanh, EveryInputAgainstDouble) {
  for (uint32_t seed : {4u, 5u}) {
    check_table_op<int8_t>(graph::OpKind::kTanh, tanh_d, 1.0f / 128, 0, seed);
    check_table_op<uint8_t>(graph::OpKind::kTanh, tanh_d, 1.0f / 128, 128, seed);
  }
}

// ------------------------------------------------------------------------------------------

TEST(QuantizedSoftmax, ByHand) {
  // uint8, s_in 1: row [7, 7] -> 0.5 each -> 128 (s_out 1/256, z 0); row [255, 0] -> 1.0 ->
  // 256 -> clamped 255, and e^-255 -> 0.
  KernelHarness h(graph::OpKind::kSoftmax);
  h.add_input<uint8_t>({2, 2}, {7, 7, 255, 0}, per_tensor(1.0f, 0));
  h.add_output(DType::kUInt8, per_tensor(1.0f / 256, 0));
  h.run();
  EXPECT_EQ(h.output<uint8_t>(), (std::vector<uint8_t>{128, 128, 255, 0}));
}

template <typename T>
void check_softmax(int32_t rows, int32_t depth, float beta, uint32_t seed) {
  SCOPED_TRACE(fmt::format("{} rows={} depth={} beta={}", dtype_name(kDTypeOf<T>), rows, depth, beta));
  std::mt19937 rng(seed);
  const float in_scale = 0.05f + 0.1f * std::uniform_real_distribution<float>(0, 1)(rng);
  const int32_t zin = std::is_same_v<T, int8_t> ? 5 : 120;
  const int32_t zout = std::is_same_v<T, int8_t> ? -128 : 0;
  const auto x = random_values<T>(rng, int64_t{rows} * depth);
  KernelHarness h(graph::OpKind::kSoftmax);
  h.op.attrs.beta = beta;
  h.add_input<T>({rows, depth}, x, per_tensor(in_scale, zin));
  h.add_output(kDTypeOf<T>, per_tensor(1.0f / 256, zout));
  h.run();
  const auto got = h.output<T>();
  for (int r = 0; r < rows; ++r) {
    double sum = 0;
    for (int j = 0; j < depth; ++j) sum += std::exp(double{beta} * in_scale * (x[r * depth + j] - zin));
    for (int j = 0; j < depth; ++j) {
      const double p = std::exp(double{beta} * in_scale * (x[r * depth + j] - zin)) / sum;
      const int32_t expect = testing::quantize_double(p, 1.0 / 256, zout, std::numeric_limits<T>::min(),
                                                      std::numeric_limits<T>::max());
      ASSERT_LE(std::abs(static_cast<int32_t>(got[r * depth + j]) - expect), 1) << r << "," << j;
    }
  }
}

TEST(QuantizedSoftmax, RandomAgainstDouble) {
  for (int32_t depth : {1, 7, 8, 9, 16, 17, 91}) {
    check_softmax<int8_t>(3, depth, 1.0f, depth);
    check_softmax<uint8_t>(3, depth, 0.5f, depth + 1);
  }
}

// ------------------------------------------------------------------------------------------

TEST(QuantizedConcatenation, RequantizesInputsByHand) {
  // Output s=1 z=0. Input 0 s=0.5 z=10: q 12 -> 1.0 -> 1, q 13 -> 1.5 -> 2 (round half away),
  // q 9 -> -0.5 -> -1 -> clamped to 0. Input 1 already has the output's params: copied.
  KernelHarness h(graph::OpKind::kConcatenation);
  h.op.attrs.axis = -1;
  h.add_input<uint8_t>({1, 3}, {12, 13, 9}, per_tensor(0.5f, 10));
  h.add_input<uint8_t>({1, 2}, {200, 7}, per_tensor(1.0f, 0));
  h.add_output(DType::kUInt8, per_tensor(1.0f, 0));
  h.run();
  EXPECT_EQ(h.output_shape(), (Shape{1, 5}));
  EXPECT_EQ(h.output<uint8_t>(), (std::vector<uint8_t>{1, 2, 0, 200, 7}));
}

// Every byte value of a requantized 8-bit input (the kernel looks them up in a table made at
// prepare): the documented float formula's result, exactly.
TEST(QuantizedConcatenation, EveryByteValueFollowsTheFormula) {
  std::vector<uint8_t> all(256);
  for (int v = 0; v < 256; ++v) all[static_cast<size_t>(v)] = static_cast<uint8_t>(v);
  for (const bool is_signed : {false, true}) {
    KernelHarness h(graph::OpKind::kConcatenation);
    h.op.attrs.axis = -1;
    const float s_in = 0.0731f, s_out = 0.0517f;
    const int32_t z_in = is_signed ? -9 : 131, z_out = is_signed ? 4 : 117;
    if (is_signed) {
      std::vector<int8_t> signed_all(all.begin(), all.end());
      h.add_input<int8_t>({1, 256}, signed_all, per_tensor(s_in, z_in));
      h.add_input<int8_t>({1, 1}, {7}, per_tensor(s_out, z_out));
      h.add_output(DType::kInt8, per_tensor(s_out, z_out));
    } else {
      h.add_input<uint8_t>({1, 256}, all, per_tensor(s_in, z_in));
      h.add_input<uint8_t>({1, 1}, {7}, per_tensor(s_out, z_out));
      h.add_output(DType::kUInt8, per_tensor(s_out, z_out));
    }
    h.run();
    const float scale = s_in * (1.f / s_out);
    const float bias = static_cast<float>(-z_in) * scale;
    const auto got = h.output<uint8_t>();
    ASSERT_EQ(got.size(), 257u);
    std::set<uint8_t> distinct;
    for (int b = 0; b < 256; ++b) {
      const int32_t q = is_signed ? static_cast<int8_t>(b) : b;
      const int32_t lo = is_signed ? -128 : 0, hi = is_signed ? 127 : 255;
      const int32_t want = std::clamp(static_cast<int32_t>(std::round(static_cast<float>(q) * scale + bias)) + z_out, lo, hi);
      const int32_t have = is_signed ? static_cast<int8_t>(got[static_cast<size_t>(b)]) : got[static_cast<size_t>(b)];
      ASSERT_EQ(have, want) << (is_signed ? "int8 " : "uint8 ") << q;
      distinct.insert(got[static_cast<size_t>(b)]);
    }
    EXPECT_GT(distinct.size(), 150u);
    EXPECT_EQ(got[256], 7);  // the output's own parameters: copied
  }
}

TEST(QuantizedConcatenation, MiddleAxisRandomAgainstFloat) {
  std::mt19937 rng(11);
  const std::vector<Shape> shapes = {{2, 3, 4}, {2, 1, 4}, {2, 5, 4}};
  const std::vector<float> scales = {0.1f, 0.037f, 0.2f};
  const std::vector<int32_t> zps = {-3, 40, -128};
  KernelHarness h(graph::OpKind::kConcatenation);
  h.op.attrs.axis = 1;
  std::vector<std::vector<int8_t>> data;
  for (size_t i = 0; i < shapes.size(); ++i) {
    data.push_back(random_values<int8_t>(rng, num_elements(shapes[i])));
    h.add_input<int8_t>(shapes[i], data.back(), per_tensor(scales[i], zps[i]));
  }
  h.add_output(DType::kInt8, per_tensor(0.1f, -3));
  h.run();
  ASSERT_EQ(h.output_shape(), (Shape{2, 9, 4}));
  const auto got = h.output<int8_t>();
  int64_t o = 0;
  for (int b = 0; b < 2; ++b)
    for (size_t i = 0; i < shapes.size(); ++i)
      for (int k = 0; k < shapes[i][1] * 4; ++k, ++o) {
        const int8_t q = data[i][static_cast<size_t>(b * shapes[i][1] * 4 + k)];
        const double real = double{scales[i]} * (q - zps[i]);
        const int32_t expect = testing::quantize_double(real, 0.1f, -3, -128, 127);
        if (i == 0)
          ASSERT_EQ(got[static_cast<size_t>(o)], q);  // same params: copied
        else
          ASSERT_LE(std::abs(got[static_cast<size_t>(o)] - expect), 1) << "input " << i;
      }
}

TEST(QuantizedConcatenation, RejectsMismatchedShapes) {
  KernelHarness h(graph::OpKind::kConcatenation);
  h.op.attrs.axis = 0;
  h.add_input<uint8_t>({1, 3}, {1, 2, 3}, per_tensor(1.0f, 0));
  h.add_input<uint8_t>({1, 2}, {1, 2}, per_tensor(1.0f, 0));
  h.add_output(DType::kUInt8, per_tensor(1.0f, 0));
  EXPECT_EQ(h.prepare().message(),
            "CONCATENATION input 1: shape [1,2] differs from [1,3] outside axis 0");
}

// ------------------------------------------------------------------------------------------

TEST(QuantizedRequantize, Int8ToUint8IsATopBitFlip) {
  std::vector<int8_t> all;
  for (int v = -128; v <= 127; ++v) all.push_back(static_cast<int8_t>(v));
  KernelHarness h(graph::OpKind::kQuantize);
  h.add_input<int8_t>({256}, all, per_tensor(0.0123f, -5));
  h.add_output(DType::kUInt8, per_tensor(0.0123f, 123));
  h.run();
  const auto got = h.output<uint8_t>();
  for (size_t i = 0; i < all.size(); ++i)
    ASSERT_EQ(got[i], static_cast<uint8_t>(static_cast<uint8_t>(all[i]) ^ 0x80)) << i;
}

TEST(QuantizedRequantize, ScalesByHandAndAgainstFloat) {
  // s 0.5 -> 0.25: q 3 (1.5) -> 6; M = 2 exactly. Then a random ratio within one step.
  KernelHarness h(graph::OpKind::kQuantize);
  h.add_input<int8_t>({3}, {3, -3, 100}, per_tensor(0.5f, 0));
  h.add_output(DType::kInt8, per_tensor(0.25f, 0));
  h.run();
  EXPECT_EQ(h.output<int8_t>(), (std::vector<int8_t>{6, -6, 127}));

  std::mt19937 rng(2);
  const auto x = random_values<uint8_t>(rng, 500);
  KernelHarness r(graph::OpKind::kQuantize);
  r.add_input<uint8_t>({500}, x, per_tensor(0.0371f, 131));
  r.add_output(DType::kInt8, per_tensor(0.0213f, 7));
  r.run();
  const auto got = r.output<int8_t>();
  for (size_t i = 0; i < x.size(); ++i) {
    const int32_t expect = testing::quantize_double(0.0371 * (x[i] - 131), 0.0213f, 7, -128, 127);
    ASSERT_LE(std::abs(got[i] - expect), 1) << i;
  }
}

TEST(QuantizedRequantize, FloatInputIsLeftToTheFloatKernel) {
  KernelHarness h(graph::OpKind::kQuantize);
  h.add_input<float>({1}, {1.0f});
  h.add_output(DType::kInt8, per_tensor(1.0f, 0));
  EXPECT_EQ(h.prepare().code(), StatusCode::kUnsupported);
}

TEST(QuantizedRsqrt, Int8AgainstFloatAndRejectsNegativeValues) {
  // s_in 0.05, z_in -128: v = q + 128 >= 0; 1/sqrt(0.05 v) within one step of the float
  // quantization (TFLite's fixed point carries about 20 fraction bits); v = 0 gives 127.
  std::vector<int8_t> x;
  for (int q = -128; q <= 127; ++q) x.push_back(static_cast<int8_t>(q));
  KernelHarness h(graph::OpKind::kRsqrt);
  h.add_input<int8_t>({256}, x, per_tensor(0.05f, -128));
  h.add_output(DType::kInt8, per_tensor(0.02f, -100));
  h.run();
  const auto got = h.output<int8_t>();
  EXPECT_EQ(got[0], 127);
  for (size_t i = 1; i < x.size(); ++i) {
    const int32_t expect = testing::quantize_double(1.0 / std::sqrt(0.05 * (x[i] + 128)), 0.02f, -100, -128, 127);
    ASSERT_LE(std::abs(got[i] - expect), 1) << i;
  }

  KernelHarness negative(graph::OpKind::kRsqrt);
  negative.add_input<int8_t>({2}, {5, -1}, per_tensor(0.05f, 0));
  negative.add_output(DType::kInt8, per_tensor(0.02f, 0));
  ASSERT_TRUE(negative.prepare().ok());
  EXPECT_EQ(negative.eval().message(),
            "RSQRT: input -1 is below the zero point 0: RSQRT is only defined for values >= 0");
}

TEST(QuantizedDiv, Uint8ByHandAndAgainstFloat) {
  // s = 0.5 both, out s = 0.25 z = 10: 3 / 1.5 = 2 -> 8 + 10; -3 / 1.5 = -2 -> -8 + 10.
  KernelHarness h(graph::OpKind::kDiv);
  h.add_input<uint8_t>({2}, {106, 94}, per_tensor(0.5f, 100));
  h.add_input<uint8_t>({2}, {103, 103}, per_tensor(0.5f, 100));
  h.add_output(DType::kUInt8, per_tensor(0.25f, 10));
  h.run();
  EXPECT_EQ(h.output<uint8_t>(), (std::vector<uint8_t>{18, 2}));

  // Random values against the float quotient, within one step, for numerators |q1 - z1| >= 16:
  // the last rounding's exponent then stays within [0, 31].
  std::mt19937 rng(3);
  auto a = random_values<uint8_t>(rng, 400), b = random_values<uint8_t>(rng, 400);
  for (auto& v : a)
    if (std::abs(v - 128) < 16) v = static_cast<uint8_t>(v < 128 ? 112 : 144);
  for (auto& v : b)
    if (v == 128) v = 129;  // no division by zero
  KernelHarness r(graph::OpKind::kDiv);
  r.add_input<uint8_t>({400}, a, per_tensor(0.05f, 128));
  r.add_input<uint8_t>({400}, b, per_tensor(0.07f, 128));
  r.add_output(DType::kUInt8, per_tensor(0.1f, 120));
  r.run();
  const auto got = r.output<uint8_t>();
  for (size_t i = 0; i < a.size(); ++i) {
    const double q = (0.05 * (a[i] - 128)) / (0.07 * (b[i] - 128));
    ASSERT_LE(std::abs(got[i] - testing::quantize_double(q, 0.1f, 120, 0, 255)), 1)
        << i << ": " << int(a[i]) << " / " << int(b[i]);
  }
}

TEST(QuantizedDiv, SmallNumeratorsGiveTflitesBytes) {
  // 0.1 / -7.63 is -0.013, i.e. the zero point 120; TFLite's last rounding then has an exponent
  // of 33 (headroom 30 + reciprocal exponent 6 - output shift 3), which its int32 arithmetic
  // takes modulo 32: it writes 0. qdet writes the same (the DIV_every_pair conformance rows
  // compare all 65536 pairs of values with the WebAssembly TFLite).
  KernelHarness h(graph::OpKind::kDiv);
  h.add_input<uint8_t>({1}, {130}, per_tensor(0.05f, 128));
  h.add_input<uint8_t>({1}, {19}, per_tensor(0.07f, 128));
  h.add_output(DType::kUInt8, per_tensor(0.1f, 120));
  h.run();
  EXPECT_EQ(h.output<uint8_t>(), (std::vector<uint8_t>{0}));
}

TEST(QuantizedDiv, Int8IsNotATfliteKernel) {
  KernelHarness h(graph::OpKind::kDiv);
  h.add_input<int8_t>({1}, {1}, per_tensor(0.5f, 0));
  h.add_input<int8_t>({1}, {1}, per_tensor(0.5f, 0));
  h.add_output(DType::kInt8, per_tensor(0.5f, 0));
  EXPECT_EQ(h.prepare().code(), StatusCode::kUnsupported);
}

}  // namespace
}  // namespace qdet::rt
