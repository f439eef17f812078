// The "copy" fast kernels (CONCATENATION, RESIZE_NEAREST_NEIGHBOR) and XNNPACK's PAD against
// the reference kernels. They move bytes, so outputs must be identical.
#include <gtest/gtest.h>

#include <sstream>

#include "runtime/kernels/xnnpack/kernels.h"
#include "kernel_test_support.h"

namespace qdet::rt::testing {
namespace {

using graph::OpKind;

constexpr auto kExact = [](size_t) { return 0.0; };

class ConcatTester {
 public:
  ConcatTester& shapes(std::vector<Shape> s) { shapes_ = std::move(s); return *this; }
  ConcatTester& axis(int32_t a) { axis_ = a; return *this; }
  ConcatTester& int8(bool q) { int8_ = q; return *this; }
  ConcatTester& constant_last(bool c) { constant_last_ = c; return *this; }
  ConcatTester& seed(uint32_t s) { seed_ = s; return *this; }

  std::string describe() const {
    std::ostringstream s;
    s << "CONCATENATION axis " << axis_ << (int8_ ? " int8" : " float32");
    for (const Shape& sh : shapes_) s << " " << shape_to_string(sh);
    return s.str();
  }

  void Test(bool threads = false) const {
    std::mt19937 rng(seed_);
    std::vector<TestTensor> tensors;
    for (size_t i = 0; i < shapes_.size(); ++i) {
      const int64_t n = num_elements(shapes_[i]);
      tensors.push_back(int8_ ? TestTensor::int8s(shapes_[i], random_int8s(rng, n), 0.5f, 3)
                              : TestTensor::floats(shapes_[i], random_floats(rng, n, -9, 9),
                                                   false));
      tensors.back().constant = constant_last_ && i + 1 == shapes_.size();
    }
    std::vector<const TestTensor*> inputs;
    graph::Op op;
    op.kind = OpKind::kConcatenation;
    for (size_t i = 0; i < tensors.size(); ++i) {
      inputs.push_back(&tensors[i]);
      op.inputs.push_back(static_cast<int32_t>(i));
    }
    op.outputs = {static_cast<int32_t>(tensors.size())};
    op.attrs.axis = axis_;
    const TestTensor* out_like = int8_ ? &tensors[0] : nullptr;
    if (threads)
      expect_thread_invariant(OpKind::kConcatenation, op, inputs, describe(), out_like);
    else
      expect_matches_reference(OpKind::kConcatenation, op, inputs, kExact, describe(), out_like);
  }

