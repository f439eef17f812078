// Binary ops with broadcasting and fused activations, unary activations, softmax, mean.
#include <gmock/gmock.h>

#include <cmath>

#include "graph_builder.h"

namespace qdet::rt {
namespace {

using ::testing::ElementsAre;
using ::testing::FloatNear;
using ::testing::Pointwise;
using namespace testing;  // graph_builder.h: GraphBuilder, run_graph, to_bytes, values_of, per_tensor, F32

std::vector<float> run_binary(graph::OpKind kind, Shape a_shape, std::vector<float> a,
                              Shape b_shape, std::vector<float> bv, Shape out_shape,
                              graph::Activation act = graph::Activation::kNone) {
  GraphBuilder b;
  int32_t x = b.input(F32, a_shape);
  int32_t y = b.input(F32, b_shape);
  int32_t out = b.tensor(F32, out_shape);
  graph::OpAttrs attrs;
  attrs.activation = act;
  b.op(kind, {x, y}, {out}, attrs);
  b.output(out);
  auto r = run_graph(b.shared(), {to_bytes(a), to_bytes(bv)});
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? values_of<float>((*r)->output(0)) : std::vector<float>{};
}

TEST(Binary, AddBroadcastsBothWays) {
  // [2,1,3] + [2,1] -> [2,2,3]
  auto out = run_binary(graph::OpKind::kAdd, {2, 1, 3}, {1, 2, 3, 4, 5, 6}, {2, 1}, {10, 20},
                        {2, 2, 3});
  EXPECT_THAT(out, ElementsAre(11, 12, 13, 21, 22, 23, 14, 15, 16, 24, 25, 26));
}

TEST(Binary, SubScalarAndRelu) {
  auto out = run_binary(graph::OpKind::kSub, {4}, {1, 2, 3, 4}, {}, {2.5f}, {4},
                        graph::Activation::kRelu);
  EXPECT_THAT(out, ElementsAre(0, 0, 0.5f, 1.5f));
}

TEST(Binary, MulMiddleBroadcastAndRelu6) {
  // [1,2,2,2] * [1,2,1,2] -> channel-and-row scaling; relu6 clamps.
  auto out = run_binary(graph::OpKind::kMul, {1, 2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8},
                        {1, 2, 1, 2}, {1, -1, 2, 0.5f}, {1, 2, 2, 2}, graph::Activation::kRelu6);
  EXPECT_THAT(out, ElementsAre(1, 0, 3, 0, 6, 3, 6, 4));
}

TEST(Binary, DivAndReluN1To1) {
  auto out = run_binary(graph::OpKind::kDiv, {3}, {1, -8, 6}, {3}, {4, 2, 3}, {3},
                        graph::Activation::kReluN1To1);
  EXPECT_THAT(out, ElementsAre(0.25f, -1, 1));
}

TEST(Binary, Int32Add) {
  GraphBuilder b;
  int32_t x = b.input(DType::kInt32, {3});
  int32_t y = b.constant(DType::kInt32, {1}, std::vector<int32_t>{-5});
  int32_t out = b.tensor(DType::kInt32, {3});
  b.op(graph::OpKind::kAdd, {x, y}, {out});
  b.output(out);
  auto r = run_graph(b.shared(), {to_bytes(std::vector<int32_t>{1, 5, 100})});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_THAT(values_of<int32_t>((*r)->output(0)), ElementsAre(-4, 0, 95));
}

TEST(Binary, IncompatibleShapesAreAnError) {
  GraphBuilder b;
  int32_t x = b.input(F32, {2, 3});
  int32_t y = b.input(F32, {2});
  int32_t out = b.tensor(F32, {2, 3});
  b.op(graph::OpKind::kAdd, {x, y}, {out});
  b.output(out);
  auto r = Interpreter::create(b.shared());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "op 0 (ADD): shapes [2,3] and [2] do not broadcast");
}

TEST(Binary, QuantizedInputsAreLeftToQuantizedKernels) {
  GraphBuilder b;
  int32_t x = b.input(DType::kInt8, {2}, testing::per_tensor(0.5f, 0));
  int32_t y = b.input(DType::kInt8, {2}, testing::per_tensor(0.5f, 0));
  int32_t out = b.tensor(DType::kInt8, {2}, testing::per_tensor(0.5f, 0));
  b.op(graph::OpKind::kDiv, {x, y}, {out});  // TFLite has no int8 DIV: nor has qdet
  b.output(out);
  auto r = Interpreter::create(b.shared(), {.use_fast_kernels = false});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnsupported);
  EXPECT_THAT(r.status().message(), ::testing::HasSubstr("int8 input"));
}

