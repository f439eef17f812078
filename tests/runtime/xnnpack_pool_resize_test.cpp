// XNNPACK MAX_POOL_2D, AVERAGE_POOL_2D and RESIZE_BILINEAR against the reference kernels.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "runtime/kernels/xnnpack/kernels.h"
#include "kernel_test_support.h"

namespace qdet::rt::testing {
namespace {

using graph::Activation;
using graph::OpKind;
using graph::Padding;

class PoolTester {
 public:
  PoolTester& op(OpKind k) { kind_ = k; return *this; }
  PoolTester& batch(int32_t n) { batch_ = n; return *this; }
  PoolTester& input_size(int32_t h, int32_t w) { in_h_ = h; in_w_ = w; return *this; }
  PoolTester& channels(int32_t c) { channels_ = c; return *this; }
  PoolTester& filter(int32_t h, int32_t w) { f_h_ = h; f_w_ = w; return *this; }
  PoolTester& stride(int32_t s) { s_h_ = s_w_ = s; return *this; }
  PoolTester& padding(Padding p) { padding_ = p; return *this; }
  PoolTester& activation(Activation a) { activation_ = a; return *this; }
  PoolTester& seed(uint32_t s) { seed_ = s; return *this; }

  void Test() const {
    std::mt19937 rng(seed_);
    const Shape shape = {batch_, in_h_, in_w_, channels_};
    const std::vector<float> x = random_floats(rng, num_elements(shape), -8, 8);
    TestTensor input = TestTensor::floats(shape, x, false);
    graph::Op op;
    op.kind = kind_;
    op.inputs = {0};
    op.outputs = {1};
    op.attrs.filter_h = f_h_;
    op.attrs.filter_w = f_w_;
    op.attrs.stride_h = s_h_;
    op.attrs.stride_w = s_w_;
    op.attrs.padding = padding_;
    op.attrs.activation = activation_;
    std::ostringstream what;
    what << graph::op_name(kind_) << " batch " << batch_ << " input " << in_h_ << "x" << in_w_
         << " channels " << channels_ << " filter " << f_h_ << "x" << f_w_ << " stride " << s_h_
         << "x" << s_w_ << " " << padding_name(padding_) << " activation "
         << graph::activation_name(activation_) << " seed " << seed_;
    // Max is exact. A mean of n values summed in another order and scaled by 1/n differs by at
    // most (n - 1) * eps * max|x| from the sums plus one rounding each for the scaling.
    const int64_t n = int64_t(f_h_) * f_w_;
    const double tol = kind_ == OpKind::kMaxPool2d ? 0.0 : double(n + 1) * kEps * max_abs(x);
    if (threads_only_) {
      expect_thread_invariant(kind_, op, {&input}, what.str());
      return;
    }
    expect_matches_reference(kind_, op, {&input}, [tol](size_t) { return tol; }, what.str());
  }
  void TestThreads() {
    threads_only_ = true;
    Test();
  }

 private:
  OpKind kind_ = OpKind::kMaxPool2d;
  int32_t batch_ = 1, in_h_ = 9, in_w_ = 9, channels_ = 8;
  int32_t f_h_ = 2, f_w_ = 2, s_h_ = 2, s_w_ = 2;
  Padding padding_ = Padding::kValid;
  Activation activation_ = Activation::kNone;
  bool threads_only_ = false;
  uint32_t seed_ = 5;
};

TEST(XnnpackPool, FiltersStridesPaddingsChannels) {
  uint32_t seed = 1;
  for (OpKind kind : {OpKind::kMaxPool2d, OpKind::kAveragePool2d})
    for (int32_t c : {1, 7, 8, 9, 16, 17})
      for (auto [f, s] : {std::pair{2, 2}, {3, 1}, {3, 2}, {5, 1}, {5, 2}})
        for (Padding p : {Padding::kSame, Padding::kValid})
          PoolTester().op(kind).input_size(11, 10).channels(c).filter(f, f).stride(s).padding(
              p).seed(seed++).Test();
}

TEST(XnnpackPool, LargeAndNonSquareWindowsBatchActivation) {
  for (OpKind kind : {OpKind::kMaxPool2d, OpKind::kAveragePool2d}) {
    // 13x13 is YOLOX's SPP window (multipass in XNNPACK), SAME padding stride 1.
    PoolTester().op(kind).input_size(13, 13).channels(17).filter(13, 13).stride(1)
        .padding(Padding::kSame).Test();
    PoolTester().op(kind).input_size(7, 12).channels(9).filter(7, 12).stride(1).Test();  // global
    PoolTester().op(kind).batch(2).input_size(9, 8).channels(16).filter(3, 2).stride(2)
        .padding(Padding::kSame).Test();
    for (Activation act : {Activation::kRelu, Activation::kRelu6, Activation::kReluN1To1})
      PoolTester().op(kind).input_size(8, 8).channels(7).filter(3, 3).stride(1)
          .padding(Padding::kSame).activation(act).Test();
  }
}

TEST(XnnpackPool, ThreadCountInvariant) {
  for (OpKind kind : {OpKind::kMaxPool2d, OpKind::kAveragePool2d}) {
    PoolTester().op(kind).input_size(26, 26).channels(64).filter(13, 13).stride(1)
        .padding(Padding::kSame).TestThreads();
    PoolTester().op(kind).batch(2).input_size(33, 31).channels(17).filter(3, 3).stride(2)
        .TestThreads();
  }
}

class ResizeBilinearTester {
 public:
  ResizeBilinearTester& input(int32_t h, int32_t w, int32_t c) {
    in_h_ = h; in_w_ = w; channels_ = c;
    return *this;
  }
  ResizeBilinearTester& output(int32_t h, int32_t w) { out_h_ = h; out_w_ = w; return *this; }
  ResizeBilinearTester& align_corners(bool a) { align_corners_ = a; return *this; }
  ResizeBilinearTester& half_pixel_centers(bool h) { half_pixel_ = h; return *this; }
  ResizeBilinearTester& batch(int32_t n) { batch_ = n; return *this; }
  ResizeBilinearTester& seed(uint32_t s) { seed_ = s; return *this; }