 private:
  std::vector<Shape> shapes_;
  int32_t axis_ = 0;
  bool int8_ = false, constant_last_ = false;
  uint32_t seed_ = 1;
};

TEST(FastConcatenation, AxesRanksAndInputCounts) {
  uint32_t seed = 1;
  for (int32_t c : {1, 7, 8, 9, 16, 17}) {
    ConcatTester().shapes({{1, 5, 4, c}, {1, 5, 4, 16}}).axis(3).seed(seed++).Test();
    ConcatTester().shapes({{1, 5, 4, c}, {1, 5, 4, 3}, {1, 5, 4, c}}).axis(-1).seed(seed++).Test();
    ConcatTester().shapes({{2, 3, 4, c}, {2, 1, 4, c}}).axis(1).seed(seed++).Test();
    ConcatTester().shapes({{2, 3, 2, c}, {2, 3, 5, c}}).axis(2).seed(seed++).Test();
    ConcatTester().shapes({{1, 3, c}, {2, 3, c}, {3, 3, c}}).axis(0).seed(seed++).Test();
  }
  ConcatTester().shapes({{6}}).axis(0).Test();
  ConcatTester().shapes({{1, 3549, 4}, {1, 3549, 1}, {1, 3549, 80}}).axis(2).constant_last(true)
      .Test();
  ConcatTester().shapes({{3, 4}, {3, 0}, {3, 2}}).axis(1).Test();  // an empty input
}

TEST(FastConcatenation, Int8WithSharedQuantization) {
  ConcatTester().int8(true).shapes({{1, 4, 4, 7}, {1, 4, 4, 9}}).axis(3).Test();
  ConcatTester().int8(true).shapes({{2, 3, 17}, {2, 5, 17}}).axis(1).Test();
}

// Every input's row 1-16 bytes: the fixed-size copy path (a space-to-depth concat of RGB slices).
TEST(FastConcatenation, ShortRowsEveryInput) {
  ConcatTester().shapes({{1, 5, 4, 1}, {1, 5, 4, 3}, {1, 5, 4, 2}, {1, 5, 4, 4}}).axis(3).Test();
  ConcatTester().shapes({{3, 7, 1}, {3, 7, 1}}).axis(-1).Test();
  ConcatTester().int8(true).shapes({{1, 9, 7, 3}, {1, 9, 7, 3}, {1, 9, 7, 3}, {1, 9, 7, 3}}).axis(3).Test();
  ConcatTester().int8(true).shapes({{1, 9, 7, 1}, {1, 9, 7, 6}, {1, 9, 7, 16}, {1, 9, 7, 5}}).axis(3).Test();
  ConcatTester().int8(true).shapes({{1, 104, 104, 3}, {1, 104, 104, 3}, {1, 104, 104, 3}, {1, 104, 104, 3}})
      .axis(3).Test(/*threads=*/true);
  ConcatTester().shapes({{1, 64, 64, 3}, {1, 64, 64, 1}}).axis(3).Test(/*threads=*/true);
}

TEST(FastConcatenation, ThreadCountInvariant) {
  ConcatTester().shapes({{1, 52, 52, 64}, {1, 52, 52, 64}}).axis(3).Test(/*threads=*/true);
  ConcatTester().shapes({{1, 26, 26, 7}, {1, 26, 26, 9}, {1, 26, 26, 1}}).axis(-1)
      .Test(/*threads=*/true);
}

TEST(FastConcatenation, UnsupportedFallsBack) {
  TestTensor a = TestTensor::int8s({2, 3}, std::vector<int8_t>(6, 1), 0.5f, 0);
  TestTensor b = TestTensor::int8s({2, 3}, std::vector<int8_t>(6, 1), 0.25f, 0);
  graph::Op op;
  op.kind = OpKind::kConcatenation;
  op.inputs = {0, 1};
  op.outputs = {2};
  // Different scales need requantization: the reference kernel's job.
  EXPECT_EQ(run_kernel(xnn::kConcatenation, op, {&a, &b}, 1, &a).prepare_status.code(),
            StatusCode::kUnsupported);
  TestTensor f = TestTensor::floats({2, 3}, std::vector<float>(6, 1.0f), false);
  op.attrs.axis = 2;
  EXPECT_EQ(run_kernel(xnn::kConcatenation, op, {&f, &f}).prepare_status.code(),
            StatusCode::kUnsupported);
  op.attrs.axis = 1;
  op.attrs.activation = graph::Activation::kRelu;
  EXPECT_EQ(run_kernel(xnn::kConcatenation, op, {&f, &f}).prepare_status.code(),
            StatusCode::kUnsupported);
}

class ResizeNearestTester {
 public:
  ResizeNearestTester& input(Shape s) { shape_ = std::move(s); return *this; }
  ResizeNearestTester& output(int32_t h, int32_t w) { out_h_ = h; out_w_ = w; return *this; }
  ResizeNearestTester& mode(bool align, bool half) {
    align_ = align;
    half_ = half;
    return *this;
  }
  ResizeNearestTester& int8(bool q) { int8_ = q; return *this; }

  void Test(bool threads = false) const {
    std::mt19937 rng(21);
    const int64_t n = num_elements(shape_);
    TestTensor input = int8_ ? TestTensor::int8s(shape_, random_int8s(rng, n), 0.1f, -4)
                             : TestTensor::floats(shape_, random_floats(rng, n, -3, 3), false);
    TestTensor size = TestTensor::int32s({2}, {out_h_, out_w_});
    graph::Op op;
    op.kind = OpKind::kResizeNearestNeighbor;
    op.inputs = {0, 1};
    op.outputs = {2};
    op.attrs.align_corners = align_;
    op.attrs.half_pixel_centers = half_;
    std::ostringstream what;
    what << "RESIZE_NEAREST_NEIGHBOR " << shape_to_string(shape_) << " -> " << out_h_ << "x"
         << out_w_ << (align_ ? " align_corners" : "") << (half_ ? " half_pixel_centers" : "")
         << (int8_ ? " int8" : "");
    const TestTensor* out_like = int8_ ? &input : nullptr;
    if (threads)
      expect_thread_invariant(op.kind, op, {&input, &size}, what.str(), out_like);
    else
      expect_matches_reference(op.kind, op, {&input, &size}, kExact, what.str(), out_like);
  }

