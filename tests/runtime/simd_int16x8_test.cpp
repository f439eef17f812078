// qdet's SIMD int16x8 CONV_2D and DEPTHWISE_CONV_2D against the reference kernels (TFLite's
// reference_integer_ops, which qdet reproduces bit for bit): identical bytes on seeded random
// shapes, full-range int16 inputs, int64 and int32 biases, strides, dilations, padding and
// activations; identical bytes with 2 and 4 threads; kUnsupported where int32 sums could
// overflow, so that the reference runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <sstream>

#include "runtime/kernels/simd/kernels.h"
#include "kernel_test_support.h"

namespace qdet::rt::testing {
namespace {

using graph::Activation;
using graph::OpKind;
using graph::Padding;

QuantParams per_tensor(float scale) {
  QuantParams q;
  q.scale = {scale};
  q.zero_point = {0};
  return q;
}

struct Case {
  bool depthwise;
  bool int32_bias;
  uint32_t seed;
  bool portable = false;  // the path for CPUs without AVX-512 VNNI
};

class SimdInt16x8Conv : public ::testing::TestWithParam<Case> {};

TEST_P(SimdInt16x8Conv, IdenticalToReference) {
  const Case c = GetParam();
  simd::allow_vnni_for_testing(!c.portable);
  struct Restore {
    ~Restore() { simd::allow_vnni_for_testing(true); }
  } restore;
  std::mt19937 rng(c.seed);
  const int32_t widths[] = {1, 2, 3, 15, 16, 17, 31, 33, 130};
  auto pick = [&](auto& options) {
    return options[std::uniform_int_distribution<size_t>(0, std::size(options) - 1)(rng)];
  };
  for (int iteration = 0; iteration < 8; ++iteration) {
    const int32_t batch = 1 + static_cast<int32_t>(rng() % 2);
    const int32_t in_h = 3 + static_cast<int32_t>(rng() % 8), in_w = 3 + static_cast<int32_t>(rng() % 9);
    const int32_t in_c = pick(widths);
    const int32_t out_c = c.depthwise ? in_c : pick(widths);
    const int32_t kernel = (rng() % 3 == 0) ? 1 : 3;
    const int32_t stride = 1 + static_cast<int32_t>(rng() % 2);
    const int32_t dilation = rng() % 4 == 0 ? 2 : 1;
    const Padding padding = rng() % 2 ? Padding::kSame : Padding::kValid;
    const Activation activation = rng() % 3 == 0 ? Activation::kRelu : Activation::kNone;
    if (padding == Padding::kValid && (in_h < (kernel - 1) * dilation + 1 || in_w < (kernel - 1) * dilation + 1))
      continue;

    // Trained int8 weights are bell-shaped (max|w| = 127 per channel, most far smaller): normal
    // with sd 30, clamped, so that even 3x3x130 reductions fit the int32 bound.
    std::uniform_int_distribution<int> x16(-32768, 32767);
    std::normal_distribution<double> w8(0.0, 30.0);
    std::vector<int16_t> xv(static_cast<size_t>(batch) * in_h * in_w * in_c);
    for (auto& x : xv) x = static_cast<int16_t>(x16(rng));
    const Shape filter_shape = c.depthwise ? Shape{1, kernel, kernel, out_c} : Shape{out_c, kernel, kernel, in_c};
    std::vector<int8_t> wv(static_cast<size_t>(::qdet::num_elements(filter_shape)));
    for (auto& w : wv) w = static_cast<int8_t>(std::clamp(std::lround(w8(rng)), -127L, 127L));
    wv[0] = 127;
    wv[wv.size() - 1] = -127;
    QuantParams wq;
    std::uniform_real_distribution<float> fscale(0.002f, 0.01f);
    for (int32_t o = 0; o < out_c; ++o) wq.scale.push_back(fscale(rng));
    wq.zero_point.assign(static_cast<size_t>(out_c), 0);
    wq.quantized_dimension = c.depthwise ? 3 : 0;
    const float in_scale = 1e-3f;
    const double reduction = double(kernel) * kernel * (c.depthwise ? 1 : in_c);
    // Sums spread over roughly +-8000 output steps: ties and clamps both occur.
    const float out_scale = static_cast<float>(in_scale * wq.scale[0] * std::sqrt(reduction) * 1.4e6 / 8000);
    const TestTensor input = make_tensor(DType::kInt16, {batch, in_h, in_w, in_c}, xv, per_tensor(in_scale), false);
    const TestTensor filter = make_tensor(DType::kInt8, filter_shape, wv, wq, true);
    std::uniform_int_distribution<int64_t> bd(-3000000, 3000000);
    QuantParams bq;
    for (int32_t o = 0; o < out_c; ++o) bq.scale.push_back(in_scale * wq.scale[o]);
    bq.zero_point.assign(static_cast<size_t>(out_c), 0);
    TestTensor bias;
    if (c.int32_bias) {
      std::vector<int32_t> b(static_cast<size_t>(out_c));
      for (auto& v : b) v = static_cast<int32_t>(bd(rng));
      bias = make_tensor(DType::kInt32, {out_c}, b, bq, true);
    } else {
      std::vector<int64_t> b(static_cast<size_t>(out_c));
      for (auto& v : b) v = bd(rng);
      bias = make_tensor(DType::kInt64, {out_c}, b, bq, true);
    }
    TestTensor out;
    out.dtype = DType::kInt16;
    out.quant = per_tensor(out_scale);

    graph::Op op;
    op.kind = c.depthwise ? OpKind::kDepthwiseConv2d : OpKind::kConv2d;
    op.attrs.stride_h = op.attrs.stride_w = stride;
    op.attrs.dilation_h = op.attrs.dilation_w = dilation;
    op.attrs.padding = padding;
    op.attrs.activation = activation;
    std::ostringstream what;
    what << op.name() << " batch " << batch << " input " << in_h << "x" << in_w << "x" << in_c << " -> "
         << out_c << " kernel " << kernel << " stride " << stride << " dilation " << dilation << " "
         << (padding == Padding::kSame ? "SAME" : "VALID") << (c.int32_bias ? " int32 bias" : " int64 bias")
         << " iteration " << iteration;
    const std::vector<const TestTensor*> inputs = {&input, &filter, &bias};
    const KernelOutput expected = run_reference(op.kind, op, inputs, out);
    ASSERT_TRUE(expected.prepare_status.ok()) << what.str() << ": " << expected.prepare_status.message();
    const Kernel& fast = c.depthwise ? simd::kInt16x8DepthwiseConv2d : simd::kInt16x8Conv2d;
    const KernelOutput actual = run_kernel(fast, op, inputs, 1, &out);
    ASSERT_TRUE(actual.prepare_status.ok()) << what.str() << ": " << actual.prepare_status.message();
    ASSERT_TRUE(actual.eval_status.ok()) << what.str();
    ASSERT_EQ(actual.shape, expected.shape) << what.str();
    ASSERT_TRUE(actual.bytes == expected.bytes) << what.str();
    // Not a vacuous comparison: outputs spread over many values.
    std::set<int16_t> distinct;
    for (size_t i = 0; i + 1 < actual.bytes.size(); i += 2)
      distinct.insert(static_cast<int16_t>(actual.bytes[i] | (actual.bytes[i + 1] << 8)));
    EXPECT_GT(distinct.size(), std::min<size_t>(actual.bytes.size() / 8, 20)) << what.str();
    if (iteration == 0)
      for (int threads : {2, 4}) {
        const KernelOutput many = run_kernel(fast, op, inputs, threads, &out);
        EXPECT_TRUE(many.bytes == actual.bytes) << what.str() << ": " << threads << " threads";
      }
  }
}

INSTANTIATE_TEST_SUITE_P(Random, SimdInt16x8Conv,
                         ::testing::Values(Case{false, false, 1}, Case{false, false, 2}, Case{false, true, 3},
                                           Case{false, false, 7, true}, Case{false, true, 8, true},
                                           Case{true, false, 4}, Case{true, false, 5}, Case{true, true, 6}),
                         [](const ::testing::TestParamInfo<Case>& i) {
                           return std::string(i.param.depthwise ? "Depthwise" : "Conv") +
                                  (i.param.portable ? "_Portable" : "") +
                                  (i.param.int32_bias ? "_Int32Bias_" : "_Int64Bias_") + std::to_string(i.param.seed);
                         });

// 32768 * sum|w| >= 2^31 could overflow an int32 sum: the SIMD kernels decline (kUnsupported)
// and the reference kernel runs; int8 inputs are not theirs either.
TEST(SimdInt16x8ConvRefusals, PossibleInt32OverflowAndOtherDtypesAreUnsupported) {
  const int32_t in_c = 520;  // 520 * 127 = 66040 > 65536
  std::vector<int16_t> xv(static_cast<size_t>(in_c), 32767);
  std::vector<int8_t> wv(static_cast<size_t>(in_c), 127);
  QuantParams wq;
  wq.scale = {0.01f};
  wq.zero_point = {0};
  const TestTensor input = make_tensor(DType::kInt16, {1, 1, 1, in_c}, xv, per_tensor(1e-3f), false);
  const TestTensor filter = make_tensor(DType::kInt8, {1, 1, 1, in_c}, wv, wq, true);
  TestTensor out;
  out.dtype = DType::kInt16;
  out.quant = per_tensor(1.0f);
  graph::Op op;
  op.kind = OpKind::kConv2d;
  EXPECT_EQ(run_kernel(simd::kInt16x8Conv2d, op, {&input, &filter}, 1, &out).prepare_status.code(),
            StatusCode::kUnsupported);
  // One channel fewer fits, and the sum that would leave int16 is exact: clamped to 32767.
  const TestTensor fits_in = make_tensor(DType::kInt16, {1, 1, 1, 500}, std::vector<int16_t>(500, 32767), per_tensor(1e-3f), false);
  const TestTensor fits_w = make_tensor(DType::kInt8, {1, 1, 1, 500}, std::vector<int8_t>(500, 127), wq, true);
  const KernelOutput fits = run_kernel(simd::kInt16x8Conv2d, op, {&fits_in, &fits_w}, 1, &out);
  ASSERT_TRUE(fits.prepare_status.ok()) << fits.prepare_status.message();
  const KernelOutput ref = run_reference(OpKind::kConv2d, op, {&fits_in, &fits_w}, out);
  EXPECT_TRUE(fits.bytes == ref.bytes);
  const TestTensor in8 = TestTensor::int8s({1, 1, 1, in_c}, std::vector<int8_t>(in_c, 1), 0.1f, 0);
  TestTensor out8;
  out8.dtype = DType::kInt8;
  out8.quant = per_tensor(1.0f);
  EXPECT_EQ(run_kernel(simd::kInt16x8Conv2d, op, {&in8, &filter}, 1, &out8).prepare_status.code(),
            StatusCode::kUnsupported);
  op.kind = OpKind::kDepthwiseConv2d;
  EXPECT_EQ(run_kernel(simd::kInt16x8DepthwiseConv2d, op, {&in8, &filter}, 1, &out8).prepare_status.code(),
            StatusCode::kUnsupported);
}

}  // namespace
}  // namespace qdet::rt::testing
