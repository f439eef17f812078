// Layout ops (every dtype): strided slice with every mask, negative strides and offset,
// slice, reshape, squeeze, expand dims, concatenation, pad, transpose, gather, scatter_nd,
// broadcast_to, split.
#include <gmock/gmock.h>

#include <numeric>

#include "graph_builder.h"

namespace qdet::rt {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace testing;  // graph_builder.h: GraphBuilder, run_graph, to_bytes, values_of, per_tensor, F32

std::vector<float> iota_f(int n) {
  std::vector<float> v(n);
  std::iota(v.begin(), v.end(), 0.0f);
  return v;
}

struct SliceSpec {
  std::vector<int32_t> begin, end, strides;
  int begin_mask = 0, end_mask = 0, ellipsis_mask = 0, new_axis_mask = 0, shrink_axis_mask = 0;
  bool offset = false;
};

// Runs STRIDED_SLICE on iota data; `out_shape` is what the graph declares (checked by the
// interpreter against the kernel's computed shape).
std::vector<float> strided_slice(Shape in_shape, SliceSpec s, Shape out_shape) {
  GraphBuilder b;
  int32_t x = b.input(F32, in_shape);
  int32_t begin = b.ints(s.begin), end = b.ints(s.end), strides = b.ints(s.strides);
  int32_t out = b.tensor(F32, out_shape);
  graph::OpAttrs a;
  a.begin_mask = s.begin_mask;
  a.end_mask = s.end_mask;
  a.ellipsis_mask = s.ellipsis_mask;
  a.new_axis_mask = s.new_axis_mask;
  a.shrink_axis_mask = s.shrink_axis_mask;
  a.offset = s.offset;
  b.op(graph::OpKind::kStridedSlice, {x, begin, end, strides}, {out}, a);
  b.output(out);
  auto r = run_graph(b.shared(), {to_bytes(iota_f(static_cast<int>(num_elements(in_shape))))});
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? values_of<float>((*r)->output(0)) : std::vector<float>{};
}

TEST(StridedSlice, StridesAndRanges) {
  // [3,4] = 0..11: rows 1..2, every other column.
  EXPECT_THAT(strided_slice({3, 4}, {{1, 0}, {3, 4}, {1, 2}}, {2, 2}), ElementsAre(4, 6, 8, 10));
}

TEST(StridedSlice, BeginAndEndMasks) {
  // dim 0: begin ignored (mask), end ignored (mask); dim 1: 1 .. -1.
  EXPECT_THAT(strided_slice({3, 4}, {{5, 1}, {0, -1}, {1, 1}, 1, 1}, {3, 2}),
              ElementsAre(1, 2, 5, 6, 9, 10));
}

TEST(StridedSlice, NegativeStrides) {
  // whole reverse: begin -1, end -5 (clamped to -1: one before the start).
  EXPECT_THAT(strided_slice({4}, {{-1}, {-5}, {-1}}, {4}), ElementsAre(3, 2, 1, 0));
  // from 2 backwards in steps of 2 to the start (end_mask).
  EXPECT_THAT(strided_slice({4}, {{2}, {0}, {-2}, 0, 1}, {2}), ElementsAre(2, 0));
  // begin_mask with a negative stride starts at the last element; end 0 is exclusive.
  EXPECT_THAT(strided_slice({5}, {{0}, {0}, {-3}, 1, 0}, {2}), ElementsAre(4, 1));
  EXPECT_THAT(strided_slice({5}, {{0}, {1}, {-3}, 1, 0}, {1}), ElementsAre(4));
  // an empty range.
  EXPECT_THAT(strided_slice({4}, {{1}, {3}, {-1}}, {0}), ElementsAre());
}

TEST(StridedSlice, ShrinkAxis) {
  EXPECT_THAT(strided_slice({3, 4}, {{1, 0}, {2, 4}, {1, 1}, 0, 0, 0, 0, 1}, {4}),
              ElementsAre(4, 5, 6, 7));
  // a negative index shrinks the last row; end is ignored for shrunk dims.
  EXPECT_THAT(strided_slice({3, 4}, {{-1, 2}, {0, 3}, {1, 1}, 0, 0, 0, 0, 3}, {}), ElementsAre(10));
}

TEST(StridedSlice, EllipsisExpandsToLeadingDims) {
  // [2,3,4][..., 1:3]
  auto out = strided_slice({2, 3, 4}, {{0, 1}, {0, 3}, {1, 1}, 0, 0, 1}, {2, 3, 2});
  ASSERT_EQ(out.size(), 12u);
  EXPECT_THAT(std::vector<float>(out.begin(), out.begin() + 4), ElementsAre(1, 2, 5, 6));
  EXPECT_EQ(out.back(), 22);
}

TEST(StridedSlice, NewAxis) {
  // [2,3][newaxis, 0:2, 0:3] -> [1,2,3]
  EXPECT_THAT(strided_slice({2, 3}, {{0, 0, 0}, {0, 2, 3}, {1, 1, 1}, 0, 0, 0, 1}, {1, 2, 3}),
              ElementsAre(0, 1, 2, 3, 4, 5));
}

TEST(StridedSlice, OffsetMakesEndRelative) {
  EXPECT_THAT(strided_slice({5}, {{1}, {3}, {1}, 0, 0, 0, 0, 0, true}, {3}), ElementsAre(1, 2, 3));
}

TEST(StridedSlice, YoloxFocusSlice) {
  // [1,4,4,1][:, 1::2, 0::2, :]
  EXPECT_THAT(strided_slice({1, 4, 4, 1}, {{0, 1, 0, 0}, {1, 4, 4, 1}, {1, 2, 2, 1}}, {1, 2, 2, 1}),
              ElementsAre(4, 6, 12, 14));
}

TEST(StridedSlice, ShrinkOutOfRangeIsAnError) {
  GraphBuilder b;
  int32_t x = b.input(F32, {3});
  int32_t out = b.tensor(F32, {});
  graph::OpAttrs a;
  a.shrink_axis_mask = 1;
  b.op(graph::OpKind::kStridedSlice, {x, b.ints({5}), b.ints({6}), b.ints({1})}, {out}, a);
  b.output(out);
  auto r = Interpreter::create(b.shared());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "op 0 (STRIDED_SLICE): shrink_axis index 5 is out of range for dim 0 of size 3");
}

