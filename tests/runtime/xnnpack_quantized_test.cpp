// XNNPACK quantized kernels (int8 qc8/qs8, uint8 qu8) against the quantized reference kernels
// on seeded random shapes straddling SIMD widths. Tolerance: one quantization step on every
// element (XNNPACK requantizes in fp32 with one round-half-to-even, TFLite's reference in
// double-rounding fixed point; the two differ by at most one step, usually at ties). Copies
// (MAX_POOL_2D, PAD) must match byte for byte. Each case also checks that 1, 2 and 4 threads
// give identical bytes, and that XNNPACK's refusals come back as kUnsupported.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>

#include "runtime/kernels/xnnpack/kernels.h"
#include "kernel_test_support.h"

namespace qdet::rt::testing {
namespace {

using graph::Activation;
using graph::OpKind;
using graph::Padding;

// One quantization step: the documented gap between fp32 and fixed-point requantization.
constexpr int kStepTolerance = 1;

// Random integers of the dtype's range.
TestTensor random_quantized(std::mt19937& rng, DType dtype, Shape shape, QuantParams quant,
                            bool constant = false) {
  const int64_t n = ::qdet::num_elements(shape);
  if (dtype == DType::kInt8) {
    std::uniform_int_distribution<int> d(-128, 127);
    std::vector<int8_t> v(static_cast<size_t>(n));
    for (auto& x : v) x = static_cast<int8_t>(d(rng));
    return make_tensor(dtype, std::move(shape), v, std::move(quant), constant);
  }
  std::uniform_int_distribution<int> d(0, 255);
  std::vector<uint8_t> v(static_cast<size_t>(n));
  for (auto& x : v) x = static_cast<uint8_t>(d(rng));
  return make_tensor(dtype, std::move(shape), v, std::move(quant), constant);
}

TestTensor output_like(DType dtype, QuantParams quant) {
  TestTensor t;
  t.dtype = dtype;
  t.quant = std::move(quant);
  return t;
}

int64_t random_zero_point(std::mt19937& rng, DType dtype, int spread = 40) {
  std::uniform_int_distribution<int> d(-spread, spread);
  return (dtype == DType::kInt8 ? 0 : 128) + d(rng);
}

int32_t element(const std::vector<uint8_t>& bytes, DType dtype, size_t i) {
  return dtype == DType::kInt8 ? int32_t{static_cast<int8_t>(bytes[i])} : int32_t{bytes[i]};
}

// The fast kernel against the reference (within `tolerance` steps everywhere) and against
// itself with 2 and 4 threads (identical bytes).
void expect_quantized_match(const Kernel& fast, OpKind kind, const graph::Op& op,
                            const std::vector<const TestTensor*>& inputs, const TestTensor& out,
                            const std::string& what, int tolerance = kStepTolerance,
                            bool check_threads = true, double max_differing = 0.25) {
  const KernelOutput expected = run_reference(kind, op, inputs, out);
  ASSERT_TRUE(expected.prepare_status.ok())
      << what << ": reference prepare: " << expected.prepare_status.message();
  ASSERT_TRUE(expected.eval_status.ok()) << what << ": reference eval";
  const KernelOutput actual = run_kernel(fast, op, inputs, 1, &out);
  ASSERT_TRUE(actual.prepare_status.ok())
      << what << ": fast prepare: " << actual.prepare_status.message();
  ASSERT_TRUE(actual.eval_status.ok())
      << what << ": fast eval: " << actual.eval_status.message();
  ASSERT_EQ(actual.shape, expected.shape) << what;
  ASSERT_EQ(actual.bytes.size(), expected.bytes.size()) << what;
  int reported = 0;
  size_t off_by_one = 0;
  for (size_t i = 0; i < expected.bytes.size(); ++i) {
    const int32_t e = element(expected.bytes, out.dtype, i);
    const int32_t a = element(actual.bytes, out.dtype, i);
    off_by_one += a != e;
    if (std::abs(a - e) > tolerance) {
      ADD_FAILURE() << what << ": output[" << i << "] fast " << a << " reference " << e
                    << " differs by more than " << tolerance << " step(s)";
      if (++reported >= 5) return;
    }
  }
  // A kernel that is "within one step" because it is off everywhere would be a bug: most
  // elements must agree exactly.
  EXPECT_LE(off_by_one, static_cast<size_t>(expected.bytes.size() * max_differing) + 2)
      << what << ": too many elements differ";
  if (!check_threads) return;
  for (int threads : {2, 4}) {
    const KernelOutput many = run_kernel(fast, op, inputs, threads, &out);
    ASSERT_TRUE(many.prepare_status.ok() && many.eval_status.ok()) << what;
    EXPECT_TRUE(many.bytes == actual.bytes) << what << ": " << threads << " threads differ";
  }
}

const char* dtype_label(DType d) { return d == DType::kInt8 ? "int8" : "uint8"; }

// ---- CONV_2D / DEPTHWISE_CONV_2D --------------------------------------------------------

enum class Weights { kPerChannel, kPerTensor };

struct ConvCase {
  DType dtype;
  Weights weights;
  bool depthwise;
  uint32_t seed;
};

std::string conv_case_name(const ::testing::TestParamInfo<ConvCase>& info) {
  const ConvCase& c = info.param;
  return std::string(c.depthwise ? "Depthwise" : "Conv") + "_" + dtype_label(c.dtype) + "_" +
         (c.weights == Weights::kPerChannel ? "PerChannel" : "PerTensor") + "_" +
         std::to_string(c.seed);
}

class XnnpackQuantizedConv : public ::testing::TestWithParam<ConvCase> {};

TEST_P(XnnpackQuantizedConv, WithinOneStepOfReference) {
  const ConvCase c = GetParam();
  std::mt19937 rng(c.seed);
  const int32_t widths[] = {1, 3, 7, 8, 9, 16, 17};
  auto pick = [&](auto& options) {
    return options[std::uniform_int_distribution<size_t>(0, std::size(options) - 1)(rng)];
  };
  for (int iteration = 0; iteration < 6; ++iteration) {
    const int32_t batch = 1 + static_cast<int32_t>(rng() % 2);
    const int32_t in_h = 4 + static_cast<int32_t>(rng() % 8);
    const int32_t in_w = 4 + static_cast<int32_t>(rng() % 9);
    const int32_t in_c = pick(widths);
    const int32_t multiplier = c.depthwise ? 1 + static_cast<int32_t>(rng() % 2) : 1;
    const int32_t out_c = c.depthwise ? in_c * multiplier : pick(widths);
    const int32_t kernel = (rng() % 3 == 0) ? 1 : 3;
    const int32_t stride = 1 + static_cast<int32_t>(rng() % 2);
    const Padding padding = rng() % 2 ? Padding::kSame : Padding::kValid;
    const Activation activation =
        rng() % 3 == 0 ? Activation::kRelu6 : (rng() % 2 ? Activation::kRelu : Activation::kNone);

    const float in_scale = std::uniform_real_distribution<float>(0.01f, 0.05f)(rng);
    const int64_t in_zp = random_zero_point(rng, c.dtype);
    const Shape in_shape = {batch, in_h, in_w, in_c};
    const Shape filter_shape = c.depthwise ? Shape{1, kernel, kernel, out_c}
                                           : Shape{out_c, kernel, kernel, in_c};
    QuantParams filter_quant;
    std::uniform_real_distribution<float> fscale(0.002f, 0.01f);
    if (c.weights == Weights::kPerChannel) {
      for (int32_t o = 0; o < out_c; ++o) filter_quant.scale.push_back(fscale(rng));
      filter_quant.zero_point.assign(static_cast<size_t>(out_c), 0);
      filter_quant.quantized_dimension = c.depthwise ? 3 : 0;
    } else {
      filter_quant = per_tensor(fscale(rng), c.dtype == DType::kUInt8 ? random_zero_point(rng, c.dtype) : 0);
    }
    const float mean_filter_scale = filter_quant.scale[0];
    const int64_t reduction = int64_t(kernel) * kernel * (c.depthwise ? 1 : in_c);
    // Outputs spread over roughly +-64 steps: rounding ties are exercised, few clamps.
    const float out_scale = in_scale * mean_filter_scale * 128.0f * 128.0f *
                            std::sqrt(static_cast<float>(reduction)) / 3.0f / 64.0f;
    const int64_t out_zp = random_zero_point(rng, c.dtype);
    const TestTensor input = random_quantized(rng, c.dtype, in_shape, per_tensor(in_scale, in_zp));
    const TestTensor filter =
        random_quantized(rng, c.dtype, filter_shape, filter_quant, /*constant=*/true);
    std::vector<int32_t> bias_values(static_cast<size_t>(out_c));
    std::uniform_int_distribution<int32_t> bias_dist(-20000, 20000);
    for (auto& b : bias_values) b = bias_dist(rng);
    TestTensor bias = TestTensor::int32s({out_c}, bias_values);
    const bool with_bias = rng() % 4 != 0;
    const TestTensor out = output_like(c.dtype, per_tensor(out_scale, out_zp));

    graph::Op op;
    op.kind = c.depthwise ? OpKind::kDepthwiseConv2d : OpKind::kConv2d;
    op.attrs.stride_h = op.attrs.stride_w = stride;
    op.attrs.padding = padding;
    op.attrs.activation = activation;
    op.attrs.depth_multiplier = multiplier;
    std::ostringstream what;
    what << graph::op_name(op.kind) << " " << dtype_label(c.dtype) << " batch " << batch
         << " input " << in_h << "x" << in_w << "x" << in_c << " -> " << out_c << " kernel "
         << kernel << " stride " << stride << " " << padding_name(padding) << " "
         << graph::activation_name(activation) << (with_bias ? "" : " no-bias") << " seed "
         << c.seed << " iteration " << iteration;
    const Kernel& fast = c.depthwise ? xnn::kDepthwiseConv2dQuantized : xnn::kConv2dQuantized;
    std::vector<const TestTensor*> inputs = {&input, &filter};
    if (with_bias) inputs.push_back(&bias);
    expect_quantized_match(fast, op.kind, op, inputs, out, what.str(), kStepTolerance,
                           /*check_threads=*/iteration == 0);
  }
}

std::vector<ConvCase> conv_cases() {
  std::vector<ConvCase> cases;
  for (bool depthwise : {false, true}) {
    cases.push_back({DType::kInt8, Weights::kPerChannel, depthwise, 11});
    cases.push_back({DType::kInt8, Weights::kPerChannel, depthwise, 12});
    cases.push_back({DType::kInt8, Weights::kPerTensor, depthwise, 13});
    cases.push_back({DType::kUInt8, Weights::kPerTensor, depthwise, 14});
    cases.push_back({DType::kUInt8, Weights::kPerTensor, depthwise, 15});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Random, XnnpackQuantizedConv, ::testing::ValuesIn(conv_cases()),
                         conv_case_name);

graph::Op conv_op(OpKind kind) {
  graph::Op op;
  op.kind = kind;
  op.attrs.stride_h = op.attrs.stride_w = 1;
  op.attrs.padding = Padding::kSame;
  return op;
}

TEST(XnnpackQuantizedConvRefusals, RequantizationScaleOf256IsLeftToReference) {
  // input_scale * filter_scale / output_scale = 256: XNNPACK's limit.
  std::mt19937 rng(3);
  const TestTensor input = random_quantized(rng, DType::kInt8, {1, 4, 4, 8}, per_tensor(1.0f, 0));
  const TestTensor filter =
      random_quantized(rng, DType::kInt8, {8, 1, 1, 8}, per_tensor(1.0f, 0), true);
  const TestTensor out = output_like(DType::kInt8, per_tensor(1.0f / 256.0f, 0));
  const graph::Op op = conv_op(OpKind::kConv2d);
  const KernelOutput r = run_kernel(xnn::kConv2dQuantized, op, {&input, &filter}, 1, &out);
  EXPECT_EQ(r.prepare_status.code(), StatusCode::kUnsupported) << r.prepare_status.message();
  // and the reference runs it
  EXPECT_TRUE(run_reference(OpKind::kConv2d, op, {&input, &filter}, out).eval_status.ok());
}

TEST(XnnpackQuantizedConvRefusals, Int16AndFloatAndNonConstantWeightsAreUnsupported) {
  std::mt19937 rng(4);
  const graph::Op op = conv_op(OpKind::kConv2d);
  std::vector<int16_t> v16(4 * 4 * 8, 3);
  const TestTensor in16 = make_tensor(DType::kInt16, {1, 4, 4, 8}, v16, per_tensor(0.01f, 0), false);
  const TestTensor filter =
      random_quantized(rng, DType::kInt8, {8, 1, 1, 8}, per_tensor(0.01f, 0), true);
  const TestTensor out16 = output_like(DType::kInt16, per_tensor(0.01f, 0));
  EXPECT_EQ(run_kernel(xnn::kConv2dQuantized, op, {&in16, &filter}, 1, &out16).prepare_status.code(),
            StatusCode::kUnsupported);
  const TestTensor input = random_quantized(rng, DType::kInt8, {1, 4, 4, 8}, per_tensor(0.01f, 0));
  const TestTensor variable_filter =
      random_quantized(rng, DType::kInt8, {8, 1, 1, 8}, per_tensor(0.01f, 0), false);
  const TestTensor out = output_like(DType::kInt8, per_tensor(0.05f, 0));
  EXPECT_EQ(run_kernel(xnn::kConv2dQuantized, op, {&input, &variable_filter}, 1, &out)
                .prepare_status.code(),
            StatusCode::kUnsupported);
  const TestTensor fin = TestTensor::floats({1, 4, 4, 8}, std::vector<float>(128, 1.0f), false);
  const TestTensor ffilter = TestTensor::floats({8, 1, 1, 8}, std::vector<float>(64, 1.0f), true);
  EXPECT_EQ(run_kernel(xnn::kConv2dQuantized, op, {&fin, &ffilter}).prepare_status.code(),
            StatusCode::kUnsupported);
  // ... and the float kernel leaves int8 to the quantized one.
  EXPECT_EQ(run_kernel(xnn::kConv2d, op, {&input, &filter}, 1, &out).prepare_status.code(),
            StatusCode::kUnsupported);
}

// ---- FULLY_CONNECTED ----------------------------------------------------------------------

TEST(XnnpackQuantizedFullyConnected, WithinOneStepOfReference) {
  for (DType dtype : {DType::kInt8, DType::kUInt8}) {
    for (uint32_t seed : {21u, 22u, 23u}) {
      std::mt19937 rng(seed);
      const int32_t batch = 1 + static_cast<int32_t>(rng() % 3);
      const int32_t in_c = std::array{1, 7, 8, 9, 16, 17, 33}[rng() % 7];
      const int32_t out_c = std::array{1, 7, 8, 9, 16, 17}[rng() % 6];
      const float in_scale = 0.02f, w_scale = 0.005f;
      const float out_scale = in_scale * w_scale * 128 * 128 * std::sqrt(float(in_c)) / 3 / 64;
      const TestTensor input = random_quantized(rng, dtype, {batch, in_c},
                                                per_tensor(in_scale, random_zero_point(rng, dtype)));
      const TestTensor weights = random_quantized(
          rng, dtype, {out_c, in_c},
          per_tensor(w_scale, dtype == DType::kUInt8 ? random_zero_point(rng, dtype) : 0), true);
      const TestTensor bias = TestTensor::int32s({out_c}, std::vector<int32_t>(out_c, 1234));
      const TestTensor out =
          output_like(dtype, per_tensor(out_scale, random_zero_point(rng, dtype)));
      graph::Op op;
      op.kind = OpKind::kFullyConnected;
      op.attrs.activation = seed == 22 ? Activation::kRelu : Activation::kNone;
      std::ostringstream what;
      what << "FULLY_CONNECTED " << dtype_label(dtype) << " " << batch << "x" << in_c << " -> "
           << out_c << " seed " << seed;
      expect_quantized_match(xnn::kFullyConnectedQuantized, op.kind, op,
                             {&input, &weights, &bias}, out, what.str());
    }
  }
}

// ---- ADD / SUB / MUL ----------------------------------------------------------------------

struct BinaryCase {
  OpKind kind;
  DType dtype;
};

class XnnpackQuantizedBinary : public ::testing::TestWithParam<BinaryCase> {};

TEST_P(XnnpackQuantizedBinary, WithinOneStepOfReference) {
  const BinaryCase c = GetParam();
  const Kernel& fast = c.kind == OpKind::kAdd   ? xnn::kAddQuantized
                       : c.kind == OpKind::kSub ? xnn::kSubQuantized
                                                : xnn::kMulQuantized;
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{1, 7, 9, 16}, {1, 7, 9, 16}}, {{2, 5, 17}, {2, 5, 17}}, {{1, 4, 3, 8}, {1, 1, 1, 8}},
      {{1, 6, 9}, {}},               {{3, 1, 7}, {1, 5, 1}},   {{33}, {33}},
      {{1, 1, 3, 2}, {1, 4, 3, 2}}};
  std::mt19937 rng(31 + static_cast<uint32_t>(c.kind) * 7 + static_cast<uint32_t>(c.dtype));
  for (size_t s = 0; s < shapes.size(); ++s) {
    for (bool constant_b : {false, true}) {
      const float scale_a = std::uniform_real_distribution<float>(0.01f, 0.1f)(rng);
      const float scale_b = std::uniform_real_distribution<float>(0.01f, 0.1f)(rng);
      const float out_scale = c.kind == OpKind::kMul
                                  ? scale_a * scale_b * 128.0f * 128.0f / 100.0f
                                  : (scale_a + scale_b) * 128.0f / 100.0f;
      const TestTensor a = random_quantized(rng, c.dtype, shapes[s].first,
                                            per_tensor(scale_a, random_zero_point(rng, c.dtype)));
      const TestTensor b =
          random_quantized(rng, c.dtype, shapes[s].second,
                           per_tensor(scale_b, random_zero_point(rng, c.dtype)), constant_b);
      const TestTensor out =
          output_like(c.dtype, per_tensor(out_scale, random_zero_point(rng, c.dtype)));
      graph::Op op;
      op.kind = c.kind;
      op.attrs.activation = s % 3 == 2 ? Activation::kRelu : Activation::kNone;
      std::ostringstream what;
      what << graph::op_name(c.kind) << " " << dtype_label(c.dtype) << " "
           << shape_to_string(a.shape) << " x " << shape_to_string(b.shape)
           << (constant_b ? " (constant b)" : "") << " "
           << graph::activation_name(op.attrs.activation);
      expect_quantized_match(fast, c.kind, op, {&a, &b}, out, what.str(), kStepTolerance,
                             /*check_threads=*/s == 0 && !constant_b);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Random, XnnpackQuantizedBinary,
    ::testing::Values(BinaryCase{OpKind::kAdd, DType::kInt8}, BinaryCase{OpKind::kAdd, DType::kUInt8},
                      BinaryCase{OpKind::kSub, DType::kInt8}, BinaryCase{OpKind::kSub, DType::kUInt8},
                      BinaryCase{OpKind::kMul, DType::kInt8}, BinaryCase{OpKind::kMul, DType::kUInt8}),
    [](const auto& info) {
      return std::string(graph::op_name(info.param.kind)) + "_" + dtype_label(info.param.dtype);
    });

TEST(XnnpackQuantizedBinaryRefusals, ScaleRatioOutsideXnnpackRangeIsUnsupported) {
  std::mt19937 rng(5);
  // ADD: input / output scale 2^9 >= 2^8.
  const TestTensor a = random_quantized(rng, DType::kInt8, {1, 8}, per_tensor(512.0f, 0));
  const TestTensor b = random_quantized(rng, DType::kInt8, {1, 8}, per_tensor(1.0f, 0));
  const TestTensor out = output_like(DType::kInt8, per_tensor(1.0f, 0));
  graph::Op op;
  op.kind = OpKind::kAdd;
  EXPECT_EQ(run_kernel(xnn::kAddQuantized, op, {&a, &b}, 1, &out).prepare_status.code(),
            StatusCode::kUnsupported);
  // int8 and uint8 mixed: not a quantized binary op XNNPACK has.
  const TestTensor u = random_quantized(rng, DType::kUInt8, {1, 8}, per_tensor(1.0f, 128));
  EXPECT_EQ(run_kernel(xnn::kAddQuantized, op, {&b, &u}, 1, &out).prepare_status.code(),
            StatusCode::kUnsupported);
}

// ---- LOGISTIC -----------------------------------------------------------------------------

TEST(XnnpackQuantizedLogistic, WithinOneStepOfReference) {
  for (DType dtype : {DType::kInt8, DType::kUInt8}) {
    std::mt19937 rng(41);
    for (float in_scale : {0.01f, 0.0625f, 0.1f, 0.37f}) {
      for (Shape shape : {Shape{1, 7, 9, 17}, Shape{256}, Shape{1, 3}}) {
        const TestTensor input =
            random_quantized(rng, dtype, shape, per_tensor(in_scale, random_zero_point(rng, dtype)));
        const TestTensor out = output_like(
            dtype, per_tensor(1.0f / 256.0f, dtype == DType::kInt8 ? -128 : 0));
        graph::Op op;
        op.kind = OpKind::kLogistic;
        std::ostringstream what;
        what << "LOGISTIC " << dtype_label(dtype) << " " << shape_to_string(shape)
             << " input scale " << in_scale;
        expect_quantized_match(xnn::kLogisticQuantized, op.kind, op, {&input}, out, what.str(),
                               kStepTolerance, /*check_threads=*/shape.size() == 4);
      }
    }
  }
}

TEST(XnnpackQuantizedLogistic, OtherOutputQuantizationIsUnsupported) {
  std::mt19937 rng(42);
  const TestTensor input = random_quantized(rng, DType::kInt8, {1, 8}, per_tensor(0.1f, 0));
  const TestTensor out = output_like(DType::kInt8, per_tensor(1.0f / 128.0f, 0));
  graph::Op op;
  op.kind = OpKind::kLogistic;
  EXPECT_EQ(run_kernel(xnn::kLogisticQuantized, op, {&input}, 1, &out).prepare_status.code(),
            StatusCode::kUnsupported);
}

// ---- MAX_POOL_2D and PAD: exact copies ----------------------------------------------------

TEST(XnnpackQuantizedMaxPool, MatchesReferenceExactly) {
  for (DType dtype : {DType::kInt8, DType::kUInt8}) {
    std::mt19937 rng(51);
    for (int iteration = 0; iteration < 8; ++iteration) {
      const int32_t c = std::array{1, 7, 8, 9, 16, 17}[rng() % 6];
      const int32_t h = 3 + static_cast<int32_t>(rng() % 9), w = 3 + static_cast<int32_t>(rng() % 9);
      const int32_t filter = 2 + static_cast<int32_t>(rng() % 4);
      const int32_t stride = 1 + static_cast<int32_t>(rng() % 2);
      const QuantParams q = per_tensor(0.05f, random_zero_point(rng, dtype));
      const TestTensor input = random_quantized(rng, dtype, {1, h, w, c}, q);
      const TestTensor out = output_like(dtype, q);
      graph::Op op;
      op.kind = OpKind::kMaxPool2d;
      op.attrs.filter_h = op.attrs.filter_w = filter;
      op.attrs.stride_h = op.attrs.stride_w = stride;
      op.attrs.padding = (iteration % 2 == 0 || filter > h || filter > w) ? Padding::kSame
                                                                           : Padding::kValid;
      op.attrs.activation = iteration % 3 == 0 ? Activation::kRelu6 : Activation::kNone;
      std::ostringstream what;
      what << "MAX_POOL_2D " << dtype_label(dtype) << " " << h << "x" << w << "x" << c
           << " filter " << filter << " stride " << stride << " "
           << padding_name(op.attrs.padding);
      expect_quantized_match(xnn::kMaxPool2dQuantized, op.kind, op, {&input}, out, what.str(),
                             /*tolerance=*/0, /*check_threads=*/iteration == 0);
    }
  }
}

TEST(XnnpackQuantizedPad, MatchesReferenceExactly) {
  for (DType dtype : {DType::kInt8, DType::kUInt8}) {
    std::mt19937 rng(61);
    for (int iteration = 0; iteration < 6; ++iteration) {
      const Shape shape = {1, 3 + static_cast<int32_t>(rng() % 6),
                           3 + static_cast<int32_t>(rng() % 6),
                           std::array{1, 7, 8, 9, 17}[rng() % 5]};
      std::vector<int32_t> paddings(8);
      for (auto& p : paddings) p = static_cast<int32_t>(rng() % 3);
      paddings[0] = paddings[1] = 0;
      const QuantParams q = per_tensor(0.05f, random_zero_point(rng, dtype));
      const TestTensor input = random_quantized(rng, dtype, shape, q);
      const TestTensor pads = TestTensor::int32s({4, 2}, paddings);
      const TestTensor out = output_like(dtype, q);
      graph::Op op;
      op.kind = OpKind::kPad;
      std::ostringstream what;
      what << "PAD " << dtype_label(dtype) << " " << shape_to_string(shape) << " zero point "
           << q.zero_point[0];
      expect_quantized_match(xnn::kPad, op.kind, op, {&input, &pads}, out, what.str(), 0,
                             /*check_threads=*/iteration == 0);
    }
  }
}

// ---- QUANTIZE (requantization with XNNPACK's convert arithmetic) ---------------------------

TEST(XnnpackQuantizedRequantize, WithinOneStepOfReference) {
  for (DType dtype : {DType::kInt8, DType::kUInt8}) {
    std::mt19937 rng(71);
    for (int iteration = 0; iteration < 12; ++iteration) {
      const float in_scale = std::uniform_real_distribution<float>(0.01f, 0.2f)(rng);
      const float out_scale = in_scale * std::uniform_real_distribution<float>(0.3f, 3.0f)(rng);
      const Shape shape = {1, 3 + static_cast<int32_t>(rng() % 40), 17};
      const TestTensor input =
          random_quantized(rng, dtype, shape, per_tensor(in_scale, random_zero_point(rng, dtype)));
      const TestTensor out =
          output_like(dtype, per_tensor(out_scale, random_zero_point(rng, dtype)));
      graph::Op op;
      op.kind = OpKind::kQuantize;
      std::ostringstream what;
      what << "QUANTIZE " << dtype_label(dtype) << " scale " << in_scale << " -> " << out_scale;
      // The 8-bit multiplier is off by up to 2^-9 relative: far more elements land one step
      // away than with the fixed-point kernels, still never more than one.
      expect_quantized_match(xnn::kRequantize, op.kind, op, {&input}, out, what.str(),
                             kStepTolerance, /*check_threads=*/iteration == 0,
                             /*max_differing=*/0.6);
    }
  }
}

TEST(XnnpackQuantizedQuantizeFromFloat, WithinOneStepOfReference) {
  for (DType dtype : {DType::kInt8, DType::kUInt8}) {
    std::mt19937 rng(81);
    for (int iteration = 0; iteration < 4; ++iteration) {
      const Shape shape = {1, 5 + iteration, 7, 17};
      const float scale = std::uniform_real_distribution<float>(0.01f, 0.1f)(rng);
      // Values beyond the representable range too (clamped), and exact ties (k + 0.5) * scale.
      std::vector<float> v = random_floats(rng, ::qdet::num_elements(shape), -300 * scale,
                                           300 * scale);
      for (size_t i = 0; i < v.size(); i += 5) v[i] = (static_cast<float>(i % 41) - 20.5f) * scale;
      const TestTensor input = TestTensor::floats(shape, v, false);
      const TestTensor out = output_like(dtype, per_tensor(scale, random_zero_point(rng, dtype)));
      graph::Op op;
      op.kind = OpKind::kQuantize;
      std::ostringstream what;
      what << "QUANTIZE float32 -> " << dtype_label(dtype) << " scale " << scale;
      expect_quantized_match(xnn::kQuantizeFromFloat, op.kind, op, {&input}, out, what.str(),
                             kStepTolerance, /*check_threads=*/iteration == 0);
    }
  }
}

// XNNPACK's rule, element by element: m = lrintf(256 * 0.5) = 128, so q_in - z_in = +-3 gives
// floor((+-384 + 128) / 256) = 1.5 rounded half up: 2 and -1 (TFLite's reference: 2 and -2).
TEST(XnnpackQuantizedRequantize, RoundsHalfUpWithAnEightBitMultiplier) {
  const TestTensor input = make_tensor(DType::kInt8, {4}, std::vector<int8_t>{3, -3, 1, -1},
                                       per_tensor(0.5f, 0), false);
  const TestTensor out = output_like(DType::kInt8, per_tensor(1.0f, 0));
  graph::Op op;
  op.kind = OpKind::kQuantize;
  const KernelOutput r = run_kernel(xnn::kRequantize, op, {&input}, 1, &out);
  ASSERT_TRUE(r.prepare_status.ok() && r.eval_status.ok()) << r.prepare_status.message();
  const std::vector<int8_t> got(r.bytes.begin(), r.bytes.end());
  EXPECT_EQ(got, (std::vector<int8_t>{2, -1, 1, 0}));
  // A ratio beyond XNNPACK's [2^-8, 2^7] is left to the reference, as are mixed dtypes.
  const TestTensor far = output_like(DType::kInt8, per_tensor(0.5f / 512.0f, 0));
  EXPECT_EQ(run_kernel(xnn::kRequantize, op, {&input}, 1, &far).prepare_status.code(),
            StatusCode::kUnsupported);
  const TestTensor to_uint8 = output_like(DType::kUInt8, per_tensor(1.0f, 128));
  EXPECT_EQ(run_kernel(xnn::kRequantize, op, {&input}, 1, &to_uint8).prepare_status.code(),
            StatusCode::kUnsupported);
}

}  // namespace
}  // namespace qdet::rt::testing
