// oneDNN int8 / uint8 CONV_2D against XNNPACK's kernel (the same bytes: both requantize in fp32
// as TFLite's XNNPACK delegate does) and against the reference (within one step: TFLite's
// reference requantizes in double-rounding fixed point), on seeded random shapes straddling SIMD
// widths: 1x1 / 3x3 / 5x5, stride 1 and 2, dilation 1 and 2, SAME and VALID, grouped, fused
// activations, with and without bias. 1 and 2 threads give the same bytes. Skipped (with the
// reason) on CPUs where oneDNN has no VNNI/AMX int8 convolution: the kernel then refuses every op.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>

#include "runtime/kernels/onednn/kernels.h"
#include "runtime/kernels/xnnpack/kernels.h"
#include "kernel_test_support.h"

namespace qdet::rt::testing {
namespace {

using graph::Activation;
using graph::OpKind;
using graph::Padding;

TestTensor random_bytes(std::mt19937& rng, DType dtype, Shape shape, QuantParams quant, bool constant) {
  const int64_t n = ::qdet::num_elements(shape);
  std::vector<uint8_t> v(static_cast<size_t>(n));
  for (auto& x : v) x = static_cast<uint8_t>(rng());
  return make_tensor(dtype, std::move(shape), v, std::move(quant), constant);
}

int32_t element(const std::vector<uint8_t>& bytes, DType dtype, size_t i) {
  return dtype == DType::kInt8 ? int32_t{static_cast<int8_t>(bytes[i])} : int32_t{bytes[i]};
}

struct Case {
  DType dtype;
  bool per_channel;
  uint32_t seed;
};

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  return std::string(info.param.dtype == DType::kInt8 ? "int8" : "uint8") +
         (info.param.per_channel ? "_PerChannel_" : "_PerTensor_") + std::to_string(info.param.seed);
}

class OnednnQuantizedConv : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    if (!onednn::has_fast_int8()) GTEST_SKIP() << "oneDNN has no VNNI/AMX int8 convolution on this CPU";
  }
};

