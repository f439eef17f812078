// qdet's int8 / uint8 1x1 CONV_2D on AMX tiles (simd::k8BitPointwiseConv2d) against XNNPACK's
// kernel (the same bytes: the same exact sums and fp32 requantization) and the reference (within
// one step: TFLite's reference requantizes in fixed point), on seeded random shapes: pixel
// counts around the 16-pixel tiles and 32-pixel blocks, input channels from 4 to 256 (one tile
// of up to 64, or several of 64), output channels around the 16-channel tiles, batches of 2,
// fused activations, with and without bias, int8 per-channel, int8 per-tensor and uint8 with a
// weight zero point. 1 and 3 threads give the same bytes. Skipped (with the reason) without AMX.
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

TestTensor random_bytes(std::mt19937& rng, DType dtype, Shape shape, QuantParams quant) {
  std::vector<uint8_t> v(static_cast<size_t>(::qdet::num_elements(shape)));
  for (auto& x : v) x = static_cast<uint8_t>(rng());
  return make_tensor(dtype, std::move(shape), v, std::move(quant), /*constant=*/false);
}

// Weights whose difference from `zero_point` fits int8 (int8: -127..127, as TFLite's).
TestTensor random_weights(std::mt19937& rng, DType dtype, Shape shape, QuantParams quant, int32_t zero_point) {
  std::vector<uint8_t> v(static_cast<size_t>(::qdet::num_elements(shape)));
  for (auto& x : v) x = static_cast<uint8_t>(zero_point + static_cast<int32_t>(rng() % 255) - 127);
  return make_tensor(dtype, std::move(shape), v, std::move(quant), /*constant=*/true);
}

enum class Weights { kInt8PerChannel, kInt8PerTensor, kUint8 };

graph::Op pointwise_op(Activation activation) {
  graph::Op op;
  op.kind = OpKind::kConv2d;
  op.attrs.stride_h = op.attrs.stride_w = 1;
  op.attrs.padding = Padding::kSame;
  op.attrs.activation = activation;
  return op;
}