  void Test() const {
    std::mt19937 rng(seed_);
    const Shape shape = {batch_, in_h_, in_w_, channels_};
    const std::vector<float> x = random_floats(rng, num_elements(shape), -2, 2);
    TestTensor input = TestTensor::floats(shape, x, false);
    TestTensor size = TestTensor::int32s({2}, {out_h_, out_w_});
    graph::Op op;
    op.kind = OpKind::kResizeBilinear;
    op.inputs = {0, 1};
    op.outputs = {2};
    op.attrs.align_corners = align_corners_;
    op.attrs.half_pixel_centers = half_pixel_;
    std::ostringstream what;
    what << "RESIZE_BILINEAR " << shape_to_string(shape) << " -> " << out_h_ << "x" << out_w_
         << (align_corners_ ? " align_corners" : "") << (half_pixel_ ? " half_pixel_centers" : "")
         << " seed " << seed_;
    // Each output is a convex combination of 4 inputs: the kernels' arithmetic differs by a
    // few roundings (4 eps max|x|); their source coordinates y*scale differ by about
    // eps*size, which moves the value by at most that times the largest neighbour step
    // (2 max|x|).
    const double tol = kEps * max_abs(x) * (4.0 + 2.0 * std::max(in_h_, in_w_));
    if (threads_only_) {
      expect_thread_invariant(OpKind::kResizeBilinear, op, {&input, &size}, what.str());
      return;
    }
    expect_matches_reference(OpKind::kResizeBilinear, op, {&input, &size},
                             [tol](size_t) { return tol; }, what.str());
  }
  void TestThreads() {
    threads_only_ = true;
    Test();
  }

 private:
  int32_t batch_ = 1, in_h_ = 4, in_w_ = 4, channels_ = 8, out_h_ = 8, out_w_ = 8;
  bool align_corners_ = false, half_pixel_ = false, threads_only_ = false;
  uint32_t seed_ = 9;
};

TEST(XnnpackResizeBilinear, ModesSizesChannels) {
  uint32_t seed = 1;
  const std::pair<std::pair<int32_t, int32_t>, std::pair<int32_t, int32_t>> sizes[] = {
      {{13, 13}, {26, 26}},  // the FPN's x2 upsampling
      {{7, 5}, {11, 13}},    // non-integer scales
      {{16, 12}, {9, 5}},    // downsampling
      {{1, 1}, {3, 4}},
      {{5, 6}, {5, 6}},      // identity
  };
  for (auto [align, half] : {std::pair{false, false}, {true, false}, {false, true}})
    for (int32_t c : {1, 7, 8, 9, 16, 17})
      for (const auto& [in, out] : sizes)
        ResizeBilinearTester()
            .input(in.first, in.second, c)
            .output(out.first, out.second)
            .align_corners(align)
            .half_pixel_centers(half)
            .seed(seed++)
            .Test();
  ResizeBilinearTester().batch(2).input(6, 7, 9).output(12, 14).half_pixel_centers(true).Test();
}

TEST(XnnpackResizeBilinear, ThreadCountInvariant) {
  ResizeBilinearTester().input(26, 26, 64).output(52, 52).TestThreads();
  ResizeBilinearTester().batch(2).input(13, 9, 17).output(30, 20).half_pixel_centers(true)
      .TestThreads();
}

}  // namespace
}  // namespace qdet::rt::testing