TEST_P(OnednnQuantizedConv, SameBytesAsXnnpackWithinOneStepOfReference) {
  const Case c = GetParam();
  std::mt19937 rng(c.seed);
  const int32_t widths[] = {1, 7, 8, 9, 16, 17, 32, 33, 64};
  auto pick = [&](auto& options) {
    return options[std::uniform_int_distribution<size_t>(0, std::size(options) - 1)(rng)];
  };
  int compared_with_xnnpack = 0, refused = 0;
  for (int iteration = 0; iteration < 8; ++iteration) {
    const int32_t batch = 1 + static_cast<int32_t>(rng() % 2);
    const int32_t in_h = 3 + static_cast<int32_t>(rng() % 10);
    const int32_t in_w = 3 + static_cast<int32_t>(rng() % 11);
    const int32_t groups = rng() % 4 == 0 ? 2 : 1;
    const int32_t group_in = pick(widths), group_out = pick(widths);
    const int32_t in_c = groups * group_in, out_c = groups * group_out;
    const int32_t kernels[] = {1, 1, 3, 3, 5};
    const int32_t kernel = pick(kernels);
    const int32_t stride = 1 + static_cast<int32_t>(rng() % 2);
    const int32_t dilation = kernel > 1 && rng() % 3 == 0 ? 2 : 1;
    const Padding padding = rng() % 2 ? Padding::kSame : Padding::kValid;
    if (padding == Padding::kValid && (kernel - 1) * dilation + 1 > std::min(in_h, in_w)) continue;
    const Activation activation =
        rng() % 3 == 0 ? Activation::kRelu6 : (rng() % 2 ? Activation::kRelu : Activation::kNone);

    const float in_scale = std::uniform_real_distribution<float>(0.01f, 0.05f)(rng);
    const int64_t in_zp = (c.dtype == DType::kInt8 ? 0 : 128) + static_cast<int64_t>(rng() % 81) - 40;
    QuantParams filter_quant;
    std::uniform_real_distribution<float> fscale(0.002f, 0.01f);
    if (c.per_channel) {
      for (int32_t o = 0; o < out_c; ++o) filter_quant.scale.push_back(fscale(rng));
      filter_quant.zero_point.assign(static_cast<size_t>(out_c), 0);
      filter_quant.quantized_dimension = 0;
    } else {
      // uint8 weights with zero point 128 (weight minus zero point always fits int8), or, from
      // seed 10 on, anywhere in [60, 200): the kernel then sums each window in an extra channel.
      const int64_t w_zp = c.seed >= 10 ? 60 + static_cast<int64_t>(rng() % 140) : 128;
      filter_quant = per_tensor(fscale(rng), c.dtype == DType::kUInt8 ? w_zp : 0);
    }
    const int64_t reduction = int64_t{kernel} * kernel * group_in;
    const float out_scale = in_scale * filter_quant.scale[0] * 128.0f * 128.0f *
                            std::sqrt(static_cast<float>(reduction)) / 3.0f / 64.0f;
    const int64_t out_zp = (c.dtype == DType::kInt8 ? 0 : 128) + static_cast<int64_t>(rng() % 81) - 40;
    const TestTensor input =
        random_bytes(rng, c.dtype, {batch, in_h, in_w, in_c}, per_tensor(in_scale, in_zp), false);
    const TestTensor filter =
        random_bytes(rng, c.dtype, {out_c, kernel, kernel, group_in}, filter_quant, true);
    std::vector<int32_t> bias_values(static_cast<size_t>(out_c));
    std::uniform_int_distribution<int32_t> bias_dist(-20000, 20000);
    for (auto& b : bias_values) b = bias_dist(rng);
    const TestTensor bias = TestTensor::int32s({out_c}, bias_values);
    const bool with_bias = rng() % 4 != 0;
    TestTensor out;
    out.dtype = c.dtype;
    out.quant = per_tensor(out_scale, out_zp);

    graph::Op op;
    op.kind = OpKind::kConv2d;
    op.attrs.stride_h = op.attrs.stride_w = stride;
    op.attrs.dilation_h = op.attrs.dilation_w = dilation;
    op.attrs.padding = padding;
    op.attrs.activation = activation;
    std::ostringstream what;
    what << "CONV_2D " << (c.dtype == DType::kInt8 ? "int8" : "uint8") << " batch " << batch << " input "
         << in_h << "x" << in_w << "x" << in_c << " -> " << out_c << " groups " << groups << " kernel " << kernel
         << " stride " << stride << " dilation " << dilation << " " << padding_name(padding) << " "
         << graph::activation_name(activation) << (with_bias ? "" : " no-bias") << " seed " << c.seed
         << " iteration " << iteration;
    std::vector<const TestTensor*> inputs = {&input, &filter};
    if (with_bias) inputs.push_back(&bias);

    const KernelOutput got = run_kernel(onednn::kConv2dQuantized, op, inputs, 1, &out);
    if (got.prepare_status.code() == StatusCode::kUnsupported) {
      // The documented refusals (XNNPACK or the reference then runs the op): oneDNN picking a
      // non-VNNI implementation (small grouped convolutions), or a possible 2^24 accumulator.
      const std::string& m = got.prepare_status.message();
      // Also grouped uint8 weights that do not fit int8 around their zero point.
      EXPECT_TRUE(m.find("not a VNNI/AMX kernel") != std::string::npos || m.find("could reach 2^24") != std::string::npos ||
                  (groups > 1 && m.find("do not fit int8") != std::string::npos))
          << what.str() << ": " << m;
      ++refused;
      continue;
    }
    ASSERT_TRUE(got.prepare_status.ok()) << what.str() << ": " << got.prepare_status.message();
    ASSERT_TRUE(got.eval_status.ok()) << what.str() << ": " << got.eval_status.message();
    const KernelOutput ref = run_reference(OpKind::kConv2d, op, inputs, out);
    ASSERT_TRUE(ref.prepare_status.ok() && ref.eval_status.ok()) << what.str();
    ASSERT_EQ(got.shape, ref.shape) << what.str();
    size_t differing = 0;
    for (size_t i = 0; i < ref.bytes.size(); ++i) {
      const int32_t a = element(got.bytes, c.dtype, i), e = element(ref.bytes, c.dtype, i);
      differing += a != e;
      ASSERT_LE(std::abs(a - e), 1) << what.str() << ": output[" << i << "] onednn " << a << " reference " << e;
    }
    EXPECT_LE(differing, ref.bytes.size() / 4 + 2) << what.str();
    const KernelOutput xnn = run_kernel(xnn::kConv2dQuantized, op, inputs, 1, &out);
    if (xnn.prepare_status.ok()) {  // XNNPACK takes groups 1 only
      ASSERT_TRUE(xnn.eval_status.ok()) << what.str();
      EXPECT_TRUE(xnn.bytes == got.bytes) << what.str() << ": not XNNPACK's bytes";
      ++compared_with_xnnpack;
    }
    if (iteration < 2) {
      const KernelOutput two = run_kernel(onednn::kConv2dQuantized, op, inputs, 2, &out);
      ASSERT_TRUE(two.prepare_status.ok() && two.eval_status.ok()) << what.str();
      EXPECT_TRUE(two.bytes == got.bytes) << what.str() << ": 2 threads differ";
    }
  }
  EXPECT_GE(compared_with_xnnpack, 3) << refused << " refused";
}