TEST(Slice, SizeMinusOneTakesTheRest) {
  GraphBuilder b;
  int32_t x = b.input(DType::kInt16, {3, 4});
  int32_t out = b.tensor(DType::kInt16, {2, 3});
  b.op(graph::OpKind::kSlice, {x, b.ints({1, 1}), b.ints({-1, 3})}, {out});
  b.output(out);
  std::vector<int16_t> in(12);
  std::iota(in.begin(), in.end(), int16_t{0});
  auto r = run_graph(b.shared(), {to_bytes(in)});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_THAT(values_of<int16_t>((*r)->output(0)), ElementsAre(5, 6, 7, 9, 10, 11));
}

TEST(Reshape, ShapeInputWithInferredDimAndOptionFallback) {
  GraphBuilder b;
  int32_t x = b.input(DType::kUInt8, {2, 3});
  int32_t mid = b.tensor(DType::kUInt8, {3, 2});
  int32_t out = b.tensor(DType::kUInt8, {6});
  b.op(graph::OpKind::kReshape, {x, b.ints({-1, 2})}, {mid});
  graph::OpAttrs a;
  a.has_new_shape = true;
  a.new_shape = {6};
  b.op(graph::OpKind::kReshape, {mid}, {out}, a);
  b.output(out);
  auto r = run_graph(b.shared(), {to_bytes(std::vector<uint8_t>{1, 2, 3, 4, 5, 6})});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_THAT(values_of<uint8_t>((*r)->output(0)), ElementsAre(1, 2, 3, 4, 5, 6));
}

