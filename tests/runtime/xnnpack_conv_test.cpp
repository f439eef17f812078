// XNNPACK CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED against the reference kernels on
// seeded random data, shapes straddling SIMD widths.
#include <gtest/gtest.h>

#include <sstream>

#include "runtime/kernels/xnnpack/kernels.h"
#include "kernel_test_support.h"

namespace qdet::rt::testing {
namespace {

using graph::Activation;
using graph::OpKind;
using graph::Padding;

// A float dot product of K terms computed in two different orders (and with or without FMA)
// differs by at most about 2*K*eps*sum|x_i w_i| in the worst case; random signs keep it far
// below that. The bound used: 4 * eps * K * max|x| * max|w|, plus 2 ulps of the bias.
double dot_tolerance(int64_t reduction_length, float max_input, float max_weight,
                     float max_bias) {
  return 4.0 * kEps * double(reduction_length) * max_input * max_weight + 2.0 * kEps * max_bias;
}

class ConvTester {
 public:
  ConvTester& batch(int32_t n) { batch_ = n; return *this; }
  ConvTester& input_size(int32_t h, int32_t w) { in_h_ = h; in_w_ = w; return *this; }
  // Input and output channels of CONV_2D; for depthwise, out must be in * multiplier.
  ConvTester& channels(int32_t in, int32_t out) { in_c_ = in; out_c_ = out; return *this; }
  ConvTester& kernel(int32_t h, int32_t w) { k_h_ = h; k_w_ = w; return *this; }
  ConvTester& stride(int32_t s) { return stride(s, s); }
  ConvTester& stride(int32_t h, int32_t w) { stride_h_ = h; stride_w_ = w; return *this; }
  ConvTester& padding(Padding p) { padding_ = p; return *this; }
  ConvTester& dilation(int32_t d) { return dilation(d, d); }
  ConvTester& dilation(int32_t h, int32_t w) { dil_h_ = h; dil_w_ = w; return *this; }
  ConvTester& activation(Activation a) { activation_ = a; return *this; }
  ConvTester& bias(bool b) { bias_ = b; return *this; }
  ConvTester& constant_filter(bool c) { constant_filter_ = c; return *this; }
  // Makes this a DEPTHWISE_CONV_2D with the given depth multiplier (output = in * m).
  ConvTester& depthwise(int32_t multiplier) {
    depthwise_ = true;
    multiplier_ = multiplier;
    return *this;
  }
  ConvTester& seed(uint32_t s) { seed_ = s; return *this; }

  std::string describe() const {
    std::ostringstream s;
    s << (depthwise_ ? "DEPTHWISE_CONV_2D" : "CONV_2D") << " batch " << batch_ << " input "
      << in_h_ << "x" << in_w_ << " channels " << in_c_ << "->" << out_channels() << " kernel "
      << k_h_ << "x" << k_w_ << " stride " << stride_h_ << "x" << stride_w_ << " "
      << padding_name(padding_) << " dilation " << dil_h_ << "x" << dil_w_ << " activation "
      << graph::activation_name(activation_) << (bias_ ? "" : " no-bias") << " seed " << seed_;
    return s.str();
  }

  void Test() const {
    Inputs in = make_inputs();
    const int64_t k = int64_t(k_h_) * k_w_ * (depthwise_ ? 1 : in_c_);
    const double tol = dot_tolerance(k, max_abs(in.x), max_abs(in.w), max_abs(in.b));
    expect_matches_reference(kind(), op(), in.pointers(), [tol](size_t) { return tol; },
                             describe());
  }

  void TestThreads() const {
    Inputs in = make_inputs();
    expect_thread_invariant(kind(), op(), in.pointers(), describe());
  }

  Status PrepareStatus() const {
    Inputs in = make_inputs();
    const Kernel& k = depthwise_ ? xnn::kDepthwiseConv2d : xnn::kConv2d;
    return run_kernel(k, op(), in.pointers()).prepare_status;
  }

