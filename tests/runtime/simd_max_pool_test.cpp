// qdet's separable MAX_POOL_2D (simd::kSeparableMaxPool2d: a column pass, then a row pass)
// against the reference kernel, byte for byte: windows 5x5, 9x9, 13x13 and 3x7, SAME and VALID,
// batches of 2, channel counts around the SIMD widths, fused activations, float32 (with -inf,
// NaN and the float extremes among the values), int8 and uint8; 1 and 3 threads. Small windows
// and strides above 1 are left to XNNPACK.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <sstream>

#include "runtime/kernels/simd/kernels.h"
#include "kernel_test_support.h"

namespace qdet::rt::testing {
namespace {

using graph::Activation;
using graph::OpKind;
using graph::Padding;

TEST(SimdMaxPool, SameBytesAsTheReference) {
  std::mt19937 rng(17);
  const int32_t windows[][2] = {{5, 5}, {9, 9}, {13, 13}, {3, 7}};
  int compared = 0;
  for (DType t : {DType::kFloat32, DType::kInt8, DType::kUInt8}) {
    for (const auto& w : windows) {
      for (Padding padding : {Padding::kSame, Padding::kValid}) {
        const int32_t channels = 1 + static_cast<int32_t>(rng() % 70);
        const int32_t h = w[0] + static_cast<int32_t>(rng() % 9), wd = w[1] + static_cast<int32_t>(rng() % 9);
        const Shape shape = {2, h, wd, channels};
        const int64_t n = ::qdet::num_elements(shape);
        TestTensor input;
        if (t == DType::kFloat32) {
          std::vector<float> v = random_floats(rng, n, -50.0f, 50.0f);
          const float special[] = {-INFINITY, NAN, std::numeric_limits<float>::lowest(), INFINITY, -0.0f};
          for (size_t i = 0; i < std::size(special); ++i) v[(i * 7919) % v.size()] = special[i];
          input = make_tensor(t, shape, v, QuantParams{}, false);
        } else {
          std::vector<uint8_t> v(static_cast<size_t>(n));
          for (auto& x : v) x = static_cast<uint8_t>(rng());
          input = make_tensor(t, shape, v, per_tensor(0.05f, t == DType::kInt8 ? -7 : 120), false);
        }
        TestTensor out;
        out.dtype = t;
        out.quant = input.quant;
        graph::Op op;
        op.kind = OpKind::kMaxPool2d;
        op.attrs.filter_h = w[0];
        op.attrs.filter_w = w[1];
        op.attrs.padding = padding;
        op.attrs.activation = rng() % 2 ? Activation::kRelu6 : Activation::kNone;
        std::ostringstream what;
        what << dtype_name(t) << " " << h << "x" << wd << "x" << channels << " window " << w[0] << "x" << w[1] << " "
             << padding_name(padding) << " " << graph::activation_name(op.attrs.activation);
        const KernelOutput ref = run_reference(OpKind::kMaxPool2d, op, {&input}, out);
        ASSERT_TRUE(ref.prepare_status.ok() && ref.eval_status.ok()) << what.str() << ": " << ref.prepare_status.message();
        for (int threads : {1, 3}) {
          const KernelOutput got = run_kernel(simd::kSeparableMaxPool2d, op, {&input}, threads, &out);
          ASSERT_TRUE(got.prepare_status.ok()) << what.str() << ": " << got.prepare_status.message();
          ASSERT_TRUE(got.eval_status.ok()) << what.str();
          ASSERT_EQ(got.shape, ref.shape) << what.str();
          EXPECT_TRUE(got.bytes == ref.bytes) << what.str() << ", " << threads << " threads";
          ++compared;
        }
      }
    }
  }
  EXPECT_EQ(compared, 3 * 4 * 2 * 2);
}

TEST(SimdMaxPool, SmallWindowsAndStridesAreLeftToXnnpack) {
  std::mt19937 rng(3);
  const TestTensor input = make_tensor(DType::kFloat32, {1, 8, 8, 4}, random_floats(rng, 256, -1, 1), QuantParams{}, false);
  TestTensor out;
  out.dtype = DType::kFloat32;
  for (const auto& [k, stride] : {std::pair{3, 1}, std::pair{5, 2}}) {
    graph::Op op;
    op.kind = OpKind::kMaxPool2d;
    op.attrs.filter_h = op.attrs.filter_w = k;
    op.attrs.stride_h = op.attrs.stride_w = stride;
    op.attrs.padding = Padding::kSame;
    EXPECT_EQ(run_kernel(simd::kSeparableMaxPool2d, op, {&input}, 1, &out).prepare_status.code(),
              StatusCode::kUnsupported)
        << k << "x" << k << " stride " << stride;
  }
}

}  // namespace
}  // namespace qdet::rt::testing