TEST(Reshape, WrongDeclaredShapeIsReported) {
  GraphBuilder b;
  int32_t x = b.input(F32, {2, 3});
  int32_t out = b.tensor(F32, {2, 3});
  b.op(graph::OpKind::kReshape, {x, b.ints({3, -1})}, {out});
  b.output(out);
  auto r = Interpreter::create(b.shared());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "op 0 (RESHAPE): output 0 (tensor 1 't1') has shape [3,2] but the graph declares [2,3]");
}

TEST(SqueezeExpandDims, RoundTrip) {
  GraphBuilder b;
  int32_t x = b.input(F32, {1, 3, 1});
  int32_t mid = b.tensor(F32, {3});
  int32_t out = b.tensor(F32, {3, 1});
  b.op(graph::OpKind::kSqueeze, {x}, {mid});
  b.op(graph::OpKind::kExpandDims, {mid, b.ints({-1})}, {out});
  b.output(out);
  auto r = run_graph(b.shared(), {to_bytes(std::vector<float>{1, 2, 3})});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_THAT(values_of<float>((*r)->output(0)), ElementsAre(1, 2, 3));
}

TEST(Concatenation, LastAxisFloatWithActivation) {
  GraphBuilder b;
  int32_t x = b.input(F32, {2, 1});
  int32_t y = b.input(F32, {2, 2});
  int32_t out = b.tensor(F32, {2, 3});
  graph::OpAttrs a;
  a.axis = -1;
  a.activation = graph::Activation::kRelu;
  b.op(graph::OpKind::kConcatenation, {x, y}, {out}, a);
  b.output(out);
  auto r = run_graph(b.shared(), {to_bytes(std::vector<float>{1, -2}),
                                  to_bytes(std::vector<float>{3, 4, -5, 6})});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_THAT(values_of<float>((*r)->output(0)), ElementsAre(1, 3, 4, 0, 0, 6));
}

TEST(Concatenation, QuantizedSameParamsCopiesDifferentParamsUnsupported) {
  for (bool same : {true, false}) {
    GraphBuilder b;
    int32_t x = b.input(DType::kInt8, {1, 2}, testing::per_tensor(0.5f, 1));
    int32_t y = b.input(DType::kInt8, {1, 1}, testing::per_tensor(same ? 0.5f : 0.25f, 1));
    int32_t out = b.tensor(DType::kInt8, {1, 3}, testing::per_tensor(0.5f, 1));
    graph::OpAttrs a;
    a.axis = 1;
    b.op(graph::OpKind::kConcatenation, {x, y}, {out}, a);
    b.output(out);
    auto r = run_graph(b.shared(), {to_bytes(std::vector<int8_t>{-1, 2}), to_bytes(std::vector<int8_t>{7})},
                       {.use_fast_kernels = false});
    if (same) {
      ASSERT_TRUE(r.ok()) << r.status().message();
      EXPECT_THAT(values_of<int8_t>((*r)->output(0)), ElementsAre(-1, 2, 7));
    } else if (!r.ok()) {  // a requantizing kernel may be registered beside this one
      EXPECT_EQ(r.status().code(), StatusCode::kUnsupported);
      EXPECT_THAT(r.status().message(), HasSubstr("input 1 and the output have different quantization"));
    }
  }
}

TEST(Pad, QuantizedPadsWithZeroPoint) {
  GraphBuilder b;
  int32_t x = b.input(DType::kUInt8, {1, 2});
  b.graph().tensors[x].quant = testing::per_tensor(0.1f, 128);
  int32_t pads = b.constant(DType::kInt32, {2, 2}, std::vector<int32_t>{0, 1, 1, 2});
  int32_t out = b.tensor(DType::kUInt8, {2, 5}, testing::per_tensor(0.1f, 128));
  b.op(graph::OpKind::kPad, {x, pads}, {out});
  b.output(out);
  auto r = run_graph(b.shared(), {to_bytes(std::vector<uint8_t>{7, 9})});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_THAT(values_of<uint8_t>((*r)->output(0)),
              ElementsAre(128, 7, 9, 128, 128, 128, 128, 128, 128, 128));
}