 private:
  Shape shape_ = {1, 4, 4, 8};
  int32_t out_h_ = 8, out_w_ = 8;
  bool align_ = false, half_ = false, int8_ = false;
};

TEST(FastResizeNearestNeighbor, ModesSizesChannels) {
  const std::pair<std::pair<int32_t, int32_t>, std::pair<int32_t, int32_t>> sizes[] = {
      {{13, 13}, {26, 26}}, {{7, 5}, {11, 13}}, {{16, 12}, {9, 5}}, {{1, 1}, {3, 4}},
      {{5, 6}, {1, 1}},     {{5, 6}, {5, 6}}};
  for (auto [align, half] : {std::pair{false, false}, {true, false}, {false, true}})
    for (int32_t c : {1, 7, 8, 9, 16, 17})
      for (const auto& [in, out] : sizes)
        ResizeNearestTester().input({1, in.first, in.second, c}).output(out.first, out.second)
            .mode(align, half).Test();
  ResizeNearestTester().input({2, 6, 7, 9}).output(12, 14).int8(true).Test();
  ResizeNearestTester().input({2, 6, 7, 9}).output(12, 14).Test(/*threads=*/true);
  ResizeNearestTester().input({1, 26, 26, 64}).output(52, 52).Test(/*threads=*/true);
}

class TransposeTester {
 public:
  TransposeTester& input(Shape s) { shape_ = std::move(s); return *this; }
  TransposeTester& perm(std::vector<int32_t> p) { perm_ = std::move(p); return *this; }
  TransposeTester& int8(bool q) { int8_ = q; return *this; }

  std::string describe() const {
    std::ostringstream s;
    s << "TRANSPOSE " << shape_to_string(shape_) << " perm";
    for (int32_t p : perm_) s << " " << p;
    s << (int8_ ? " int8" : "");
    return s.str();
  }
  Status PrepareStatus() const {
    Fixture f = make();
    return run_kernel(xnn::kTranspose, f.op, {&f.input, &f.perm}, 1,
                      int8_ ? &f.input : nullptr).prepare_status;
  }
  void Test(bool threads = false) const {
    Fixture f = make();
    const TestTensor* out_like = int8_ ? &f.input : nullptr;
    if (threads)
      expect_thread_invariant(OpKind::kTranspose, f.op, {&f.input, &f.perm}, describe(),
                              out_like);
    else
      expect_matches_reference(OpKind::kTranspose, f.op, {&f.input, &f.perm}, kExact,
                               describe(), out_like);
  }