 private:
  struct Inputs {
    std::vector<float> x, w, b;
    TestTensor input, filter, bias;
    bool has_bias = true;
    std::vector<const TestTensor*> pointers() const {
      return {&input, &filter, has_bias ? &bias : nullptr};
    }
  };

  int32_t out_channels() const { return depthwise_ ? in_c_ * multiplier_ : out_c_; }
  OpKind kind() const { return depthwise_ ? OpKind::kDepthwiseConv2d : OpKind::kConv2d; }

  graph::Op op() const {
    graph::Op op;
    op.kind = kind();
    op.inputs = {0, 1, bias_ ? 2 : -1};
    op.outputs = {3};
    op.attrs.padding = padding_;
    op.attrs.stride_h = stride_h_;
    op.attrs.stride_w = stride_w_;
    op.attrs.dilation_h = dil_h_;
    op.attrs.dilation_w = dil_w_;
    op.attrs.activation = activation_;
    if (depthwise_) op.attrs.depth_multiplier = multiplier_;
    return op;
  }

  Inputs make_inputs() const {
    std::mt19937 rng(seed_);
    Inputs in;
    const Shape x_shape = {batch_, in_h_, in_w_, in_c_};
    const Shape w_shape = depthwise_ ? Shape{1, k_h_, k_w_, out_channels()}
                                     : Shape{out_c_, k_h_, k_w_, in_c_};
    in.x = random_floats(rng, num_elements(x_shape), -1.0f, 1.0f);
    in.w = random_floats(rng, num_elements(w_shape), -1.0f, 1.0f);
    in.b = random_floats(rng, out_channels(), -1.0f, 1.0f);
    in.input = TestTensor::floats(x_shape, in.x, /*constant=*/false);
    in.filter = TestTensor::floats(w_shape, in.w, constant_filter_);
    in.bias = TestTensor::floats({out_channels()}, in.b, /*constant=*/true);
    in.has_bias = bias_;
    if (!bias_) in.b.clear();
    return in;
  }