std::vector<Case> cases() {
  std::vector<Case> v;
  for (uint32_t seed : {1u, 2u, 3u, 4u}) {
    v.push_back({DType::kInt8, true, seed});
    v.push_back({DType::kInt8, false, seed});
    v.push_back({DType::kUInt8, false, seed});
    v.push_back({DType::kUInt8, false, seed + 10});
  }
  return v;
}

INSTANTIATE_TEST_SUITE_P(Shapes, OnednnQuantizedConv, ::testing::ValuesIn(cases()), case_name);

// Where exactness cannot be proven (an accumulator could reach 2^24, which oneDNN passes through
// fp32) or grouped uint8 weights do not fit int8, the kernel refuses, and XNNPACK runs the op.
// Ungrouped uint8 weights far from their zero point run, with XNNPACK's bytes.
TEST(OnednnQuantizedConvRefuses, LargeAccumulatorsAndWideGroupedUint8Weights) {
  if (!onednn::has_fast_int8()) GTEST_SKIP() << "oneDNN has no VNNI/AMX int8 convolution on this CPU";
  graph::Op op;
  op.kind = OpKind::kConv2d;
  op.attrs.padding = Padding::kSame;
  std::vector<int8_t> in(8 * 8 * 1024, 3);
  TestTensor input = TestTensor::int8s({1, 8, 8, 1024}, in, 0.02f, 0);
  std::vector<int8_t> w(16 * 3 * 3 * 1024, 64);  // 256 * 9216 * 64 > 2^24
  TestTensor filter = make_tensor(DType::kInt8, {16, 3, 3, 1024}, w, per_tensor(0.01f, 0), true);
  TestTensor out;
  out.dtype = DType::kInt8;
  out.quant = per_tensor(2.0f, 0);
  const KernelOutput big = run_kernel(onednn::kConv2dQuantized, op, {&input, &filter}, 1, &out);
  EXPECT_EQ(big.prepare_status.code(), StatusCode::kUnsupported);
  EXPECT_NE(big.prepare_status.message().find("could reach 2^24"), std::string::npos) << big.prepare_status.message();

  std::vector<uint8_t> u_in(4 * 4 * 8, 7), u_w(8 * 8, 0);  // weight 0 with zero point 200: -200
  TestTensor u_input = make_tensor(DType::kUInt8, {1, 4, 4, 8}, u_in, per_tensor(0.02f, 128), false);
  TestTensor u_filter = make_tensor(DType::kUInt8, {8, 1, 1, 8}, u_w, per_tensor(0.01f, 200), true);
  TestTensor u_out;
  u_out.dtype = DType::kUInt8;
  u_out.quant = per_tensor(0.5f, 128);
  const KernelOutput wide = run_kernel(onednn::kConv2dQuantized, op, {&u_input, &u_filter}, 1, &u_out);
  ASSERT_TRUE(wide.prepare_status.ok() && wide.eval_status.ok()) << wide.prepare_status.message();
  const KernelOutput wide_xnn = run_kernel(xnn::kConv2dQuantized, op, {&u_input, &u_filter}, 1, &u_out);
  ASSERT_TRUE(wide_xnn.prepare_status.ok() && wide_xnn.eval_status.ok());
  EXPECT_EQ(wide.bytes, wide_xnn.bytes);
  EXPECT_NE(wide.bytes[0], 128);  // (7 - 128) x (0 - 200) x 8 inputs: not the zero point

  std::vector<uint8_t> g_w(8 * 4, 0);  // two groups of 4 input channels
  TestTensor g_filter = make_tensor(DType::kUInt8, {8, 1, 1, 4}, g_w, per_tensor(0.01f, 200), true);
  const KernelOutput grouped = run_kernel(onednn::kConv2dQuantized, op, {&u_input, &g_filter}, 1, &u_out);
  EXPECT_EQ(grouped.prepare_status.code(), StatusCode::kUnsupported);
  EXPECT_NE(grouped.prepare_status.message().find("do not fit int8"), std::string::npos)
      << grouped.prepare_status.message();
}

