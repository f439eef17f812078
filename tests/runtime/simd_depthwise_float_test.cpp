// qdet's float DEPTHWISE_CONV_2D (simd::kFloatDepthwiseConv2d) against XNNPACK's (the same bytes:
// the same FMAs in the same order per output), on seeded random shapes: 3x3 and 5x5 filters,
// strides 1 and 2, dilation, SAME and VALID padding, channels around the 16-channel vectors,
// images narrower than a tile, batches of 2, fused activations, with and without bias, NaN and
// infinite inputs; 1 and 3 threads; with the SiLU taken in, the bytes of the convolution then
// the exact one-pass SiLU. Skipped (with the reason) without AVX-512.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <random>
#include <sstream>

#include "graph_builder.h"
#include "kernel_test_support.h"
#include "runtime/kernels/simd/kernels.h"
#include "runtime/kernels/xnnpack/kernels.h"

namespace qdet::rt::testing {
namespace {

using graph::Activation;
using graph::OpKind;
using graph::Padding;

struct Case {
  int32_t batch = 1, h = 8, w = 8, c = 16, k = 3, stride = 1, dilation = 1;
  Padding padding = Padding::kSame;
  Activation activation = Activation::kNone;
  bool with_bias = true;
};

graph::Op depthwise_op(const Case& c) {
  graph::Op op;
  op.kind = OpKind::kDepthwiseConv2d;
  op.attrs.padding = c.padding;
  op.attrs.stride_h = op.attrs.stride_w = c.stride;
  op.attrs.dilation_h = op.attrs.dilation_w = c.dilation;
  op.attrs.depth_multiplier = 1;
  op.attrs.activation = c.activation;
  return op;
}

std::string describe(const Case& c) {
  std::ostringstream s;
  s << "batch " << c.batch << " " << c.h << "x" << c.w << "x" << c.c << " filter " << c.k << "x" << c.k << " stride "
    << c.stride << " dilation " << c.dilation << " " << padding_name(c.padding) << " "
    << graph::activation_name(c.activation) << (c.with_bias ? "" : " no-bias");
  return s.str();
}

void expect_xnnpacks_bytes(const Case& c, std::mt19937& rng, bool specials) {
  const std::string what = describe(c) + (specials ? " with NaN and infinities" : "");
  std::vector<float> x = random_floats(rng, int64_t{c.batch} * c.h * c.w * c.c, -2, 2);
  if (specials) scatter_nan_and_infinities(x, 37);
  const TestTensor input = TestTensor::floats({c.batch, c.h, c.w, c.c}, x, false);
  const TestTensor filter = TestTensor::floats({1, c.k, c.k, c.c}, random_floats(rng, int64_t{c.k} * c.k * c.c, -1, 1), true);
  const TestTensor bias = TestTensor::floats({c.c}, random_floats(rng, c.c, -1, 1), true);
  std::vector<const TestTensor*> inputs = {&input, &filter};
  if (c.with_bias) inputs.push_back(&bias);
  const graph::Op op = depthwise_op(c);
  expect_xnnpacks_float_bits(simd::kFloatDepthwiseConv2d, xnn::kDepthwiseConv2d, op, inputs, what);
}

bool skip_without_avx512() { return !__builtin_cpu_supports("avx512f"); }

TEST(SimdDepthwiseFloat, RandomShapesGiveXnnpacksBytes) {
  if (skip_without_avx512()) GTEST_SKIP() << "this CPU has no AVX-512";
  std::mt19937 rng(21);
  const int32_t stride1[] = {16, 24, 32, 48, 64, 96, 128};
  const int32_t stride2[] = {8, 12, 16, 24, 32, 48, 64};
  const int32_t sides[] = {1, 2, 5, 8, 13, 17, 26, 33};
  for (int iteration = 0; iteration < 60; ++iteration) {
    Case c;
    c.stride = 1 + static_cast<int32_t>(rng() % 2);
    c.c = c.stride == 1 ? stride1[rng() % std::size(stride1)] : stride2[rng() % std::size(stride2)];
    c.k = rng() % 4 == 0 ? 5 : 3;
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

TEST(SimdDepthwiseFloat, YoloxLayersGiveXnnpacksBytes) {
  if (skip_without_avx512()) GTEST_SKIP() << "this CPU has no AVX-512";
  std::mt19937 rng(22);
  for (const Case& c : {Case{.h = 208, .w = 208, .c = 16, .stride = 2}, Case{.h = 104, .w = 104, .c = 16},
                        Case{.h = 104, .w = 104, .c = 32, .stride = 2}, Case{.h = 52, .w = 52, .c = 32}})
    expect_xnnpacks_bytes(c, rng, false);
}

TEST(SimdDepthwiseFloat, DeclinesWhatItDoesNotRun) {
  if (skip_without_avx512()) GTEST_SKIP() << "this CPU has no AVX-512";
  std::mt19937 rng(23);
  const auto declined = [&](int32_t c, int32_t multiplier, bool exact_float) {
    const TestTensor input = TestTensor::floats({1, 6, 6, c}, random_floats(rng, 36 * c, -1, 1), false);
    const TestTensor filter =
        TestTensor::floats({1, 3, 3, c * multiplier}, random_floats(rng, 9 * c * multiplier, -1, 1), true);
    graph::Op op = depthwise_op(Case{});
    op.attrs.depth_multiplier = multiplier;
    return run_kernel(simd::kFloatDepthwiseConv2d, op, {&input, &filter}, 1, nullptr, exact_float).prepare_status.code() ==
           StatusCode::kUnsupported;
  };
  EXPECT_TRUE(declined(16, 2, true));    // depth multiplier 2
  EXPECT_TRUE(declined(7, 1, true));     // no row step of 7 channels
  EXPECT_TRUE(declined(16, 1, false));   // plans free to move float bytes keep XNNPACK's
  EXPECT_FALSE(declined(16, 1, true));
}

}  // namespace
}  // namespace qdet::rt::testing
