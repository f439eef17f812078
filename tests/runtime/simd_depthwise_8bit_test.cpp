// qdet's int8 / uint8 DEPTHWISE_CONV_2D (simd::k8BitDepthwiseConv2d, AVX-512 VNNI) against
// XNNPACK's kernel (the same bytes: the same exact sums and fp32 requantization) and the
// reference (within one step: TFLite's reference requantizes in fixed point), on seeded random
// shapes: channel counts around the 32-channel blocks, 1x1 / 3x3 / 5x5 filters, stride 1 and 2,
// dilation 2, SAME and VALID, widths around the 4-pixel tile, batches of 2, fused activations,
// with and without bias, int8 per-channel, int8 per-tensor and uint8 with a weight zero point
// (weights minus their zero point up to +-255). 1 and 3 threads give the same bytes. Skipped
// (with the reason) without VNNI.
#include <gtest/gtest.h>

#include <random>
#include <sstream>

#include "runtime/kernels/simd/kernels.h"
#include "runtime/kernels/xnnpack/kernels.h"
#include "graph_builder.h"
#include "kernel_test_support.h"

namespace qdet::rt::testing {
namespace {

using graph::Activation;
using graph::OpKind;
using graph::Padding;

TestTensor random_bytes(std::mt19937& rng, DType dtype, Shape shape, QuantParams quant, bool constant) {
  std::vector<uint8_t> v(static_cast<size_t>(::qdet::num_elements(shape)));
  for (auto& x : v) x = static_cast<uint8_t>(rng());
  if (dtype == DType::kInt8 && constant)  // TFLite's int8 weights avoid -128
    for (auto& x : v) x = x == 0x80 ? 0x81 : x;
  return make_tensor(dtype, std::move(shape), v, std::move(quant), constant);
}

enum class Weights { kInt8PerChannel, kInt8PerTensor, kUint8 };

void sweep(Weights kind, uint32_t seed) {
  std::mt19937 rng(seed);
  const DType dtype = kind == Weights::kUint8 ? DType::kUInt8 : DType::kInt8;
  const int32_t channel_options[] = {1, 7, 16, 31, 32, 33, 48, 64, 65, 130};
  int compared = 0;
  for (int iteration = 0; iteration < 16; ++iteration) {
    const int32_t channels = channel_options[rng() % std::size(channel_options)];
    const int32_t batch = 1 + static_cast<int32_t>(rng() % 2);
    const int32_t in_h = 1 + static_cast<int32_t>(rng() % 12), in_w = 1 + static_cast<int32_t>(rng() % 13);
    const int32_t kernels[] = {1, 3, 3, 5};
    const int32_t k = kernels[rng() % std::size(kernels)];
    const int32_t stride = 1 + static_cast<int32_t>(rng() % 2);
    const int32_t dilation = k > 1 && rng() % 4 == 0 ? 2 : 1;
    const Padding padding = rng() % 3 ? Padding::kSame : Padding::kValid;
    if (padding == Padding::kValid && (k - 1) * dilation + 1 > std::min(in_h, in_w)) continue;
    const Activation activation =
        rng() % 3 == 0 ? Activation::kRelu6 : (rng() % 2 ? Activation::kRelu : Activation::kNone);
    const float in_scale = std::uniform_real_distribution<float>(0.01f, 0.05f)(rng);
    const int64_t in_zp = (dtype == DType::kInt8 ? 0 : 128) + static_cast<int64_t>(rng() % 201) - 100;
    std::uniform_real_distribution<float> fscale(0.002f, 0.02f);
    QuantParams wq;
    if (kind == Weights::kInt8PerChannel) {
      for (int32_t c = 0; c < channels; ++c) wq.scale.push_back(fscale(rng)), wq.zero_point.push_back(0);
      wq.quantized_dimension = 3;
    } else {
      wq = per_tensor(fscale(rng), kind == Weights::kUint8 ? 40 + static_cast<int64_t>(rng() % 180) : 0);
    }
    const float out_scale = in_scale * wq.scale[0] * 137.0f * static_cast<float>(k);  // about 40 steps an sd
    const int64_t out_zp = (dtype == DType::kInt8 ? 0 : 128) + static_cast<int64_t>(rng() % 61) - 30;
    const TestTensor input = random_bytes(rng, dtype, {batch, in_h, in_w, channels}, per_tensor(in_scale, in_zp), false);
    const TestTensor filter = random_bytes(rng, dtype, {1, k, k, channels}, wq, true);
    std::vector<int32_t> bias_values(static_cast<size_t>(channels));
    for (auto& b : bias_values) b = static_cast<int32_t>(rng() % 40001) - 20000;
    const TestTensor bias = TestTensor::int32s({channels}, bias_values);
    const bool with_bias = rng() % 4 != 0;
    TestTensor out;
    out.dtype = dtype;
    out.quant = per_tensor(out_scale, out_zp);
    graph::Op op;
    op.kind = OpKind::kDepthwiseConv2d;
    op.attrs.stride_h = op.attrs.stride_w = stride;
    op.attrs.dilation_h = op.attrs.dilation_w = dilation;
    op.attrs.padding = padding;
    op.attrs.activation = activation;
    op.attrs.depth_multiplier = 1;
    std::ostringstream what;
    what << dtype_name(dtype) << " batch " << batch << " " << in_h << "x" << in_w << "x" << channels << " kernel " << k
         << " stride " << stride << " dilation " << dilation << " " << padding_name(padding) << " "
         << graph::activation_name(activation) << (with_bias ? "" : " no-bias") << " seed " << seed << " iteration "
         << iteration;
    std::vector<const TestTensor*> inputs = {&input, &filter};
    if (with_bias) inputs.push_back(&bias);

    const KernelOutput got = run_kernel(simd::k8BitDepthwiseConv2d, op, inputs, 1, &out);
    if (got.prepare_status.message().find("no AVX-512 VNNI") != std::string::npos)
      GTEST_SKIP() << "this CPU has no AVX-512 VNNI";
    ASSERT_TRUE(got.prepare_status.ok()) << what.str() << ": " << got.prepare_status.message();
    ASSERT_TRUE(got.eval_status.ok()) << what.str() << ": " << got.eval_status.message();
    expect_xnnpacks_bytes(simd::k8BitDepthwiseConv2d, xnn::kDepthwiseConv2dQuantized, op, inputs, out, got,
                          what.str(), 200);
    if (::testing::Test::HasFatalFailure()) return;
    ++compared;
  }
  EXPECT_GE(compared, 6);
}

TEST(SimdDepthwise8Bit, Int8PerChannelGivesXnnpacksBytes) {
  for (uint32_t seed : {1u, 2u, 3u}) sweep(Weights::kInt8PerChannel, seed);
}
TEST(SimdDepthwise8Bit, Int8PerTensorGivesXnnpacksBytes) {
  for (uint32_t seed : {4u, 5u}) sweep(Weights::kInt8PerTensor, seed);
}
TEST(SimdDepthwise8Bit, Uint8WithWeightZeroPointGivesXnnpacksBytes) {
  for (uint32_t seed : {6u, 7u, 8u}) sweep(Weights::kUint8, seed);
}

// What it does not take is left to XNNPACK: a depth multiplier of 2.
TEST(SimdDepthwise8Bit, DepthMultiplierTwoIsLeftToXnnpack) {
  std::mt19937 rng(9);
  const TestTensor input = random_bytes(rng, DType::kInt8, {1, 5, 5, 4}, per_tensor(0.02f, 3), false);
  const TestTensor filter = random_bytes(rng, DType::kInt8, {1, 3, 3, 8}, per_tensor(0.01f, 0), true);
  TestTensor out;
  out.dtype = DType::kInt8;
  out.quant = per_tensor(0.05f, 0);
  graph::Op op;
  op.kind = OpKind::kDepthwiseConv2d;
  op.attrs.padding = Padding::kSame;
  op.attrs.depth_multiplier = 2;
  const KernelOutput got = run_kernel(simd::k8BitDepthwiseConv2d, op, {&input, &filter}, 1, &out);
  EXPECT_EQ(got.prepare_status.code(), StatusCode::kUnsupported);
}

// x -> DEPTHWISE_CONV_2D 3x3 (qdet's kernel) -> y -> LOGISTIC -> MUL(y, sigmoid) -> out, and with
// `y_is_output` y a graph output too. The SiLU table goes into the depthwise's stores
// (fuse_output_tables) where the CPU has VBMI: the unfused run's bytes. Where y is an output it
// must be stored, so the table stays its own op.
TEST(SimdDepthwise8Bit, SiluTableFusedIntoTheDepthwiseKeepsTheBytes) {
  if (!simd::has_avx512_vnni()) GTEST_SKIP() << "this CPU has no AVX-512 VNNI";
  const bool vbmi = __builtin_cpu_supports("avx512vbmi");
  for (const DType t : {DType::kInt8, DType::kUInt8}) {
    for (const bool y_is_output : {false, true}) {
      SCOPED_TRACE(::testing::Message() << dtype_name(t) << (y_is_output ? ", y an output" : ""));
      const bool s8 = t == DType::kInt8;
      std::mt19937 rng(22);
      GraphBuilder b;
      const int32_t x = b.input(t, {2, 9, 11, 40}, per_tensor(0.05f, s8 ? -3 : 125));
      QuantParams qw;
      if (s8) {
        for (int32_t c = 0; c < 40; ++c) qw.scale.push_back(0.01f + 0.0005f * c), qw.zero_point.push_back(0);
        qw.quantized_dimension = 3;
      } else {
        qw = per_tensor(0.01f, 128);
      }
      const TestTensor w = random_bytes(rng, t, {1, 3, 3, 40}, qw, true);
      const int32_t wid = b.constant(t, {1, 3, 3, 40}, std::vector<uint8_t>(w.bytes.begin(), w.bytes.begin() + 360), qw);
      const int32_t y = b.tensor(t, {2, 9, 11, 40}, per_tensor(0.06f, s8 ? 4 : 130));
      graph::OpAttrs dw;
      dw.padding = Padding::kSame;
      dw.depth_multiplier = 1;
      b.op(OpKind::kDepthwiseConv2d, {x, wid}, {y}, dw);
      b.output(append_silu(b, y, t, {2, 9, 11, 40}));
      if (y_is_output) b.output(y);
      std::vector<uint8_t> input(2 * 9 * 11 * 40);
      for (auto& v : input) v = static_cast<uint8_t>(rng());
      expect_unfused_bytes(b.shared(), input, "simd", vbmi && !y_is_output ? "fused" : "lut");
    }
  }
}

}  // namespace
}  // namespace qdet::rt::testing