TEST(Pad, FloatZeroAndPadV2Value) {
  for (bool v2 : {false, true}) {
    GraphBuilder b;
    int32_t x = b.input(F32, {2, 1});
    int32_t pads = b.constant(DType::kInt32, {2, 2}, std::vector<int32_t>{1, 0, 0, 1});
    int32_t out = b.tensor(F32, {3, 2});
    if (v2) {
      int32_t value = b.constant(F32, {}, std::vector<float>{-1});
      b.op(graph::OpKind::kPadV2, {x, pads, value}, {out});
    } else {
      b.op(graph::OpKind::kPad, {x, pads}, {out});
    }
    b.output(out);
    auto r = run_graph(b.shared(), {to_bytes(std::vector<float>{5, 6})});
    ASSERT_TRUE(r.ok()) << r.status().message();
    const float p = v2 ? -1.0f : 0.0f;
    EXPECT_THAT(values_of<float>((*r)->output(0)), ElementsAre(p, p, 5, p, 6, p));
  }
}

TEST(Transpose, Rank3Permutation) {
  GraphBuilder b;
  int32_t x = b.input(F32, {2, 3, 2});
  int32_t out = b.tensor(F32, {2, 2, 3});
  b.op(graph::OpKind::kTranspose, {x, b.ints({2, 0, 1})}, {out});
  b.output(out);
  auto r = run_graph(b.shared(), {to_bytes(iota_f(12))});
  ASSERT_TRUE(r.ok()) << r.status().message();
  // out[k][i][j] = in[i][j][k] = 6i + 2j + k
  EXPECT_THAT(values_of<float>((*r)->output(0)), ElementsAre(0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11));
}

TEST(Gather, AxisOneAndOutOfRangeIndex) {
  for (bool bad : {false, true}) {
    GraphBuilder b;
    int32_t x = b.input(F32, {2, 3});
    int32_t idx = b.input(DType::kInt32, {2});
    int32_t out = b.tensor(F32, {2, 2});
    graph::OpAttrs a;
    a.axis = 1;
    b.op(graph::OpKind::kGather, {x, idx}, {out}, a);
    b.output(out);
    auto r = run_graph(b.shared(), {to_bytes(iota_f(6)), to_bytes(std::vector<int32_t>{2, bad ? 3 : 0})});
    if (bad) {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.status().message(), "op 0 (GATHER): index 3 is out of range [0, 3)");
    } else {
      ASSERT_TRUE(r.ok()) << r.status().message();
      EXPECT_THAT(values_of<float>((*r)->output(0)), ElementsAre(2, 0, 5, 3));
    }
  }
}

// Constant indices in an arithmetic progression (a channel split or shuffle) take the strided
// copy path; the same gather with the indices as an input takes the general loop: equal, for
// scalar and vector indices, steps 1, 2 and -1, on the last and a middle axis.
TEST(Gather, ConstantProgressionEqualsTheGeneralLoop) {
  struct Case {
    Shape params;
    int32_t axis;
    Shape indices_shape;
    std::vector<int32_t> indices;
  };
  const std::vector<Case> cases = {
      {{1, 5, 6, 7, 2}, 4, {}, {1}},                    // FastestDet's shuffle: a scalar on an axis of 2
      {{1, 4, 4, 16}, 3, {8}, {0, 2, 4, 6, 8, 10, 12, 14}},  // even channels
      {{1, 4, 4, 16}, 3, {12}, {3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}},
      {{2, 9, 3}, 1, {4}, {8, 7, 6, 5}},                 // step -1, a middle axis
      {{2, 9, 3}, 1, {3}, {0, 4, 5}},                    // no progression: the general loop
  };
  for (const Case& c : cases) {
    std::vector<std::vector<float>> results;
    for (const bool constant : {true, false}) {
      GraphBuilder b;
      const int32_t x = b.input(F32, c.params);
      const int32_t idx = constant ? b.constant(DType::kInt32, c.indices_shape, c.indices)
                                   : b.input(DType::kInt32, c.indices_shape);
      Shape out_shape(c.params.begin(), c.params.begin() + c.axis);
      out_shape.insert(out_shape.end(), c.indices_shape.begin(), c.indices_shape.end());
      out_shape.insert(out_shape.end(), c.params.begin() + c.axis + 1, c.params.end());
      const int32_t out = b.tensor(F32, out_shape);
      graph::OpAttrs a;
      a.axis = c.axis;
      b.op(graph::OpKind::kGather, {x, idx}, {out}, a);
      b.output(out);
      int64_t n = 1;
      for (int32_t d : c.params) n *= d;
      std::vector<std::vector<uint8_t>> inputs = {to_bytes(iota_f(static_cast<int>(n)))};
      if (!constant) inputs.push_back(to_bytes(c.indices));
      auto r = run_graph(b.shared(), inputs);
      ASSERT_TRUE(r.ok()) << r.status().message();
      results.push_back(values_of<float>((*r)->output(0)));
    }
    EXPECT_EQ(results[0], results[1]) << shape_to_string(c.params) << " axis " << c.axis;
    EXPECT_FALSE(results[0].empty());
  }
}