  int32_t batch_ = 1, in_h_ = 9, in_w_ = 9, in_c_ = 1, out_c_ = 1;
  int32_t k_h_ = 3, k_w_ = 3, stride_h_ = 1, stride_w_ = 1, dil_h_ = 1, dil_w_ = 1;
  Padding padding_ = Padding::kSame;
  Activation activation_ = Activation::kNone;
  bool bias_ = true, constant_filter_ = true, depthwise_ = false;
  int32_t multiplier_ = 1;
  uint32_t seed_ = 1;
};

constexpr int32_t kChannels[] = {1, 7, 8, 9, 16, 17};
constexpr Padding kPaddings[] = {Padding::kSame, Padding::kValid};

TEST(XnnpackConv2d, ChannelsStridePaddingDilationSweep) {
  uint32_t seed = 1;
  for (int32_t cin : kChannels)
    for (int32_t cout : kChannels)
      for (int32_t stride : {1, 2})
        for (Padding padding : kPaddings)
          for (int32_t dilation : {1, 2})
            ConvTester()
                .input_size(9, 8)
                .channels(cin, cout)
                .kernel(3, 3)
                .stride(stride)
                .padding(padding)
                .dilation(dilation)
                .seed(seed++)
                .Test();
}

TEST(XnnpackConv2d, KernelShapes) {
  for (auto [kh, kw] : {std::pair{1, 1}, {5, 5}, {3, 1}, {1, 3}, {2, 2}, {7, 7}})
    for (int32_t stride : {1, 2})
      for (Padding padding : kPaddings)
        ConvTester()
            .input_size(11, 10)
            .channels(9, 17)
            .kernel(kh, kw)
            .stride(stride)
            .padding(padding)
            .Test();
}

TEST(XnnpackConv2d, OddSizesWithStrideTwo) {
  // SAME with stride 2 on odd and even sizes: TFLite puts the smaller half of the padding first.
  for (int32_t size : {1, 2, 3, 4, 5, 6, 7, 13, 16})
    for (Padding padding : kPaddings) {
      if (padding == Padding::kValid && size < 3) continue;
      ConvTester().input_size(size, size + 1).channels(8, 9).kernel(3, 3).stride(2).padding(
          padding).Test();
    }
  ConvTester().input_size(13, 9).channels(3, 16).kernel(3, 3).stride(2, 1).Test();
  ConvTester().input_size(13, 9).channels(3, 16).kernel(3, 3).stride(1, 2).dilation(2, 1).Test();
}

TEST(XnnpackConv2d, FusedActivationsBatchAndBias) {
  for (Activation act : {Activation::kNone, Activation::kRelu, Activation::kRelu6,
                         Activation::kReluN1To1})
    for (bool bias : {true, false})
      ConvTester()
          .batch(2)
          .input_size(7, 9)
          .channels(17, 16)
          .kernel(3, 3)
          .stride(2)
          .activation(act)
          .bias(bias)
          .Test();
}

TEST(XnnpackConv2d, ThreadCountInvariant) {
  ConvTester().input_size(33, 31).channels(16, 24).kernel(3, 3).TestThreads();
  ConvTester().input_size(20, 20).channels(17, 33).kernel(1, 1).TestThreads();
  ConvTester().batch(2).input_size(17, 17).channels(9, 8).kernel(3, 3).stride(2).TestThreads();
}

TEST(XnnpackConv2d, UnsupportedConfigurationsFallBack) {
  // Each returns kUnsupported so the interpreter runs the reference kernel instead.
  EXPECT_EQ(ConvTester().channels(3, 4).activation(Activation::kTanh).PrepareStatus().code(),
            StatusCode::kUnsupported);
  EXPECT_EQ(ConvTester().channels(3, 4).constant_filter(false).PrepareStatus().code(),
            StatusCode::kUnsupported);
  EXPECT_EQ(ConvTester().input_size(2, 2).kernel(3, 3).padding(Padding::kValid)
                .PrepareStatus().code(),
            StatusCode::kUnsupported);
}

TEST(XnnpackDepthwiseConv2d, ChannelsMultiplierStridePaddingDilationSweep) {
  uint32_t seed = 100;
  for (int32_t c : kChannels)
    for (int32_t multiplier : {1, 2})
      for (int32_t stride : {1, 2})
        for (Padding padding : kPaddings)
          for (int32_t dilation : {1, 2})
            ConvTester()
                .depthwise(multiplier)
                .input_size(10, 9)
                .channels(c, c * multiplier)
                .kernel(3, 3)
                .stride(stride)
                .padding(padding)
                .dilation(dilation)
                .seed(seed++)
                .Test();
}

TEST(XnnpackDepthwiseConv2d, KernelShapesAndActivations) {
  for (auto [kh, kw] : {std::pair{5, 5}, {3, 1}, {1, 1}, {7, 7}})
    for (int32_t stride : {1, 2})
      ConvTester().depthwise(1).input_size(13, 12).channels(16, 16).kernel(kh, kw).stride(
          stride).Test();
  for (Activation act : {Activation::kRelu, Activation::kRelu6, Activation::kReluN1To1})
    ConvTester().depthwise(2).batch(2).input_size(8, 8).channels(9, 18).activation(act)
        .bias(act != Activation::kRelu).Test();
}

TEST(XnnpackDepthwiseConv2d, ThreadCountInvariant) {
  ConvTester().depthwise(1).input_size(33, 33).channels(17, 17).kernel(3, 3).TestThreads();
  ConvTester().depthwise(2).input_size(21, 19).channels(8, 16).kernel(5, 5).stride(2)
      .TestThreads();
}

TEST(XnnpackDepthwiseConv2d, NonConstantFilterFallsBack) {
  EXPECT_EQ(ConvTester().depthwise(1).channels(8, 8).constant_filter(false).PrepareStatus()
                .code(),
            StatusCode::kUnsupported);
}

// FULLY_CONNECTED: input [.., I] read as rows of I, weights [O, I], optional bias.
class FullyConnectedTester {
 public:
  FullyConnectedTester& input_shape(Shape s) { input_shape_ = std::move(s); return *this; }
  FullyConnectedTester& units(int32_t in, int32_t out) { in_ = in; out_ = out; return *this; }
  FullyConnectedTester& keep_num_dims(bool k) { keep_num_dims_ = k; return *this; }
  FullyConnectedTester& activation(Activation a) { activation_ = a; return *this; }
  FullyConnectedTester& bias(bool b) { bias_ = b; return *this; }
  FullyConnectedTester& seed(uint32_t s) { seed_ = s; return *this; }