std::vector<float> run_unary(graph::OpKind kind, std::vector<float> in, graph::OpAttrs a = {}) {
  GraphBuilder b;
  const Shape shape = {static_cast<int32_t>(in.size())};
  int32_t x = b.input(F32, shape);
  int32_t out = b.tensor(F32, shape);
  b.op(kind, {x}, {out}, a);
  b.output(out);
  auto r = run_graph(b.shared(), {to_bytes(in)});
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? values_of<float>((*r)->output(0)) : std::vector<float>{};
}

TEST(Unary, Activations) {
  const std::vector<float> x = {-4, -1, 0, 0.5f, 3, 7};
  EXPECT_THAT(run_unary(graph::OpKind::kRelu, x), ElementsAre(0, 0, 0, 0.5f, 3, 7));
  EXPECT_THAT(run_unary(graph::OpKind::kRelu6, x), ElementsAre(0, 0, 0, 0.5f, 3, 6));
  EXPECT_THAT(run_unary(graph::OpKind::kReluN1To1, x), ElementsAre(-1, -1, 0, 0.5f, 1, 1));
  graph::OpAttrs leaky;
  leaky.alpha = 0.25f;
  EXPECT_THAT(run_unary(graph::OpKind::kLeakyRelu, x, leaky), ElementsAre(-1, -0.25f, 0, 0.5f, 3, 7));
  // hard swish: x * relu6(x + 3) / 6 -> -4: 0, -1: -1/3, 0.5: 0.5*3.5/6, 3: 3, 7: 7
  EXPECT_THAT(run_unary(graph::OpKind::kHardSwish, x),
              Pointwise(FloatNear(1e-6f), std::vector<float>{0, -1.0f / 3, 0, 0.5f * 3.5f / 6, 3, 7}));
}

TEST(Unary, Transcendentals) {
  const std::vector<float> x = {-2, 0, 1};
  EXPECT_THAT(run_unary(graph::OpKind::kLogistic, x),
              Pointwise(FloatNear(1e-6f), std::vector<float>{0.11920292f, 0.5f, 0.7310586f}));
  EXPECT_THAT(run_unary(graph::OpKind::kExp, x),
              Pointwise(FloatNear(1e-6f), std::vector<float>{0.13533528f, 1, 2.7182818f}));
  EXPECT_THAT(run_unary(graph::OpKind::kTanh, x),
              Pointwise(FloatNear(1e-6f), std::vector<float>{-0.9640276f, 0, 0.7615942f}));
}

TEST(Softmax, LastAxisWithBeta) {
  GraphBuilder b;
  int32_t x = b.input(F32, {2, 3});
  int32_t out = b.tensor(F32, {2, 3});
  graph::OpAttrs a;
  a.beta = 2.0f;
  b.op(graph::OpKind::kSoftmax, {x}, {out}, a);
  b.output(out);
  auto r = run_graph(b.shared(), {to_bytes(std::vector<float>{0, 0, 0, 1, 2, 1000})});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_THAT(values_of<float>((*r)->output(0)),
              Pointwise(FloatNear(1e-6f), std::vector<float>{1.0f / 3, 1.0f / 3, 1.0f / 3, 0, 0, 1}));
}

TEST(Mean, SpatialAxesKeepDims) {
  GraphBuilder b;
  int32_t x = b.input(F32, {1, 2, 2, 2});
  int32_t axes = b.ints({1, -2});
  int32_t out = b.tensor(F32, {1, 1, 1, 2});
  graph::OpAttrs a;
  a.keep_dims = true;
  b.op(graph::OpKind::kMean, {x, axes}, {out}, a);
  b.output(out);
  auto r = run_graph(b.shared(), {to_bytes(std::vector<float>{1, 10, 2, 20, 3, 30, 4, 40})});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_THAT(values_of<float>((*r)->output(0)), ElementsAre(2.5f, 25));
}

TEST(Mean, LeadingAxisDropsDim) {
  GraphBuilder b;
  int32_t x = b.input(F32, {2, 3});
  int32_t axes = b.ints({0});
  int32_t out = b.tensor(F32, {3});
  b.op(graph::OpKind::kMean, {x, axes}, {out});
  b.output(out);
  auto r = run_graph(b.shared(), {to_bytes(std::vector<float>{1, 2, 3, 5, 6, 7})});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_THAT(values_of<float>((*r)->output(0)), ElementsAre(3, 4, 5));
}

}  // namespace
}  // namespace qdet::rt