TEST(ScatterNd, DuplicatesAddAndBadIndexIsAnError) {
  for (int32_t last : {1, 4, -1}) {
    GraphBuilder b;
    int32_t idx = b.input(DType::kInt32, {3, 1});
    int32_t upd = b.input(F32, {3, 2});
    int32_t out = b.tensor(F32, {4, 2});
    b.op(graph::OpKind::kScatterNd, {idx, upd, b.ints({4, 2})}, {out});
    b.output(out);
    auto r = run_graph(b.shared(), {to_bytes(std::vector<int32_t>{3, 1, last}),
                                    to_bytes(std::vector<float>{1, 2, 3, 4, 5, 6})});
    if (last == 1) {
      ASSERT_TRUE(r.ok()) << r.status().message();
      EXPECT_THAT(values_of<float>((*r)->output(0)), ElementsAre(0, 0, 8, 10, 0, 0, 1, 2));
    } else {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.status().message(),
                fmt::format("op 0 (SCATTER_ND): index {} of dim 0 is out of range [0, 4)", last));
    }
  }
}

TEST(BroadcastTo, RepeatsOnesAndLeadingDims) {
  GraphBuilder b;
  int32_t x = b.input(DType::kInt32, {3, 1});
  int32_t out = b.tensor(DType::kInt32, {2, 3, 2});
  b.op(graph::OpKind::kBroadcastTo, {x, b.ints({2, 3, 2})}, {out});
  b.output(out);
  auto r = run_graph(b.shared(), {to_bytes(std::vector<int32_t>{1, 2, 3})});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_THAT(values_of<int32_t>((*r)->output(0)), ElementsAre(1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3));
}

TEST(Split, EqualPiecesAndSplitV) {
  GraphBuilder b;
  int32_t x = b.input(F32, {2, 4});
  int32_t o1 = b.tensor(F32, {2, 2}), o2 = b.tensor(F32, {2, 2});
  graph::OpAttrs a;
  a.num_splits = 2;
  b.op(graph::OpKind::kSplit, {b.ints({1}), x}, {o1, o2}, a);
  int32_t v1 = b.tensor(F32, {2, 1}), v2 = b.tensor(F32, {2, 3});
  b.op(graph::OpKind::kSplitV, {x, b.ints({1, -1}), b.ints({-1})}, {v1, v2});
  b.output(o1);
  b.output(o2);
  b.output(v1);
  b.output(v2);
  auto r = run_graph(b.shared(), {to_bytes(iota_f(8))});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_THAT(values_of<float>((*r)->output(0)), ElementsAre(0, 1, 4, 5));
  EXPECT_THAT(values_of<float>((*r)->output(1)), ElementsAre(2, 3, 6, 7));
  EXPECT_THAT(values_of<float>((*r)->output(2)), ElementsAre(0, 4));
  EXPECT_THAT(values_of<float>((*r)->output(3)), ElementsAre(1, 2, 3, 5, 6, 7));
}

}  // namespace
}  // namespace qdet::rt
