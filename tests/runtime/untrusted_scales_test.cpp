// A valid file may hold an int8 weight scale of 1e-12 (the official TFLite runs it). XNNPACK's
// quantized convolution asserts its requantization scale is at least 2^-32, and once aborted
// qdet; its kernels now decline such an op at prepare and the reference kernel runs it.
#include <gtest/gtest.h>

#include <cstring>

#include "graph_builder.h"
#include "runtime/interpreter.h"

namespace qdet::rt {
namespace {

using namespace testing;  // graph_builder.h: GraphBuilder, run_graph, to_bytes, values_of, per_tensor, F32

std::shared_ptr<const graph::Graph> conv_with_weight_scale(graph::OpKind kind, float weight_scale) {
  GraphBuilder b;
  const int32_t in = b.input(DType::kInt8, {1, 4, 4, 3}, per_tensor(0.05f, 2));
  QuantParams wq;
  wq.scale = {weight_scale, 0.01f, weight_scale};
  wq.zero_point = {0, 0, 0};
  wq.quantized_dimension = kind == graph::OpKind::kDepthwiseConv2d ? 3 : 0;
  // DEPTHWISE_CONV_2D [1, kh, kw, C]; CONV_2D [O, kh, kw, I].
  const bool depthwise = kind == graph::OpKind::kDepthwiseConv2d;
  const Shape wshape = depthwise ? Shape{1, 3, 3, 3} : Shape{3, 3, 3, 3};
  std::vector<int8_t> w(static_cast<size_t>(num_elements(wshape)));
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<int8_t>(int(i * 7) % 255 - 127);
  const int32_t weights = b.constant(DType::kInt8, wshape, w, wq);
  const int32_t out = b.tensor(DType::kInt8, {1, 4, 4, 3}, per_tensor(0.1f, -1));
  graph::OpAttrs attrs;
  attrs.padding = graph::Padding::kSame;
  b.op(kind, {in, weights, -1}, {out}, attrs);
  b.output(out);
  return b.shared();
}

TEST(UntrustedScales, TinyWeightScaleRunsOnTheReferenceKernel) {
  for (graph::OpKind kind : {graph::OpKind::kConv2d, graph::OpKind::kDepthwiseConv2d}) {
    SCOPED_TRACE(graph::op_name(kind));
    auto g = conv_with_weight_scale(kind, 1e-12f);
    auto fast = Interpreter::create(g);
    ASSERT_TRUE(fast.ok()) << fast.status().message();
    EXPECT_STREQ((*fast)->kernel_name(0), "reference");
    InterpreterOptions reference_only;
    reference_only.use_fast_kernels = false;
    auto ref = Interpreter::create(g, reference_only);
    ASSERT_TRUE(ref.ok()) << ref.status().message();
    for (auto* interp : {fast->get(), ref->get()}) {
      TensorRef& in = interp->input(0);
      for (int64_t i = 0; i < in.num_elements(); ++i) in.as<int8_t>()[i] = static_cast<int8_t>(i * 5);
      ASSERT_TRUE(interp->invoke().ok());
    }
    const TensorRef& a = (*fast)->output(0);
    const TensorRef& r = (*ref)->output(0);
    EXPECT_EQ(std::memcmp(a.data, r.data, a.byte_size()), 0);
    // With an ordinary scale XNNPACK still takes the op.
    auto normal = Interpreter::create(conv_with_weight_scale(kind, 0.02f));
    ASSERT_TRUE(normal.ok()) << normal.status().message();
    EXPECT_STRNE((*normal)->kernel_name(0), "reference");
  }
}

}  // namespace
}  // namespace qdet::rt
