// XNNPACK ADD/SUB/MUL (broadcasting, fused activation) and the element-wise unary ops against
// the reference kernels.
#include <gtest/gtest.h>

#include <sstream>

#include "runtime/kernels/xnnpack/kernels.h"
#include "kernel_test_support.h"

namespace qdet::rt::testing {
namespace {

using graph::Activation;
using graph::OpKind;

// Float add, subtract and multiply are correctly rounded (IEEE 754), and so is a clamp:
// however either kernel orders its loops, each output is the same single rounding.
constexpr double kCorrectlyRounded = 0.0;

class BinaryTester {
 public:
  BinaryTester& op(OpKind k) { kind_ = k; return *this; }
  BinaryTester& shapes(Shape a, Shape b) { a_ = std::move(a); b_ = std::move(b); return *this; }
  BinaryTester& activation(Activation a) { activation_ = a; return *this; }
  BinaryTester& constant_second(bool c) { constant_b_ = c; return *this; }
  BinaryTester& seed(uint32_t s) { seed_ = s; return *this; }

  std::string describe() const {
    std::ostringstream s;
    s << graph::op_name(kind_) << " " << shape_to_string(a_) << " x " << shape_to_string(b_)
      << (constant_b_ ? " (constant)" : "") << " activation "
      << graph::activation_name(activation_) << " seed " << seed_;
    return s.str();
  }

  void Test() const {
    std::mt19937 rng(seed_);
    TestTensor a = TestTensor::floats(a_, random_floats(rng, num_elements(a_), -4, 4), false);
    TestTensor b =
        TestTensor::floats(b_, random_floats(rng, num_elements(b_), -4, 4), constant_b_);
    graph::Op op;
    op.kind = kind_;
    op.inputs = {0, 1};
    op.outputs = {2};
    op.attrs.activation = activation_;
    if (threads_only_) {
      expect_thread_invariant(kind_, op, {&a, &b}, describe());
      return;
    }
    expect_matches_reference(kind_, op, {&a, &b}, [](size_t) { return kCorrectlyRounded; },
                             describe());
  }
  // Checks 1/2/4-thread bit-identity instead of comparing with the reference.
  void TestThreads() {
    threads_only_ = true;
    Test();
  }

 private:
  OpKind kind_ = OpKind::kAdd;
  Shape a_ = {1, 8}, b_ = {1, 8};
  Activation activation_ = Activation::kNone;
  bool constant_b_ = false, threads_only_ = false;
  uint32_t seed_ = 11;
};

constexpr OpKind kBinaryOps[] = {OpKind::kAdd, OpKind::kSub, OpKind::kMul};

TEST(XnnpackBinary, SameShapesAcrossSimdWidths) {
  uint32_t seed = 1;
  for (OpKind kind : kBinaryOps)
    for (int32_t c : {1, 7, 8, 9, 16, 17})
      BinaryTester().op(kind).shapes({1, 5, 3, c}, {1, 5, 3, c}).seed(seed++).Test();
}

TEST(XnnpackBinary, Broadcasting) {
  const std::pair<Shape, Shape> cases[] = {
      {{1, 8, 8, 16}, {16}},                // per-channel vector
      {{1, 7, 9, 17}, {1, 1, 1, 17}},
      {{1, 7, 9, 17}, {1, 7, 9, 1}},        // per-pixel scalar
      {{1, 7, 9, 1}, {1, 7, 9, 17}},        // first operand broadcast
      {{2, 1, 5, 7}, {1, 3, 1, 7}},         // both broadcast
      {{1, 6, 6, 9}, {}},                   // scalar
      {{1}, {3, 4, 9}},
      {{2, 3, 1, 4, 5}, {3, 2, 1, 5}},      // 5-D
      {{2, 1, 3, 1, 2, 3}, {1, 2, 1, 4, 1, 3}},  // 6-D
  };
  uint32_t seed = 50;
  for (OpKind kind : kBinaryOps)
    for (const auto& [a, b] : cases) {
      BinaryTester().op(kind).shapes(a, b).seed(seed++).Test();
      BinaryTester().op(kind).shapes(a, b).constant_second(true).seed(seed++).Test();
    }
}

TEST(XnnpackBinary, FusedActivations) {
  for (OpKind kind : kBinaryOps)
    for (Activation act : {Activation::kRelu, Activation::kRelu6, Activation::kReluN1To1})
      BinaryTester().op(kind).shapes({1, 9, 9, 17}, {17}).activation(act).Test();
}

TEST(XnnpackBinary, ThreadCountInvariant) {
  for (OpKind kind : kBinaryOps) {
    BinaryTester().op(kind).shapes({1, 52, 52, 64}, {1, 52, 52, 64}).TestThreads();
    BinaryTester().op(kind).shapes({1, 52, 52, 64}, {64}).constant_second(true).TestThreads();
    BinaryTester().op(kind).shapes({2, 26, 1, 33}, {1, 26, 40, 1}).TestThreads();
  }
}

TEST(XnnpackBinary, UnsupportedFallsBack) {
  TestTensor a = TestTensor::floats({2, 3}, std::vector<float>(6, 1.0f), false);
  TestTensor b = TestTensor::floats({4, 3}, std::vector<float>(12, 1.0f), false);
  graph::Op op;
  op.kind = OpKind::kAdd;
  op.inputs = {0, 1};
  op.outputs = {2};
  // Shapes that do not broadcast: the reference kernel gives the error.
  EXPECT_EQ(run_kernel(xnn::kAdd, op, {&a, &b}).prepare_status.code(), StatusCode::kUnsupported);
  op.attrs.activation = Activation::kTanh;
  EXPECT_EQ(run_kernel(xnn::kAdd, op, {&a, &a}).prepare_status.code(), StatusCode::kUnsupported);
}

// Unary ops. Tolerances:
//   LOGISTIC: XNNPACK's sigmoid and the reference's 1/(1+exp(-x)) are each within a few ulps
//     of the true value: 8 ulps of the result.
//   HARD_SWISH: x * relu6(x + 3) / 6 takes three roundings in either kernel, in different
//     order: 4 ulps of |x|.
//   LEAKY_RELU, RELU*: one multiply or a clamp, correctly rounded: exact.
class UnaryTester {
 public:
  UnaryTester& op(OpKind k) { kind_ = k; return *this; }
  UnaryTester& shape(Shape s) { shape_ = std::move(s); return *this; }
  UnaryTester& alpha(float a) { alpha_ = a; return *this; }
  UnaryTester& range(float lo, float hi) { lo_ = lo; hi_ = hi; return *this; }
  UnaryTester& seed(uint32_t s) { seed_ = s; return *this; }