 private:
  struct Fixture {
    TestTensor input, perm;
    graph::Op op;
  };
  Fixture make() const {
    std::mt19937 rng(41);
    const int64_t n = num_elements(shape_);
    Fixture f;
    f.input = int8_ ? TestTensor::int8s(shape_, random_int8s(rng, n), 0.2f, 1)
                    : TestTensor::floats(shape_, random_floats(rng, n, -3, 3), false);
    f.perm = TestTensor::int32s({static_cast<int32_t>(perm_.size())}, perm_);
    f.op.kind = OpKind::kTranspose;
    f.op.inputs = {0, 1};
    f.op.outputs = {2};
    return f;
  }
  Shape shape_;
  std::vector<int32_t> perm_;
  bool int8_ = false;
};

TEST(FastTranspose, BatchedTwoDimensionalPermutations) {
  for (int32_t c : {1, 7, 8, 9, 16, 17, 33}) {
    TransposeTester().input({1, 85, c}).perm({0, 2, 1}).Test();       // YOLOX head
    TransposeTester().input({1, 13, 11, c}).perm({0, 3, 1, 2}).Test();  // NHWC -> NCHW
    TransposeTester().input({2, c, 13, 11}).perm({0, 2, 3, 1}).Test();   // NCHW -> NHWC
    TransposeTester().input({c, 40}).perm({1, 0}).Test();
    TransposeTester().input({3, c, 5, 2}).perm({0, 2, 3, 1}).Test();
  }
  TransposeTester().input({4, 1, 6, 1, 5}).perm({4, 1, 3, 0, 2}).Test();  // size-1 axes dropped
  TransposeTester().input({2, 3, 4}).perm({0, 1, 2}).Test();              // identity
  TransposeTester().input({1, 1, 7}).perm({2, 0, 1}).Test();
  TransposeTester().input({5, 4, 3}).perm({0, 2, 1}).int8(true).Test();
  TransposeTester().input({1, 85, 3549}).perm({0, 2, 1}).Test();
}

// Two to four rows per plane: the interleaving path (ShuffleNet's channel shuffle, NanoDet).
TEST(FastTranspose, ChannelShuffleInterleaves) {
  for (int32_t groups : {2, 3, 4})
    for (int32_t c : {1, 5, 58}) {
      TransposeTester().input({1, 7, 9, groups, c}).perm({0, 1, 2, 4, 3}).Test();
      TransposeTester().input({1, 7, 9, groups, c}).perm({0, 1, 2, 4, 3}).int8(true).Test();
    }
  TransposeTester().input({1, 52, 52, 2, 58}).perm({0, 1, 2, 4, 3}).Test(/*threads=*/true);
}

TEST(FastTranspose, ThreadCountInvariant) {
  TransposeTester().input({1, 85, 3549}).perm({0, 2, 1}).Test(/*threads=*/true);
  TransposeTester().input({2, 52, 52, 85}).perm({0, 3, 1, 2}).Test(/*threads=*/true);
}

TEST(FastTranspose, OtherPermutationsFallBack) {
  // [2,3,4] with perm [2,0,1] is a 2-D transpose of [6,4]; [1,0,2] with three non-1 dims is not.
  EXPECT_TRUE(TransposeTester().input({2, 3, 4}).perm({2, 0, 1}).PrepareStatus().ok());
  EXPECT_EQ(TransposeTester().input({2, 3, 4}).perm({1, 0, 2}).PrepareStatus().code(),
            StatusCode::kUnsupported);
  EXPECT_EQ(TransposeTester().input({2, 3, 4, 5}).perm({3, 2, 1, 0}).PrepareStatus().code(),
            StatusCode::kUnsupported);
}

class PadTester {
 public:
  PadTester& input(Shape s) { shape_ = std::move(s); return *this; }
  PadTester& paddings(std::vector<int32_t> p) { paddings_ = std::move(p); return *this; }
  PadTester& value(float v) { value_ = v; v2_ = true; return *this; }

  void Test(bool threads = false) const {
    std::mt19937 rng(31);
    TestTensor input =
        TestTensor::floats(shape_, random_floats(rng, num_elements(shape_), -3, 3), false);
    TestTensor paddings = TestTensor::int32s({static_cast<int32_t>(shape_.size()), 2}, paddings_);
    TestTensor value = TestTensor::floats({}, {value_}, true);
    graph::Op op;
    op.kind = v2_ ? OpKind::kPadV2 : OpKind::kPad;
    op.inputs = v2_ ? std::vector<int32_t>{0, 1, 2} : std::vector<int32_t>{0, 1};
    op.outputs = {3};
    std::vector<const TestTensor*> inputs = {&input, &paddings};
    if (v2_) inputs.push_back(&value);
    std::ostringstream what;
    what << graph::op_name(op.kind) << " " << shape_to_string(shape_) << " paddings";
    for (int32_t p : paddings_) what << " " << p;
    if (threads)
      expect_thread_invariant(op.kind, op, inputs, what.str());
    else
      expect_matches_reference(op.kind, op, inputs, kExact, what.str());
  }

 private:
  Shape shape_;
  std::vector<int32_t> paddings_;
  float value_ = 0.0f;
  bool v2_ = false;
};

TEST(XnnpackPad, PaddingsAndValues) {
  for (int32_t c : {1, 7, 8, 9, 16, 17}) {
    PadTester().input({1, 9, 8, c}).paddings({0, 0, 1, 1, 1, 1, 0, 0}).Test();
    PadTester().input({1, 9, 8, c}).paddings({0, 0, 0, 1, 2, 0, 0, 0}).Test();
    PadTester().input({1, 5, 5, c}).paddings({1, 0, 0, 2, 3, 1, 2, 1}).Test();
  }
  PadTester().input({3, 7}).paddings({2, 1, 0, 5}).Test();
  PadTester().input({3, 7}).paddings({2, 1, 0, 5}).value(-1.5f).Test();
  PadTester().input({1, 209, 209, 12}).paddings({0, 0, 1, 1, 1, 1, 0, 0}).Test(true);
}

}  // namespace
}  // namespace qdet::rt::testing
