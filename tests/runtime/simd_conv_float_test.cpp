// qdet's float CONV_2D in register tiles (simd::kFloatConv2d) against XNNPACK's (the same bytes:
// the same FMAs in the same order per output), on seeded random shapes: 1x1 (flattened rows),
// 3x3 and 5x5 filters, strides 1 and 2, dilation, SAME and VALID padding, output channels around
// the 16-channel vectors and the 1..4-vector blocks, batches of 2, fused activations, with and
// without bias, NaN and infinite inputs; YOLOX-Nano's stem (3x3 over 12 channels at 208x208); a folded PAD; 1 and 3
// threads; with the SiLU taken in, the bytes of the convolution then the exact one-pass SiLU. Skipped (with the reason) without AVX-512.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>
#include <sstream>

#include "base/paths.h"
#include "graph_builder.h"
#include "kernel_test_support.h"
#include "runtime/interpreter.h"
#include "runtime/kernels/simd/kernels.h"
#include "runtime/kernels/xnnpack/kernels.h"
#include "runtime/lut_fusion.h"
#include "test_support.h"
#include "tflite/reader.h"

namespace qdet::rt::testing {
namespace {

using graph::Activation;
using graph::OpKind;
using graph::Padding;

bool skip_without_avx512() { return !__builtin_cpu_supports("avx512f"); }

struct Case {
  int32_t batch = 1, h = 8, w = 8, in_c = 16, out_c = 16, k = 3, stride = 1, dilation = 1;
  Padding padding = Padding::kSame;
  Activation activation = Activation::kNone;
  bool with_bias = true;
};

graph::Op conv_op(const Case& c) {
  graph::Op op;
  op.kind = OpKind::kConv2d;
  op.attrs.padding = c.padding;
  op.attrs.stride_h = op.attrs.stride_w = c.stride;
  op.attrs.dilation_h = op.attrs.dilation_w = c.dilation;
  op.attrs.activation = c.activation;
  return op;
}

std::string describe(const Case& c) {
  std::ostringstream s;
  s << "batch " << c.batch << " " << c.h << "x" << c.w << "x" << c.in_c << " -> " << c.out_c << " filter " << c.k
    << "x" << c.k << " stride " << c.stride << " dilation " << c.dilation << " " << padding_name(c.padding) << " "
    << graph::activation_name(c.activation) << (c.with_bias ? "" : " no-bias");
  return s.str();
}

void expect_xnnpacks_bytes(const Case& c, std::mt19937& rng, bool specials = false) {
  const std::string what = describe(c) + (specials ? " with NaN and infinities" : "");
  std::vector<float> x = random_floats(rng, int64_t{c.batch} * c.h * c.w * c.in_c, -1, 1);
  if (specials) scatter_nan_and_infinities(x, 97);
  const TestTensor input = TestTensor::floats({c.batch, c.h, c.w, c.in_c}, x, false);
  const TestTensor filter = TestTensor::floats(
      {c.out_c, c.k, c.k, c.in_c}, random_floats(rng, int64_t{c.out_c} * c.k * c.k * c.in_c, -0.5f, 0.5f), true);
  const TestTensor bias = TestTensor::floats({c.out_c}, random_floats(rng, c.out_c, -1, 1), true);
  std::vector<const TestTensor*> inputs = {&input, &filter};
  if (c.with_bias) inputs.push_back(&bias);
  const graph::Op op = conv_op(c);
  expect_xnnpacks_float_bits(simd::kFloatConv2d, xnn::kConv2d, op, inputs, what);
}

TEST(SimdConvFloat, RandomShapesGiveXnnpacksBytes) {
  if (skip_without_avx512()) GTEST_SKIP() << "this CPU has no AVX-512";
  std::mt19937 rng(11);
  const int32_t in_stride1[] = {12, 16, 24, 32, 48, 64, 80, 96, 128};
  const int32_t in_stride2[] = {6, 8, 12, 16, 24, 32, 40, 48, 64};
  const int32_t outs[] = {1, 4, 15, 16, 17, 32, 33, 48, 64, 80, 85, 96, 130};
  const int32_t sides[] = {1, 2, 5, 7, 13, 17, 26, 33};
  for (int iteration = 0; iteration < 60; ++iteration) {
    Case c;
    c.stride = 1 + static_cast<int32_t>(rng() % 2);
    c.in_c = c.stride == 1 ? in_stride1[rng() % std::size(in_stride1)] : in_stride2[rng() % std::size(in_stride2)];
    c.out_c = outs[rng() % std::size(outs)];
    const int32_t kinds[] = {1, 1, 3, 3, 5};
    c.k = kinds[rng() % std::size(kinds)];
    if (c.k == 5) c.in_c = std::min(c.in_c, 64);  // 5x5 over more channels: beyond its edge window
    c.dilation = c.k == 3 && rng() % 4 == 0 ? 2 : 1;
    c.h = sides[rng() % std::size(sides)];
    c.w = sides[rng() % std::size(sides)];
    c.batch = 1 + static_cast<int32_t>(rng() % 2);
    c.padding = rng() % 3 == 0 ? Padding::kValid : Padding::kSame;
    if (c.padding == Padding::kValid && (c.h < (c.k - 1) * c.dilation + 1 || c.w < (c.k - 1) * c.dilation + 1))
      c.padding = Padding::kSame;
    c.activation = rng() % 3 == 0 ? Activation::kRelu6 : (rng() % 2 ? Activation::kRelu : Activation::kNone);
    c.with_bias = rng() % 4 != 0;
    SCOPED_TRACE("iteration " + std::to_string(iteration));
    expect_xnnpacks_bytes(c, rng, /*specials=*/iteration % 5 == 4);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST(SimdConvFloat, YoloxStemAndPointwiseLayersGiveXnnpacksBytes) {
  if (skip_without_avx512()) GTEST_SKIP() << "this CPU has no AVX-512";
  std::mt19937 rng(12);
  Case stem;
  stem.h = stem.w = 208, stem.in_c = 12, stem.out_c = 16;
  expect_xnnpacks_bytes(stem, rng);
  Case pointwise;
  pointwise.h = pointwise.w = 52, pointwise.in_c = 64, pointwise.out_c = 80, pointwise.k = 1;
  expect_xnnpacks_bytes(pointwise, rng);
  // Narrow layers: a partial output vector, a last partial tile, edge windows on both sides.
  for (const int32_t out_c : {5, 13}) {
    Case narrow;
    narrow.h = 6, narrow.w = 37, narrow.in_c = 24, narrow.out_c = out_c, narrow.activation = Activation::kRelu;
    expect_xnnpacks_bytes(narrow, rng);
  }
  Case down;  // a strided 3x3 (YOLOX's downsampling convolutions)
  down.h = down.w = 52, down.in_c = 32, down.out_c = 64, down.stride = 2;
  expect_xnnpacks_bytes(down, rng);
}

// Prepares `kernel` on the padded input's shape, folds `pad` into it, and runs it on the
// unpadded `input`, the way the interpreter does when it removes a zero PAD.
KernelOutput run_kernel_folded(const Kernel& kernel, const graph::Op& op, const TestTensor& padded_like,
                               const TestTensor& filter, const TestTensor& bias, const TestTensor& input,
                               const SpatialPad& pad) {
  return run_kernel(kernel, op, {&padded_like, &filter, &bias}, 1, nullptr, /*exact_float=*/true,
                    [&](OpData* data, std::vector<TensorRef>& refs) {
                      if (!kernel.fold_input_pad || !kernel.fold_input_pad(data, input.shape, pad)) return false;
                      refs[0].shape = input.shape;
                      refs[0].data = const_cast<uint8_t*>(input.bytes.data());
                      return true;
                    });
}

// Prepares qdet's float convolution, hands it the SiLU (take_output_silu), runs it.
KernelOutput run_kernel_with_silu(const graph::Op& op, const std::vector<const TestTensor*>& inputs, int threads) {
  return run_kernel(simd::kFloatConv2d, op, inputs, threads, nullptr, /*exact_float=*/true,
                    [](OpData* data, std::vector<TensorRef>&) { return simd::kFloatConv2d.take_output_silu(data); });
}

// With the SiLU taken in (Kernel::take_output_silu), each output is the exact one-pass SiLU of
// the convolution's output: the same bytes as the convolution then simd::silu_exact.
TEST(SimdConvFloat, TakenSiluGivesTheBytesOfTheConvolutionThenTheExactSilu) {
  if (skip_without_avx512()) GTEST_SKIP() << "this CPU has no AVX-512";
  std::mt19937 rng(15);
  for (const Case& c : {Case{.h = 21, .w = 19, .in_c = 12, .out_c = 16}, Case{.h = 7, .w = 45, .in_c = 12, .out_c = 16},
                        Case{.batch = 2, .h = 13, .w = 13, .in_c = 64, .out_c = 80, .k = 1},
                        Case{.h = 9, .w = 11, .in_c = 16, .out_c = 33, .k = 3, .stride = 2, .activation = Activation::kRelu6}}) {
    const std::string what = describe(c);
    // Inputs and weights large enough that outputs reach the SiLU's saturation on both sides.
    const TestTensor input = TestTensor::floats(
        {c.batch, c.h, c.w, c.in_c}, random_floats(rng, int64_t{c.batch} * c.h * c.w * c.in_c, -8, 8), false);
    const TestTensor filter = TestTensor::floats(
        {c.out_c, c.k, c.k, c.in_c}, random_floats(rng, int64_t{c.out_c} * c.k * c.k * c.in_c, -1, 1), true);
    const TestTensor bias = TestTensor::floats({c.out_c}, random_floats(rng, c.out_c, -1, 1), true);
    const graph::Op op = conv_op(c);
    const KernelOutput plain = run_kernel(simd::kFloatConv2d, op, {&input, &filter, &bias}, 1, nullptr, true);
    ASSERT_TRUE(plain.prepare_status.ok() && plain.eval_status.ok()) << what;
    std::vector<float> expected(plain.values.size());
    simd::silu_exact(plain.values.data(), expected.data(), expected.size());
    for (int threads : {1, 3}) {
      const KernelOutput fused = run_kernel_with_silu(op, {&input, &filter, &bias}, threads);
      ASSERT_TRUE(fused.prepare_status.ok() && fused.eval_status.ok()) << what << ": " << fused.prepare_status.message();
      ASSERT_EQ(fused.values.size(), expected.size()) << what;
      EXPECT_EQ(std::memcmp(fused.values.data(), expected.data(), expected.size() * sizeof(float)), 0)
          << what << ", " << threads << " threads";
    }
  }
}

// The once-a-process check the kernels run can fail: the reference convolution (no FMA) does
// not give XNNPACK's bits.
TEST(SimdConvFloat, TheBitsCheckTellsADifferentArithmetic) {
  if (skip_without_avx512()) GTEST_SKIP() << "this CPU has no AVX-512";
  graph::Op op;
  op.kind = OpKind::kConv2d;
  op.attrs.padding = Padding::kSame;
  const Kernel& reference = *reference_kernel(OpKind::kConv2d);
  EXPECT_FALSE(simd::gives_xnnpacks_bits(reference.prepare, reference, xnn::kConv2d, op, {1, 7, 19, 12}, {21, 3, 3, 12}));
  EXPECT_TRUE(simd::gives_xnnpacks_bits(xnn::kConv2d.prepare, xnn::kConv2d, xnn::kConv2d, op, {1, 7, 19, 12}, {21, 3, 3, 12}));
}

// A zero PAD folded into the convolution reads the same zeros as XNNPACK's folded operator.
TEST(SimdConvFloat, FoldedPadGivesXnnpacksFoldedBytes) {
  if (skip_without_avx512()) GTEST_SKIP() << "this CPU has no AVX-512";
  std::mt19937 rng(13);
  const Shape unpadded = {1, 19, 23, 12};
  const SpatialPad pad{.top = 1, .bottom = 0, .left = 1, .right = 0};
  const TestTensor padded_like = TestTensor::floats({1, 20, 24, 12}, std::vector<float>(20 * 24 * 12, 0.0f), false);
  const TestTensor filter = TestTensor::floats({16, 3, 3, 12}, random_floats(rng, 16 * 9 * 12, -0.5f, 0.5f), true);
  const TestTensor bias = TestTensor::floats({16}, random_floats(rng, 16, -1, 1), true);
  const TestTensor input = TestTensor::floats(unpadded, random_floats(rng, 19 * 23 * 12, -1, 1), false);
  graph::Op op;
  op.kind = OpKind::kConv2d;
  op.attrs.padding = Padding::kValid;
  op.attrs.stride_h = op.attrs.stride_w = 2;
  // Prepared on the padded shape, folded, run on the unpadded input: both kernels.
  std::vector<std::vector<float>> results;
  for (const Kernel* kernel : {&simd::kFloatConv2d, &xnn::kConv2d}) {
    const KernelOutput out = run_kernel_folded(*kernel, op, padded_like, filter, bias, input, pad);
    ASSERT_TRUE(out.prepare_status.ok() && out.eval_status.ok()) << kernel->name << ": " << out.prepare_status.message();
    results.push_back(out.values);
  }
  ASSERT_EQ(results[0].size(), results[1].size());
  EXPECT_EQ(std::memcmp(results[0].data(), results[1].data(), results[0].size() * sizeof(float)), 0);
}

// What it does not take is left to oneDNN and XNNPACK: grouped convolutions, row steps (stride x
// input channels) it has no kernel for, KxK filters in plans that do not keep XNNPACK's bytes.
TEST(SimdConvFloat, DeclinesWhatItDoesNotRun) {
  if (skip_without_avx512()) GTEST_SKIP() << "this CPU has no AVX-512";
  std::mt19937 rng(14);
  const auto declined = [&](Shape in_shape, Shape filter_shape, int32_t stride, bool exact_float = true) {
    const TestTensor input = TestTensor::floats(in_shape, random_floats(rng, ::qdet::num_elements(in_shape), -1, 1), false);
    const TestTensor filter =
        TestTensor::floats(filter_shape, random_floats(rng, ::qdet::num_elements(filter_shape), -1, 1), true);
    Case c;
    c.stride = stride;
    return run_kernel(simd::kFloatConv2d, conv_op(c), {&input, &filter}, 1, nullptr, exact_float).prepare_status.code() ==
           StatusCode::kUnsupported;
  };
  EXPECT_TRUE(declined({1, 6, 6, 7}, {8, 3, 3, 7}, 1));     // 7 channels: no row step of 7
  EXPECT_TRUE(declined({1, 6, 6, 16}, {8, 3, 3, 8}, 1));    // grouped
  EXPECT_TRUE(declined({1, 6, 6, 3}, {8, 3, 3, 3}, 2));     // 3-channel images: XNNPACK's own kernel
  EXPECT_FALSE(declined({1, 6, 6, 16}, {8, 3, 3, 16}, 1));
  // Plans that may move float bytes: 1x1 filters only (oneDNN's KxK ones are faster).
  EXPECT_TRUE(declined({1, 6, 6, 16}, {8, 3, 3, 16}, 1, /*exact_float=*/false));
  EXPECT_FALSE(declined({1, 6, 6, 16}, {8, 1, 1, 16}, 1, /*exact_float=*/false));
}

}  // namespace
}  // namespace qdet::rt::testing

namespace qdet::rt {
namespace {

namespace fs = std::filesystem;

// YOLOX-Nano int8 (the default quantization on 4 calibration images): its float region's
// convolutions and depthwise convolutions run on qdet's kernels with their SiLUs taken in, and the model's outputs are the
// bytes of the plan that fuses nothing (keep_intermediates: each SiLU as XNNPACK's sigmoid and
// multiply operators).
TEST(SimdConvFloat, YoloxInt8WithTakenSilusIsByteIdenticalToTheUnfusedPlan) {
  const fs::path src = data_dir() / "models" / "yolox_nano_fp32_416.tflite";
  const fs::path calib = data_dir() / "coco" / "calib-111";
  QDET_REQUIRE_PATH(src);
  QDET_REQUIRE_PATH(calib);
  if (!__builtin_cpu_supports("avx512f")) GTEST_SKIP() << "this CPU has no AVX-512";
  const fs::path q = qdet::testing::scratch_dir() / "q.tflite";
  std::string log;
  ASSERT_EQ(qdet::testing::run_command(std::string(QDET_BINARY) + " quantize '" + src.string() +
                                           "' --mode int8 --calib '" + calib.string() + "' --calib-count 4 -o '" +
                                           q.string() + "'",
                                       &log),
            0)
      << log;
  auto model = tflite::load_tflite(q);
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto g = std::make_shared<const graph::Graph>(model->graph);
  auto fused = Interpreter::create(g);
  auto plain = Interpreter::create(g, InterpreterOptions{.keep_intermediates = true});
  ASSERT_TRUE(fused.ok() && plain.ok());
  int convs = 0, taken = 0;
  for (const SiluPair& pair : find_silu_pairs(*g, /*float32=*/true)) {
    const size_t producer = static_cast<size_t>(g->producers()[pair.input]);
    if (g->ops[producer].kind != graph::OpKind::kConv2d && g->ops[producer].kind != graph::OpKind::kDepthwiseConv2d)
      continue;
    ++convs;
    taken += std::string((*fused)->kernel_name(producer)) == "simd" &&
             std::string((*fused)->kernel_name(static_cast<size_t>(pair.mul_op))) == "fused";
  }
  EXPECT_GE(convs, 8);
  EXPECT_EQ(taken, convs);
  std::mt19937 rng(16);
  auto& in = (*fused)->input(0);
  std::uniform_real_distribution<float> pixel(0.0f, 255.0f);
  for (int64_t i = 0; i < in.num_elements(); ++i) in.as<float>()[i] = pixel(rng);
  std::memcpy((*plain)->input(0).data, in.data, in.byte_size());
  ASSERT_TRUE((*fused)->invoke().ok());
  ASSERT_TRUE((*plain)->invoke().ok());
  for (size_t o = 0; o < (*fused)->num_outputs(); ++o) {
    const TensorRef& a = (*fused)->output(o);
    const TensorRef& b = (*plain)->output(o);
    ASSERT_EQ(a.byte_size(), b.byte_size());
    EXPECT_EQ(std::memcmp(a.data, b.data, a.byte_size()), 0) << "output " << o;
  }
}

}  // namespace
}  // namespace qdet::rt