// float32 CONV_2D on oneDNN against the reference kernel, within the conformance suite's float
// tolerance (1e-5 of the output's range: oneDNN sums in another order), with 1, 2 and 3 threads
// (slices of rows, or of images in a batch). Grouped convolutions and a plan that needs
// XNNPACK's exact float bytes are refused.
TEST(OnednnFloatConv, MatchesTheReferenceAtEveryThreadCount) {
  std::mt19937 rng(11);
  int ran = 0;
  for (int iteration = 0; iteration < 12; ++iteration) {
    const int32_t batch = 1 + static_cast<int32_t>(rng() % 2);
    const int32_t in_h = 3 + static_cast<int32_t>(rng() % 12), in_w = 3 + static_cast<int32_t>(rng() % 12);
    const int32_t in_c = 1 + static_cast<int32_t>(rng() % 40), out_c = 1 + static_cast<int32_t>(rng() % 40);
    const int32_t kernel = iteration % 3 == 0 ? 1 : 3, stride = 1 + static_cast<int32_t>(rng() % 2);
    const int32_t dilation = kernel > 1 && rng() % 3 == 0 ? 2 : 1;
    const Padding padding = rng() % 2 ? Padding::kSame : Padding::kValid;
    if (padding == Padding::kValid && (kernel - 1) * dilation + 1 > std::min(in_h, in_w)) continue;
    const Activation activations[] = {Activation::kNone, Activation::kRelu, Activation::kRelu6,
                                      Activation::kReluN1To1};
    const Activation activation = activations[rng() % 4];
    const TestTensor input = TestTensor::floats({batch, in_h, in_w, in_c},
                                                random_floats(rng, int64_t{batch} * in_h * in_w * in_c, -2, 2), false);
    const TestTensor filter = TestTensor::floats(
        {out_c, kernel, kernel, in_c}, random_floats(rng, int64_t{out_c} * kernel * kernel * in_c, -1, 1), true);
    const TestTensor bias = TestTensor::floats({out_c}, random_floats(rng, out_c, -1, 1), true);
    graph::Op op;
    op.kind = OpKind::kConv2d;
    op.attrs.stride_h = op.attrs.stride_w = stride;
    op.attrs.dilation_h = op.attrs.dilation_w = dilation;
    op.attrs.padding = padding;
    op.attrs.activation = activation;
    const std::vector<const TestTensor*> inputs = {&input, &filter, &bias};
    std::ostringstream what;
    what << "CONV_2D float batch " << batch << " " << in_h << "x" << in_w << "x" << in_c << " -> " << out_c
         << " kernel " << kernel << " stride " << stride << " dilation " << dilation << " "
         << padding_name(padding) << " " << graph::activation_name(activation);
    const KernelOutput ref = run_reference(OpKind::kConv2d, op, inputs, TestTensor{});
    ASSERT_TRUE(ref.prepare_status.ok() && ref.eval_status.ok()) << what.str();
    float lo = 0, hi = 0;
    for (float v : ref.values) lo = std::min(lo, v), hi = std::max(hi, v);
    const float tolerance = 1e-5f * std::max(hi - lo, 1.0f);
    for (int threads : {1, 2, 3}) {
      const KernelOutput got = run_kernel(onednn::kConv2dFloat, op, inputs, threads);
      ASSERT_TRUE(got.prepare_status.ok()) << what.str() << ": " << got.prepare_status.message();
      ASSERT_TRUE(got.eval_status.ok()) << what.str() << ": " << got.eval_status.message();
      ASSERT_EQ(got.shape, ref.shape) << what.str();
      for (size_t i = 0; i < ref.values.size(); ++i)
        ASSERT_NEAR(got.values[i], ref.values[i], tolerance) << what.str() << " threads " << threads << " [" << i << "]";
    }
    ++ran;
  }
  EXPECT_GE(ran, 8);

  graph::Op grouped;
  grouped.kind = OpKind::kConv2d;
  const TestTensor input = TestTensor::floats({1, 4, 4, 8}, std::vector<float>(128, 1.0f), false);
  const TestTensor filter = TestTensor::floats({8, 1, 1, 4}, std::vector<float>(32, 1.0f), true);
  const KernelOutput refused = run_kernel(onednn::kConv2dFloat, grouped, {&input, &filter}, 1);
  EXPECT_EQ(refused.prepare_status.code(), StatusCode::kUnsupported);
}

}  // namespace
}  // namespace qdet::rt::testing