  void Test() const {
    std::mt19937 rng(seed_);
    const std::vector<float> x = random_floats(rng, num_elements(shape_), lo_, hi_);
    TestTensor input = TestTensor::floats(shape_, x, false);
    graph::Op op;
    op.kind = kind_;
    op.inputs = {0};
    op.outputs = {1};
    op.attrs.alpha = alpha_;
    std::ostringstream what;
    what << graph::op_name(kind_) << " " << shape_to_string(shape_) << " range [" << lo_ << ","
         << hi_ << "] alpha " << alpha_ << " seed " << seed_;
    const OpKind kind = kind_;
    const Kernel* ref = reference_kernel(kind);
    ASSERT_NE(ref, nullptr);
    const KernelOutput expected = run_kernel(*ref, op, {&input});
    auto tolerance = [&](size_t i) -> double {
      switch (kind) {
        case OpKind::kLogistic:
          return 8.0 * kEps * std::fabs(expected.values.at(i));
        case OpKind::kHardSwish:
          return 4.0 * kEps * std::fabs(x[i]);
        default:
          return kCorrectlyRounded;
      }
    };
    if (threads_only_) {
      expect_thread_invariant(kind_, op, {&input}, what.str());
      return;
    }
    expect_matches_reference(kind_, op, {&input}, tolerance, what.str());
  }
  void TestThreads() {
    threads_only_ = true;
    Test();
  }

 private:
  OpKind kind_ = OpKind::kLogistic;
  Shape shape_ = {1, 8};
  float alpha_ = 0.0f, lo_ = -8.0f, hi_ = 8.0f;
  bool threads_only_ = false;
  uint32_t seed_ = 3;
};

const Shape kUnaryShapes[] = {{1}, {7}, {8}, {9}, {16}, {17}, {1, 13, 11, 17}, {2, 3, 4097}};

TEST(XnnpackUnary, Logistic) {
  uint32_t seed = 1;
  for (const Shape& s : kUnaryShapes)
    UnaryTester().op(OpKind::kLogistic).shape(s).range(-12, 12).seed(seed++).Test();
}

TEST(XnnpackUnary, HardSwish) {
  uint32_t seed = 20;
  for (const Shape& s : kUnaryShapes)
    UnaryTester().op(OpKind::kHardSwish).shape(s).range(-5, 5).seed(seed++).Test();
}

TEST(XnnpackUnary, LeakyRelu) {
  uint32_t seed = 40;
  for (float alpha : {0.1f, 0.2f, 0.01f})
    for (const Shape& s : kUnaryShapes)
      UnaryTester().op(OpKind::kLeakyRelu).shape(s).alpha(alpha).seed(seed++).Test();
}

TEST(XnnpackUnary, ReluFamily) {
  uint32_t seed = 60;
  for (OpKind kind : {OpKind::kRelu, OpKind::kRelu6, OpKind::kReluN1To1})
    for (const Shape& s : kUnaryShapes)
      UnaryTester().op(kind).shape(s).seed(seed++).Test();
}

TEST(XnnpackUnary, ThreadCountInvariant) {
  for (OpKind kind : {OpKind::kLogistic, OpKind::kHardSwish, OpKind::kLeakyRelu, OpKind::kRelu6})
    UnaryTester().op(kind).shape({1, 104, 104, 33}).alpha(0.1f).TestThreads();
}

TEST(XnnpackUnary, NonFloatFallsBack) {
  TestTensor q;
  q.dtype = DType::kInt8;
  q.shape = {4};
  q.bytes.assign(4 + kTailBytes, 0);
  graph::Op op;
  op.kind = OpKind::kLogistic;
  op.inputs = {0};
  op.outputs = {1};
  EXPECT_EQ(run_kernel(xnn::kLogistic, op, {&q}).prepare_status.code(), StatusCode::kUnsupported);
}

}  // namespace
}  // namespace qdet::rt::testing