void sweep(Weights kind, uint32_t seed) {
  std::mt19937 rng(seed);
  const DType dtype = kind == Weights::kUint8 ? DType::kUInt8 : DType::kInt8;
  const int32_t in_options[] = {4, 8, 12, 16, 32, 48, 60, 64, 128, 192, 256};
  const int32_t out_options[] = {1, 5, 16, 17, 31, 32, 33, 48, 64, 85, 128};
  const int32_t side_options[] = {1, 3, 4, 5, 6, 7, 13};  // 1 .. 169 pixels an image
  for (int iteration = 0; iteration < 14; ++iteration) {
    const int32_t in_c = in_options[rng() % std::size(in_options)];
    const int32_t out_c = out_options[rng() % std::size(out_options)];
    const int32_t batch = 1 + static_cast<int32_t>(rng() % 2);
    const int32_t h = side_options[rng() % std::size(side_options)], w = side_options[rng() % std::size(side_options)];
    const Activation activation =
        rng() % 3 == 0 ? Activation::kRelu6 : (rng() % 2 ? Activation::kRelu : Activation::kNone);
    const float in_scale = std::uniform_real_distribution<float>(0.01f, 0.05f)(rng);
    const int64_t in_zp = (dtype == DType::kInt8 ? 0 : 128) + static_cast<int64_t>(rng() % 201) - 100;
    std::uniform_real_distribution<float> fscale(0.002f, 0.02f);
    QuantParams wq;
    int32_t w_zp = 0;
    if (kind == Weights::kInt8PerChannel) {
      for (int32_t c = 0; c < out_c; ++c) wq.scale.push_back(fscale(rng)), wq.zero_point.push_back(0);
      wq.quantized_dimension = 0;
    } else {
      w_zp = kind == Weights::kUint8 ? 127 + static_cast<int32_t>(rng() % 2) : 0;
      wq = per_tensor(fscale(rng), w_zp);
    }
    // About 40 steps a standard deviation of the sums.
    const float out_scale = in_scale * wq.scale[0] * 75.0f * std::sqrt(static_cast<float>(in_c)) / 4.0f;
    const int64_t out_zp = (dtype == DType::kInt8 ? 0 : 128) + static_cast<int64_t>(rng() % 61) - 30;
    const TestTensor input = random_bytes(rng, dtype, {batch, h, w, in_c}, per_tensor(in_scale, in_zp));
    const TestTensor filter = random_weights(rng, dtype, {out_c, 1, 1, in_c}, wq, w_zp);
    std::vector<int32_t> bias_values(static_cast<size_t>(out_c));
    for (auto& b : bias_values) b = static_cast<int32_t>(rng() % 40001) - 20000;
    const TestTensor bias = TestTensor::int32s({out_c}, bias_values);
    const bool with_bias = rng() % 4 != 0;
    TestTensor out;
    out.dtype = dtype;
    out.quant = per_tensor(out_scale, out_zp);
    const graph::Op op = pointwise_op(activation);
    std::ostringstream what;
    what << dtype_name(dtype) << " batch " << batch << " " << h << "x" << w << " " << in_c << " -> " << out_c << " "
         << graph::activation_name(activation) << (with_bias ? "" : " no-bias") << " seed " << seed << " iteration "
         << iteration;
    std::vector<const TestTensor*> inputs = {&input, &filter};
    if (with_bias) inputs.push_back(&bias);

    const KernelOutput got = run_kernel(simd::k8BitPointwiseConv2d, op, inputs, 1, &out);
    ASSERT_TRUE(got.prepare_status.ok()) << what.str() << ": " << got.prepare_status.message();
    ASSERT_TRUE(got.eval_status.ok()) << what.str() << ": " << got.eval_status.message();
    expect_xnnpacks_bytes(simd::k8BitPointwiseConv2d, xnn::kConv2dQuantized, op, inputs, out, got, what.str(), 500);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

bool skip_without_amx() { return !simd::has_amx_int8(); }

TEST(SimdPointwiseAmx, Int8PerChannelGivesXnnpacksBytes) {
  if (skip_without_amx()) GTEST_SKIP() << "this CPU has no AMX-INT8 (or the kernel does not allow it)";
  for (uint32_t seed : {1u, 2u, 3u}) sweep(Weights::kInt8PerChannel, seed);
}
TEST(SimdPointwiseAmx, Int8PerTensorGivesXnnpacksBytes) {
  if (skip_without_amx()) GTEST_SKIP() << "this CPU has no AMX-INT8 (or the kernel does not allow it)";
  for (uint32_t seed : {4u, 5u}) sweep(Weights::kInt8PerTensor, seed);
}
TEST(SimdPointwiseAmx, Uint8WithWeightZeroPointGivesXnnpacksBytes) {
  if (skip_without_amx()) GTEST_SKIP() << "this CPU has no AMX-INT8 (or the kernel does not allow it)";
  for (uint32_t seed : {6u, 7u, 8u}) sweep(Weights::kUint8, seed);
}

// What it does not take is left to oneDNN and XNNPACK: 3x3 filters, stride 2, input channels
// that are not a multiple of 4 (or of 64 beyond 64), uint8 weights whose spread around their
// zero point does not fit int8. Without AMX, everything is declined.
TEST(SimdPointwiseAmx, DeclinesWhatItDoesNotRun) {
  std::mt19937 rng(9);
  const auto declined = [&](Shape in_shape, Shape filter_shape, int32_t stride, DType dtype, int32_t w_zp,
                            bool wide_weights) {
    const TestTensor input = random_bytes(rng, dtype, std::move(in_shape), per_tensor(0.02f, dtype == DType::kInt8 ? 3 : 130));
    TestTensor filter = random_weights(rng, dtype, std::move(filter_shape), per_tensor(0.01f, w_zp), w_zp);
    if (wide_weights) {
      filter.bytes[0] = 0;
      filter.bytes[1] = 255;
    }
    TestTensor out;
    out.dtype = dtype;
    out.quant = per_tensor(0.05f, dtype == DType::kInt8 ? 0 : 128);
    graph::Op op = pointwise_op(Activation::kNone);
    op.attrs.stride_h = op.attrs.stride_w = stride;
    return run_kernel(simd::k8BitPointwiseConv2d, op, {&input, &filter}, 1, &out).prepare_status.code() ==
           StatusCode::kUnsupported;
  };
  EXPECT_TRUE(declined({1, 6, 6, 16}, {8, 3, 3, 16}, 1, DType::kInt8, 0, false));
  EXPECT_TRUE(declined({1, 6, 6, 16}, {8, 1, 1, 16}, 2, DType::kInt8, 0, false));
  EXPECT_TRUE(declined({1, 6, 6, 6}, {8, 1, 1, 6}, 1, DType::kInt8, 0, false));
  EXPECT_TRUE(declined({1, 6, 6, 96}, {8, 1, 1, 96}, 1, DType::kInt8, 0, false));
  EXPECT_TRUE(declined({1, 6, 6, 16}, {8, 1, 1, 16}, 1, DType::kUInt8, 120, true));
  if (!skip_without_amx()) {
    EXPECT_FALSE(declined({1, 6, 6, 16}, {8, 1, 1, 16}, 1, DType::kInt8, 0, false));
  }
  simd::allow_amx_for_testing(false);
  EXPECT_TRUE(declined({1, 6, 6, 16}, {8, 1, 1, 16}, 1, DType::kInt8, 0, false));
  simd::allow_amx_for_testing(true);
}

// x -> 1x1 CONV_2D (AMX) -> y -> LOGISTIC -> MUL(y, sigmoid) -> out (`x_first`: MUL's operand
// order), and with `y_is_output` y a graph output too. The SiLU becomes a table (fuse_silu) and
// the table goes into the convolution's stores (fuse_output_tables): the unfused run's bytes.
// Where y is an output it must be stored, so the table stays its own op.
TEST(SimdPointwiseAmx, SiluTableFusedIntoTheConvolutionKeepsTheBytes) {
  if (skip_without_amx()) GTEST_SKIP() << "this CPU has no AMX-INT8 (or the kernel does not allow it)";
  for (const DType t : {DType::kInt8, DType::kUInt8}) {
    for (const bool x_first : {true, false}) {
      for (const bool y_is_output : {false, true}) {
        SCOPED_TRACE(::testing::Message() << dtype_name(t) << (x_first ? " y first" : " sigmoid first")
                                          << (y_is_output ? ", y an output" : ""));
        const bool s8 = t == DType::kInt8;
        std::mt19937 rng(21);
        GraphBuilder b;
        const int32_t x = b.input(t, {2, 7, 9, 32}, per_tensor(0.05f, s8 ? -3 : 125));
        std::vector<uint8_t> w(48 * 32);
        for (auto& v : w) v = static_cast<uint8_t>(s8 ? rng() % 255 + 1 : 128 + rng() % 255 - 127);
        QuantParams qw;
        if (s8) {
          for (int32_t c = 0; c < 48; ++c) qw.scale.push_back(0.002f + 0.0001f * c), qw.zero_point.push_back(0);
        } else {
          qw = per_tensor(0.003f, 128);
        }
        const int32_t wid = b.constant(t, {48, 1, 1, 32}, w, qw);
        const int32_t y = b.tensor(t, {2, 7, 9, 48}, per_tensor(0.06f, s8 ? 4 : 130));
        graph::OpAttrs conv;
        conv.padding = Padding::kSame;
        b.op(OpKind::kConv2d, {x, wid}, {y}, conv);
        b.output(append_silu(b, y, t, {2, 7, 9, 48}, x_first));
        if (y_is_output) b.output(y);
        std::vector<uint8_t> input(2 * 7 * 9 * 32);
        for (auto& v : input) v = static_cast<uint8_t>(rng());
        expect_unfused_bytes(b.shared(), input, "simd", y_is_output ? "lut" : "fused");
      }
    }
  }
}

}  // namespace
}  // namespace qdet::rt::testing