  std::string describe() const {
    std::ostringstream s;
    s << "FULLY_CONNECTED input " << shape_to_string(input_shape_) << " units " << in_ << "->"
      << out_ << (keep_num_dims_ ? " keep_num_dims" : "") << " activation "
      << graph::activation_name(activation_) << (bias_ ? "" : " no-bias") << " seed " << seed_;
    return s.str();
  }

  void Test() const {
    std::mt19937 rng(seed_);
    auto x = random_floats(rng, num_elements(input_shape_), -1.0f, 1.0f);
    auto w = random_floats(rng, int64_t(in_) * out_, -1.0f, 1.0f);
    auto b = random_floats(rng, out_, -1.0f, 1.0f);
    TestTensor input = TestTensor::floats(input_shape_, x, false);
    TestTensor weights = TestTensor::floats({out_, in_}, w, true);
    TestTensor bias = TestTensor::floats({out_}, b, true);
    graph::Op op;
    op.kind = OpKind::kFullyConnected;
    op.inputs = {0, 1, bias_ ? 2 : -1};
    op.outputs = {3};
    op.attrs.keep_num_dims = keep_num_dims_;
    op.attrs.activation = activation_;
    const double tol = dot_tolerance(in_, max_abs(x), max_abs(w), bias_ ? max_abs(b) : 0.0f);
    const std::vector<const TestTensor*> inputs = {&input, &weights, bias_ ? &bias : nullptr};
    if (threads_only_) {
      expect_thread_invariant(OpKind::kFullyConnected, op, inputs, describe());
      return;
    }
    expect_matches_reference(OpKind::kFullyConnected, op, inputs,
                             [tol](size_t) { return tol; }, describe());
  }
  void TestThreads() {
    threads_only_ = true;
    Test();
  }

 private:
  Shape input_shape_ = {1, 8};
  int32_t in_ = 8, out_ = 8;
  bool keep_num_dims_ = false, bias_ = true, threads_only_ = false;
  Activation activation_ = Activation::kNone;
  uint32_t seed_ = 7;
};

TEST(XnnpackFullyConnected, UnitsAndBatchSweep) {
  uint32_t seed = 200;
  for (int32_t in : kChannels)
    for (int32_t out : kChannels)
      for (int32_t batch : {1, 3})
        FullyConnectedTester().input_shape({batch, in}).units(in, out).seed(seed++).Test();
}

TEST(XnnpackFullyConnected, ShapesActivationsAndBias) {
  FullyConnectedTester().input_shape({2, 3, 16}).units(16, 9).keep_num_dims(true).Test();
  FullyConnectedTester().input_shape({2, 3, 16}).units(16, 9).keep_num_dims(false).Test();
  FullyConnectedTester().input_shape({4, 2, 8}).units(16, 7).Test();  // rows of 16 across dims
  for (Activation act : {Activation::kRelu, Activation::kRelu6, Activation::kReluN1To1})
    FullyConnectedTester().input_shape({5, 33}).units(33, 17).activation(act).Test();
  FullyConnectedTester().input_shape({64, 40}).units(40, 24).bias(false).Test();
}

TEST(XnnpackFullyConnected, ThreadCountInvariant) {
  FullyConnectedTester().input_shape({64, 200}).units(200, 96).TestThreads();
  FullyConnectedTester().input_shape({1, 1000}).units(1000, 257).TestThreads();
}

}  // namespace
}  // namespace qdet::rt::testing
